import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { DEFAULT_LIMIT, MAX_LIMIT } from "../core/pagination";

/**
 * The query every collection takes — `page` or `cursor`, `limit`, `sortBy`, `order` —
 * plus the collection's own filters. Unknown parameters are refused by name.
 */
export function listQuery<const S extends readonly [string, ...string[]], F extends z.ZodRawShape>(
  sortFields: S,
  defaultSort: S[number],
  filters: F,
) {
  return z
    .strictObject({
      page: z.coerce.number().int().min(1).optional().openapi({
        example: 1,
        description: "Page mode (the default): the page number, 1 when absent. Not with `cursor`.",
      }),
      cursor: z.string().min(1).max(2048).optional().openapi({
        description:
          'Cursor mode: `pagination.nextCursor` of an earlier answer, sent with the same `sortBy`, `order` and filters (otherwise 400 naming `cursor`); `limit` may change. Not with `page`. Every answer, page mode included, carries `nextCursor`, so a client starts with an ordinary first request and follows it (or the `Link: rel="next"` header). Cursor-mode answers leave out `total`, `page` and `totalPages`.',
      }),
      limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT).openapi({ example: DEFAULT_LIMIT }),
      sortBy: z.enum(sortFields).default(defaultSort as never),
      order: z.enum(["asc", "desc"]).default("desc"),
      ...filters,
    })
    .superRefine((query, ctx) => {
      const { cursor, page } = query as { cursor?: string; page?: number };
      if (cursor !== undefined && page !== undefined) {
        ctx.addIssue({ code: "custom", path: ["cursor"], message: "send either page or cursor, not both" });
      }
    });
}

export const PaginationSchema = z
  .object({
    limit: z.number().int(),
    nextCursor: z.string().nullable().openapi({
      description:
        'Pass as `cursor` for the rows after this page (same sort and filters); null on the last page. Also in the `Link: <…>; rel="next"` header.',
    }),
    total: z.number().int().optional().openapi({ description: "Page mode only: the rows matching the filters" }),
    page: z.number().int().optional().openapi({ description: "Page mode only" }),
    totalPages: z.number().int().optional().openapi({ description: "Page mode only" }),
  })
  .openapi("Pagination");

export function pageSchema<T extends z.ZodType>(item: T, name: string) {
  return z.object({ data: z.array(item), pagination: PaginationSchema }).openapi(name);
}

/**
 * RFC 8288 `Link: <…>; rel="next"`: this request's URL with `cursor` set to the next
 * page's (and `page` dropped, which cannot go with it). Absent on the last page.
 */
export function linkNextPage(c: Context, page: { pagination: { nextCursor: string | null } }): void {
  const { nextCursor } = page.pagination;
  if (nextCursor === null) return;
  const url = new URL(c.req.url);
  url.searchParams.delete("page");
  url.searchParams.set("cursor", nextCursor);
  c.header("Link", `<${url.href}>; rel="next"`);
}
