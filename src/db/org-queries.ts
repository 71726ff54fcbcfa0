import { and, count, eq, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import { notFound } from "../core/errors";
import type { PageRequest } from "../core/pagination";
import { finishPage, type PagePlan, planPage, type SortKey } from "./keyset";

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

/**
 * The page query and the total query of a list, unexecuted (a bench or a test can
 * print their plans): `table` rows matching `where` in the order of `keys` (end them
 * with the id so every row has one position), from the plan's offset or after its
 * cursor. `keptTotal` replaces the COUNT(*) when a kept counter knows the total; it
 * must select one row `{ total }`. In cursor mode there is no total query.
 */
export function pageQueries<T extends SQLiteTable>(
  db: DrizzleD1Database,
  table: T,
  where: SQL | undefined,
  plan: PagePlan,
  keptTotal?: SQLiteSelectTotal,
) {
  const page = db
    .select()
    .from(table as SQLiteTable)
    .where(and(where, plan.after))
    .orderBy(...plan.orderBy)
    .limit(plan.fetch)
    .offset(plan.offset);
  const total = !plan.counted
    ? undefined
    : (keptTotal ??
      db
        .select({ total: count() })
        .from(table as SQLiteTable)
        .where(where));
  return { page, total };
}

/** A query selecting one row `{ total }`. */
type SQLiteSelectTotal = BatchItem<"sqlite"> & { toSQL(): { sql: string; params: unknown[] } };

/**
 * One page of `table` rows and, in page mode, the total (`pageQueries`), read in one
 * D1 round trip (one consistent snapshot), shaped as `{data, pagination}` by `present`.
 * `request` holds the list's filters too: a cursor is refused with other filters.
 */
export async function listPage<T extends SQLiteTable, Out, R extends PageRequest>(
  db: DrizzleD1Database,
  table: T,
  where: SQL | undefined,
  keys: SortKey[],
  request: R,
  present: (row: T["$inferSelect"]) => Out,
  keptTotal?: SQLiteSelectTotal,
) {
  const plan = await planPage(keys, request);
  const { page, total } = pageQueries(db, table, where, plan, keptTotal);
  const [rows, totals] = total ? await db.batch([page, total]) : [await page, undefined];
  const counted = (totals as { total: number | string }[] | undefined)?.[0]?.total;
  return finishPage(keys, request, rows as T["$inferSelect"][], present, total ? Number(counted ?? 0) : undefined);
}
