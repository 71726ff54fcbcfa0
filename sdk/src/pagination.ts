/** What every list answers: `{data, pagination}`; `nextCursor` where the API pages by cursor. */
export interface Page<T> {
  data: T[];
  pagination: {
    page?: number;
    totalPages?: number;
    /** The `cursor` of the next page; `null` on the last one. */
    nextCursor?: string | null;
  };
}

/** A list's query: its filters plus the paging parameters the iterator sets. */
export type PageQuery = { page?: number; cursor?: string };

/**
 * Every item of a list, page after page, requesting the next page only when the loop
 * reaches it. Follows `pagination.nextCursor` with the `cursor` query parameter until it
 * is `null`; against an API that answers no `nextCursor`, counts `page` up to `totalPages`.
 */
export async function* iterate<T, Q extends PageQuery>(
  fetchPage: (query: Q) => Promise<Page<T>>,
  query: Q,
): AsyncGenerator<T, void, undefined> {
  let next: Q = query;
  for (;;) {
    const page = await fetchPage(next);
    yield* page.data;
    const { nextCursor, page: number, totalPages } = page.pagination;
    if (typeof nextCursor === "string" && nextCursor !== "") {
      const { page: _page, ...rest } = next;
      next = { ...rest, cursor: nextCursor } as Q;
    } else if (nextCursor === undefined && number !== undefined && totalPages !== undefined && number < totalPages) {
      if (page.data.length === 0) return;
      next = { ...next, page: number + 1 };
    } else {
      return;
    }
  }
}
