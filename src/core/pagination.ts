/**
 * Pagination over every collection: page numbers (`page`, with totals) or a cursor
 * (`cursor`, keyset, no totals); both answer `nextCursor`. See README "Lists".
 */

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 100;

export interface PageRequest {
  /** Absent in cursor mode; page mode reads it as 1 when absent. */
  page?: number;
  limit: number;
  /** A `nextCursor` from an earlier answer to the same list, sort and filters. */
  cursor?: string;
  sortBy: string;
  order: "asc" | "desc";
}

/** Page mode carries the totals; cursor mode leaves them out rather than count every row. */
export interface Pagination {
  limit: number;
  nextCursor: string | null;
  total?: number;
  page?: number;
  totalPages?: number;
}

export function toPage<T>(data: T[], total: number | undefined, request: PageRequest, nextCursor: string | null) {
  const { limit } = request;
  const pagination: Pagination =
    total === undefined
      ? { limit, nextCursor }
      : { total, page: request.page ?? 1, limit, totalPages: Math.ceil(total / limit), nextCursor };
  return { data, pagination };
}

export function offsetOf({ page = 1, limit }: Pick<PageRequest, "page" | "limit">): number {
  return (page - 1) * limit;
}
