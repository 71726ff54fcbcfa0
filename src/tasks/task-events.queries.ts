// Task events written set-based, one statement for all of a cascade's tasks: the query
// builder has no INSERT … SELECT building JSON per row.
import { type SQL, sql } from "drizzle-orm";
import type { WriteContext } from "../core/write-context";
import { tasks, users } from "../db/schema";
import { type DerivedEvents, eventsFromRows } from "../events/outbox";

/**
 * A task row's event `data` in SQL: the same fields in the same order as
 * `taskEventData` (tasks.ts), with `projectName` given and `assigneeName` read per row.
 */
function taskEventDataSql(projectName: SQL): SQL {
  return sql`json_object(
    'id', ${tasks.id}, 'title', ${tasks.title}, 'description', ${tasks.description},
    'status', ${tasks.status}, 'priority', ${tasks.priority}, 'projectId', ${tasks.projectId},
    'assigneeId', ${tasks.assigneeId}, 'dueDate', ${tasks.dueDate}, 'tags', json(${tasks.tags}),
    'createdBy', ${tasks.createdBy}, 'createdAt', ${tasks.createdAt}, 'updatedAt', ${tasks.updatedAt},
    'completedAt', ${tasks.completedAt}, 'taskId', ${tasks.id}, 'creatorId', ${tasks.createdBy},
    'projectName', ${projectName},
    'assigneeName', (SELECT ${users.name} FROM ${users} WHERE ${users.orgId} = ${tasks.orgId} AND ${users.id} = ${tasks.assigneeId})
  )`;
}

/**
 * `task.deleted` for each task of a project, each carrying the task as it was: put it in
 * the batch before the statements deleting them. Bound parameters stay constant
 * however many tasks (D1: 100 per statement).
 */
export function projectTasksDeletedEvents(
  w: WriteContext,
  project: { id: string; name: string },
  createdAt: string,
): DerivedEvents {
  return eventsFromRows(
    w,
    {
      type: "task.deleted",
      resourceType: "task",
      resourceId: sql`${tasks.id}`,
      data: taskEventDataSql(sql`${project.name}`),
      from: sql`FROM ${tasks} WHERE ${tasks.orgId} = ${w.orgId} AND ${tasks.projectId} = ${project.id}`,
    },
    createdAt,
  );
}
