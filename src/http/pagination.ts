import { z } from "@hono/zod-openapi";

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 100;

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

export interface PageRequest {
  page: number;
  limit: number;
}

export const PaginationSchema = z
  .object({ total: z.number().int(), page: z.number().int(), limit: z.number().int(), totalPages: z.number().int() })
  .openapi("Pagination");

export function pageSchema<T extends z.ZodType>(item: T, name: string) {
  return z.object({ data: z.array(item), pagination: PaginationSchema }).openapi(name);
}

export function toPage<T>(data: T[], total: number, { page, limit }: PageRequest) {
  return { data, pagination: { total, page, limit, totalPages: Math.ceil(total / limit) } };
}

export function offsetOf({ page, limit }: PageRequest): number {
  return (page - 1) * limit;
}
