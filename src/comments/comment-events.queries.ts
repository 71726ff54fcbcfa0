// Comment events written set-based, one statement for all the comments a cascade
// deletes: the query builder has no INSERT … SELECT building JSON per row.
import { type SQL, sql } from "drizzle-orm";
import type { WriteContext } from "../core/write-context";
import { comments, tasks, users } from "../db/schema";
import { type DerivedEvents, eventsFromRows } from "../events/outbox";

/**
 * A comment row's event `data` in SQL, joined to its task: the same fields in the same
 * order as `commentEventData` (comments.ts), the author's name read per row.
 */
const commentEventDataSql = sql`json_object(
  'id', ${comments.id}, 'taskId', ${comments.taskId}, 'projectId', ${tasks.projectId},
  'content', ${comments.content}, 'mentions', json(${comments.mentions}), 'authorId', ${comments.authorId},
  'createdAt', ${comments.createdAt}, 'updatedAt', ${comments.updatedAt},
  'authorName', (SELECT ${users.name} FROM ${users} WHERE ${users.orgId} = ${comments.orgId} AND ${users.id} = ${comments.authorId})
)`;

/**
 * `comment.deleted` for each comment on the tasks `taskWhere` selects (a condition on
 * `tasks`), each carrying the comment as it was: put it in the batch before the
 * statements deleting them. Bound parameters stay constant however many comments.
 */
export function commentsDeletedEvents(w: WriteContext, taskWhere: SQL, createdAt: string): DerivedEvents {
  return eventsFromRows(
    w,
    {
      type: "comment.deleted",
      resourceType: "comment",
      resourceId: sql`${comments.id}`,
      data: commentEventDataSql,
      from: sql`FROM ${comments} JOIN ${tasks} ON ${tasks.id} = ${comments.taskId}
        WHERE ${comments.orgId} = ${w.orgId} AND ${tasks.orgId} = ${w.orgId} AND ${taskWhere}`,
    },
    createdAt,
  );
}
