import { asc, desc, getTableColumns, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import { type CursorValue, decodeCursor, encodeCursor } from "../core/cursor";
import { offsetOf, type PageRequest, toPage } from "../core/pagination";

/**
 * Keyset pagination: the ORDER BY of a list and, in cursor mode, the condition "after
 * the last row sent" as one SQLite row-value comparison, which an index whose columns
 * are the sort keys in order serves as a range (`(created_at,id)<(?,?)` in EXPLAIN
 * QUERY PLAN), so a deep page reads `limit` index entries, like page 1.
 */

/** One ORDER BY key: a column, compared case-insensitively or with NULL read as "" if asked. */
export interface SortKey {
  column: SQLiteColumn;
  field: string;
  /** Compared with COLLATE NOCASE (the index column must be too). */
  nocase?: boolean;
  /** A nullable column: NULL reads as "", before every value, as SQLite sorts NULL. */
  nullable?: boolean;
}

type Field<T extends SQLiteTable> = keyof T["$inferSelect"] & string;

/** The sort keys of `table`, in order; end them with a unique column (the id) so every row has one position. */
export function sortKeys<T extends SQLiteTable>(
  table: T,
  keys: (Field<T> | { field: Field<T>; nocase?: boolean; nullable?: boolean })[],
): SortKey[] {
  const columns = getTableColumns(table) as Record<string, SQLiteColumn>;
  return keys.map((key) => {
    const spec = typeof key === "string" ? { field: key } : key;
    const column = columns[spec.field];
    if (!column) throw new Error(`No column ${spec.field}`);
    return { ...spec, column };
  });
}

function expressionOf(key: SortKey): SQL {
  if (key.nocase) return sql`${key.column} COLLATE NOCASE`;
  if (key.nullable) return sql`coalesce(${key.column}, '')`;
  return sql`${key.column}`;
}

export function orderByOf(keys: SortKey[], order: "asc" | "desc"): SQL[] {
  const direction = order === "asc" ? asc : desc;
  return keys.map((key) => direction(expressionOf(key)));
}

/**
 * Rows after `after` in this order. The left side is bare columns so SQLite matches
 * them to the index; NOCASE goes on the right-hand value, which SQLite then uses for
 * the comparison (an explicit COLLATE on either side wins).
 */
export function afterPosition(keys: SortKey[], order: "asc" | "desc", after: CursorValue[]): SQL {
  const left = keys.map((key) => (key.nullable ? expressionOf(key) : sql`${key.column}`));
  const right = keys.map((key, i) => (key.nocase ? sql`${after[i]} COLLATE NOCASE` : sql`${after[i]}`));
  const op = order === "asc" ? sql.raw(">") : sql.raw("<");
  return sql`(${sql.join(left, sql`, `)}) ${op} (${sql.join(right, sql`, `)})`;
}

/** The row's sort-key values: what its cursor holds. */
export function positionOf(keys: SortKey[], row: Record<string, unknown>): CursorValue[] {
  return keys.map((key) => {
    const value = row[key.field];
    return value === null || value === undefined ? "" : (value as CursorValue);
  });
}

/**
 * How to read one page of a request: page mode skips `offset` rows and counts the
 * total; cursor mode starts after the cursor's row and counts nothing. Both read one
 * row more than `limit`, to know whether there is a next page without counting.
 */
export interface PagePlan {
  orderBy: SQL[];
  after: SQL | undefined;
  offset: number;
  fetch: number;
  counted: boolean;
}

export async function planPage(keys: SortKey[], request: PageRequest): Promise<PagePlan> {
  const orderBy = orderByOf(keys, request.order);
  if (request.cursor === undefined) {
    return { orderBy, after: undefined, offset: offsetOf(request), fetch: request.limit + 1, counted: true };
  }
  const after = await decodeCursor(request.cursor, request, keys.length);
  return {
    orderBy,
    after: afterPosition(keys, request.order, after),
    offset: 0,
    fetch: request.limit + 1,
    counted: false,
  };
}

/** `{data, pagination}` from the rows read by a plan (up to `limit + 1`) and, in page mode, the total. */
export async function finishPage<Row extends Record<string, unknown>, Out>(
  keys: SortKey[],
  request: PageRequest,
  rows: Row[],
  present: (row: Row) => Out,
  total: number | undefined,
) {
  const shown = rows.slice(0, request.limit);
  const last = shown.at(-1);
  const nextCursor =
    rows.length > request.limit && last !== undefined ? await encodeCursor(request, positionOf(keys, last)) : null;
  return toPage(shown.map(present), request.cursor === undefined ? total : undefined, request, nextCursor);
}
