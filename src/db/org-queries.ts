import { and, asc, count, desc, eq, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import { notFound } from "../core/errors";
import { offsetOf, type PageRequest, toPage } from "../core/pagination";

/** Queries every organization-owned table shares: one row by id, one page of rows. */

type OrgTable = SQLiteTable & { orgId: SQLiteColumn; id: SQLiteColumn };

/** The row with this id in this organization, or 404 naming `what`: another organization's row is not found either. */
export async function findInOrg<T extends OrgTable>(
  db: DrizzleD1Database,
  table: T,
  orgId: string,
  id: string,
  what: string,
): Promise<T["$inferSelect"]> {
  const [row] = await db
    .select()
    .from(table as SQLiteTable)
    .where(and(eq(table.orgId, orgId), eq(table.id, id)));
  if (!row) throw notFound(what);
  return row as T["$inferSelect"];
}

export interface ListRequest extends PageRequest {
  order: "asc" | "desc";
}

/**
 * The page query and the total query of a list, unexecuted (a bench or a test can
 * print their plans): `table` rows matching `where`, ordered by `sortKeys` (end them
 * with a unique column so pages are stable). `keptTotal` replaces the COUNT(*) when a
 * kept counter knows the total; it must select one row `{ total }`.
 */
export function pageQueries<T extends SQLiteTable>(
  db: DrizzleD1Database,
  table: T,
  where: SQL | undefined,
  sortKeys: (SQLiteColumn | SQL)[],
  query: ListRequest,
  keptTotal?: SQLiteSelectTotal,
) {
  const direction = query.order === "asc" ? asc : desc;
  const page = db
    .select()
    .from(table as SQLiteTable)
    .where(where)
    .orderBy(...sortKeys.map((key) => direction(key)))
    .limit(query.limit)
    .offset(offsetOf(query));
  const total =
    keptTotal ??
    db
      .select({ total: count() })
      .from(table as SQLiteTable)
      .where(where);
  return { page, total };
}

/** A query selecting one row `{ total }`. */
type SQLiteSelectTotal = BatchItem<"sqlite"> & { toSQL(): { sql: string; params: unknown[] } };

/**
 * One page of `table` rows and the total (`pageQueries`), read in one D1 round trip
 * (one consistent snapshot), shaped as `{data, pagination}` by `present`.
 */
export async function listPage<T extends SQLiteTable, Out>(
  db: DrizzleD1Database,
  table: T,
  where: SQL | undefined,
  sortKeys: (SQLiteColumn | SQL)[],
  query: ListRequest,
  present: (row: T["$inferSelect"]) => Out,
  keptTotal?: SQLiteSelectTotal,
) {
  const { page, total } = pageQueries(db, table, where, sortKeys, query, keptTotal);
  const [rows, totals] = await db.batch([page, total]);
  const [first] = totals as { total: number | string }[];
  return toPage((rows as T["$inferSelect"][]).map(present), Number(first?.total ?? 0), query);
}
