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
 * One page of `table` rows matching `where`, ordered by `sortKeys` (end them with a
 * unique column so pages are stable), and the total — in one D1 round trip — shaped
 * as `{data, pagination}` by `present`. `totalQuery` replaces the COUNT(*) when a kept
 * counter knows the total (it must select one row `{ total }`).
 */
export async function listPage<T extends SQLiteTable, Out>(
  db: DrizzleD1Database,
  table: T,
  where: SQL | undefined,
  sortKeys: (SQLiteColumn | SQL)[],
  query: ListRequest,
  present: (row: T["$inferSelect"]) => Out,
  _totalQuery?: BatchItem<"sqlite">,
) {
  const direction = query.order === "asc" ? asc : desc;
  const [rows, [totals]] = await db.batch([
    db
      .select()
      .from(table as SQLiteTable)
      .where(where)
      .orderBy(...sortKeys.map((key) => direction(key)))
      .limit(query.limit)
      .offset(offsetOf(query)),
    db
      .select({ total: count() })
      .from(table as SQLiteTable)
      .where(where),
  ]);
  return toPage((rows as T["$inferSelect"][]).map(present), totals?.total ?? 0, query);
}
