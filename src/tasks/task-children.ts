import { and, eq } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import { notFound } from "../core/errors";
import type { PageRequest } from "../core/pagination";
import { finishPage, planPage, type SortKey } from "../db/keyset";
import { pageQueries } from "../db/org-queries";
import { tasks } from "../db/schema";

/** Reads shared by the rows that belong to a task (comments, attachments), which are presented with its project id. */

type TaskChildTable = SQLiteTable & { orgId: SQLiteColumn; id: SQLiteColumn; taskId: SQLiteColumn };

/**
 * One page of the task's `table` rows in the order of `keys`, each presented with the
 * task's project id; 404 when the task is not in the organization. The task, the page
 * and its total are read in one round trip.
 */
export async function listTaskChildren<T extends TaskChildTable, Out, Q extends PageRequest>(
  db: DrizzleD1Database,
  table: T,
  orgId: string,
  taskId: string,
  keys: SortKey[],
  query: Q,
  present: (row: T["$inferSelect"], projectId: string) => Out,
) {
  const where = and(eq(table.orgId, orgId), eq(table.taskId, taskId));
  // The task id joins the filters, so a cursor from one task's list is refused on another's.
  const request = { ...query, taskId };
  const plan = await planPage(keys, request);
  const { page, total } = pageQueries(db, table, where, plan);
  const task = db
    .select({ projectId: tasks.projectId })
    .from(tasks)
    .where(and(eq(tasks.orgId, orgId), eq(tasks.id, taskId)));
  // In cursor mode there is no total to read.
  const [taskRows, rows, totals] = await db.batch(total ? [task, page, total] : [task, page]);
  const found = taskRows[0];
  if (!found) throw notFound("Task");
  const counted = (totals as { total: number }[] | undefined)?.[0]?.total;
  return finishPage(
    keys,
    request,
    rows as T["$inferSelect"][],
    (row) => present(row, found.projectId),
    total ? (counted ?? 0) : undefined,
  );
}

/** The task child with this id and its task's project id, or 404 naming `what` (another organization's too). */
export async function findTaskChild<T extends TaskChildTable>(
  db: DrizzleD1Database,
  table: T,
  orgId: string,
  id: string,
  what: string,
): Promise<{ row: T["$inferSelect"]; projectId: string }> {
  const [found] = await db
    .select({ row: table as SQLiteTable, projectId: tasks.projectId })
    .from(table as SQLiteTable)
    .innerJoin(tasks, eq(tasks.id, table.taskId))
    .where(and(eq(table.orgId, orgId), eq(table.id, id)));
  if (!found) throw notFound(what);
  return found as { row: T["$inferSelect"]; projectId: string };
}
