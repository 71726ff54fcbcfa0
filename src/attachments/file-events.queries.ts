// File events written set-based, one statement for all the attachments a cascade
// deletes: the query builder has no INSERT … SELECT building JSON per row.
import { type SQL, sql } from "drizzle-orm";
import type { WriteContext } from "../core/write-context";
import { attachments, tasks } from "../db/schema";
import { type DerivedEvents, eventsFromRows } from "../events/outbox";

/** An attachment row's event `data` in SQL, joined to its task: the fields and order of `fileEventData`. */
const fileEventDataSql = sql`json_object(
  'id', ${attachments.id}, 'taskId', ${attachments.taskId}, 'projectId', ${tasks.projectId},
  'name', ${attachments.name}, 'size', ${attachments.size}, 'contentType', ${attachments.contentType},
  'sha256', ${attachments.sha256},
  'uploader', json_object('userId', ${attachments.uploadedByUserId}, 'apiKeyId', ${attachments.uploadedByApiKeyId}),
  'createdAt', ${attachments.createdAt}, 'assigneeId', ${tasks.assigneeId}
)`;

/**
 * `file.deleted` for each attachment of the tasks `taskWhere` selects (a condition on
 * `tasks`), as it was: put it in the batch before the statements deleting them.
 */
export function filesDeletedEvents(w: WriteContext, taskWhere: SQL, createdAt: string): DerivedEvents {
  return eventsFromRows(
    w,
    {
      type: "file.deleted",
      resourceType: "file",
      resourceId: sql`${attachments.id}`,
      data: fileEventDataSql,
      from: sql`FROM ${attachments} JOIN ${tasks} ON ${tasks.id} = ${attachments.taskId}
        WHERE ${attachments.orgId} = ${w.orgId} AND ${tasks.orgId} = ${w.orgId} AND ${taskWhere}`,
    },
    createdAt,
  );
}
