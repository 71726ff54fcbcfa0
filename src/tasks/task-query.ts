import { and, count, eq, gte, lt, type SQL, sql } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import type { PageRequest } from "../core/pagination";
import { finishPage, planPage, type SortKey, sortKeys } from "../db/keyset";
import { taskCounts, tasks, taskTags } from "../db/schema";
import { presentTask, TASK_PRIORITIES, type TaskPriority, type TaskStatus } from "./tasks";

export const TASK_SORT_FIELDS = ["createdAt", "updatedAt", "dueDate", "priority", "title"] as const;
export type TaskSortField = (typeof TASK_SORT_FIELDS)[number];

export interface TaskFilters {
  projectId?: string;
  status?: TaskStatus;
  assigneeId?: string;
  priority?: TaskPriority;
  tag?: string;
  /** ISO 8601 UTC bounds: `…After` is inclusive, `…Before` exclusive ([after, before)). */
  dueAfter?: string;
  dueBefore?: string;
  completedAfter?: string;
  completedBefore?: string;
}

export interface TaskListQuery extends PageRequest, TaskFilters {
  sortBy: TaskSortField;
  order: "asc" | "desc";
}

/**
 * ORDER BY keys per sort, all in the requested direction, ending in created_at and
 * id so pages are stable. Each list matches an index in src/db/schema.ts exactly
 * (same columns, same order), so page 1 and a cursor's page read `limit` index
 * entries, not the organization's tasks. A missing due date counts as the latest one
 * (`due_sort` reads it as "~").
 */
const SORT_KEYS: Record<TaskSortField, SortKey[]> = {
  createdAt: sortKeys(tasks, ["createdAt", "id"]),
  updatedAt: sortKeys(tasks, ["updatedAt", "createdAt", "id"]),
  dueDate: sortKeys(tasks, ["dueSort", "createdAt", "id"]),
  priority: sortKeys(tasks, ["priorityRank", "createdAt", "id"]),
  title: sortKeys(tasks, [{ field: "title", nocase: true }, "createdAt", "id"]),
};

export function taskListWhere(orgId: string, f: TaskFilters): SQL {
  return and(
    // With a tag, start from the tag's rows in task_tags (cost follows the tag's
    // tasks, not the organization's): unary + keeps the planner off the org indexes.
    f.tag !== undefined ? sql`+${tasks.orgId} = ${orgId}` : eq(tasks.orgId, orgId),
    f.projectId !== undefined ? eq(tasks.projectId, f.projectId) : undefined,
    f.status !== undefined ? eq(tasks.status, f.status) : undefined,
    f.assigneeId !== undefined ? eq(tasks.assigneeId, f.assigneeId) : undefined,
    // By rank, so the priority index serves the filter as well as the sort.
    f.priority !== undefined ? eq(tasks.priorityRank, TASK_PRIORITIES.indexOf(f.priority)) : undefined,
    f.tag !== undefined
      ? sql`${tasks.id} IN (SELECT ${taskTags.taskId} FROM ${taskTags} WHERE ${taskTags.orgId} = ${orgId} AND ${taskTags.tag} = ${f.tag})`
      : undefined,
    f.dueAfter !== undefined ? gte(tasks.dueDate, f.dueAfter) : undefined,
    f.dueBefore !== undefined ? lt(tasks.dueDate, f.dueBefore) : undefined,
    f.completedAfter !== undefined ? gte(tasks.completedAt, f.completedAfter) : undefined,
    f.completedBefore !== undefined ? lt(tasks.completedAt, f.completedBefore) : undefined,
  ) as SQL;
}

/**
 * Filters `task_counts` (kept by triggers) can total: the organization's tasks, or
 * those of a project, status or priority. Any other filter counts matching rows.
 */
const COUNTED_FILTERS = new Set<keyof TaskFilters>(["projectId", "status", "priority"]);

function countableFromCounters(f: TaskFilters): boolean {
  return (Object.keys(f) as (keyof TaskFilters)[]).every((k) => f[k] === undefined || COUNTED_FILTERS.has(k));
}

/** The page query and, in page mode, the total query (unexecuted, so the bench can print their plans). */
export async function taskListQueries(db: DrizzleD1Database, orgId: string, query: TaskListQuery) {
  const filters: TaskFilters = {
    projectId: query.projectId,
    status: query.status,
    assigneeId: query.assigneeId,
    priority: query.priority,
    tag: query.tag,
    dueAfter: query.dueAfter,
    dueBefore: query.dueBefore,
    completedAfter: query.completedAfter,
    completedBefore: query.completedBefore,
  };
  const where = taskListWhere(orgId, filters);
  const plan = await planPage(SORT_KEYS[query.sortBy], query);
  const page = db
    .select()
    .from(tasks)
    .where(and(where, plan.after))
    .orderBy(...plan.orderBy)
    .limit(plan.fetch)
    .offset(plan.offset);
  const total = !plan.counted
    ? undefined
    : countableFromCounters(filters)
      ? db
          .select({ total: sql<number>`coalesce(sum(${taskCounts.n}), 0)` })
          .from(taskCounts)
          .where(
            and(
              eq(taskCounts.orgId, orgId),
              filters.projectId !== undefined ? eq(taskCounts.projectId, filters.projectId) : undefined,
              filters.status !== undefined ? eq(taskCounts.status, filters.status) : undefined,
              filters.priority !== undefined ? eq(taskCounts.priority, filters.priority) : undefined,
            ),
          )
      : db.select({ total: count() }).from(tasks).where(where);
  return { page, total };
}

/** One page of tasks and, in page mode, the total, read in one batch (one consistent snapshot). */
export async function listTasks(db: DrizzleD1Database, orgId: string, query: TaskListQuery) {
  const { page, total } = await taskListQueries(db, orgId, query);
  const [rows, totals] = total ? await db.batch([page, total]) : [await page, undefined];
  const counted = total ? Number(totals?.[0]?.total ?? 0) : undefined;
  return finishPage(SORT_KEYS[query.sortBy], query, rows, presentTask, counted);
}
