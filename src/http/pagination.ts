import { z } from "@hono/zod-openapi";
import { DEFAULT_LIMIT, MAX_LIMIT } from "../core/pagination";

/**
 * The query every collection takes — `page`, `limit`, `sortBy`, `order` — plus the
 * collection's own filters. Unknown parameters are refused by name.
 */
export function listQuery<const S extends readonly [string, ...string[]], F extends z.ZodRawShape>(
  sortFields: S,
  defaultSort: S[number],
  filters: F,
) {
  return z.strictObject({
    page: z.coerce.number().int().min(1).default(1).openapi({ example: 1 }),
    limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT).openapi({ example: DEFAULT_LIMIT }),
    sortBy: z.enum(sortFields).default(defaultSort as never),
    order: z.enum(["asc", "desc"]).default("desc"),
    ...filters,
  });
}

export const PaginationSchema = z
  .object({ total: z.number().int(), page: z.number().int(), limit: z.number().int(), totalPages: z.number().int() })
  .openapi("Pagination");

export function pageSchema<T extends z.ZodType>(item: T, name: string) {
  return z.object({ data: z.array(item), pagination: PaginationSchema }).openapi(name);
}
