import { and, eq, sql } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import { notFound } from "../core/errors";
import { newId } from "../core/ids";
import type { PageRequest } from "../core/pagination";
import type { WriteContext } from "../core/write-context";
import { type SortKey, sortKeys } from "../db/keyset";
import { isGuardFailure, requireRow } from "../db/row-guards";
import { type Attachment, attachments, tasks } from "../db/schema";
import { commitWithEvents, type EventDraft } from "../events/outbox";
import { PLAN_LIMITS, type Plan } from "../identity/plans";
import { findTaskChild, listTaskChildren } from "../tasks/task-children";
import { findTask } from "../tasks/tasks";
import { doomKey, objectKey, purgeOrgObjects, releaseKey, reserveKey } from "./cleanup";
import { checkContentType, checkFileName, fileNameOf } from "./disposition";
import { boundaryOf, firstFilePart } from "./multipart";
import { storeObject, tooLarge } from "./objects";

/** An upload's context: the write context, the bucket and the plan whose size limit applies. */
export interface AttachmentContext extends WriteContext {
  files: R2Bucket;
  plan: Plan;
}

/** An attachment with its task's project, so subscribers can filter file events by project as task events. */
export function presentAttachment(row: Attachment, projectId: string) {
  return {
    id: row.id,
    taskId: row.taskId,
    projectId,
    name: row.name,
    size: row.size,
    contentType: row.contentType,
    sha256: row.sha256,
    uploader: { userId: row.uploadedByUserId, apiKeyId: row.uploadedByApiKeyId },
    createdAt: row.createdAt,
  };
}
export type AttachmentResource = ReturnType<typeof presentAttachment>;

/** A file event's `data`: the attachment and its task's assignee, so a webhook's assignee filter applies as for tasks. */
export function fileEventData(row: Attachment, projectId: string, assigneeId: string | null) {
  return { ...presentAttachment(row, projectId), assigneeId };
}

/**
 * A file event: its task's project and assignee are read by the event's own INSERT
 * (lookups), so they are the task's as the batch commits, not as the upload began.
 */
function fileEvent(w: WriteContext, type: "file.uploaded" | "file.deleted", row: Attachment): EventDraft {
  const ofTask = sql`FROM ${tasks} WHERE ${tasks.orgId} = ${w.orgId} AND ${tasks.id} = ${row.taskId}`;
  return {
    type,
    resourceType: "file",
    resourceId: row.id,
    data: fileEventData(row, "", null),
    lookups: {
      projectId: sql`SELECT ${tasks.projectId} ${ofTask}`,
      assigneeId: sql`SELECT ${tasks.assigneeId} ${ofTask}`,
    },
  };
}

export const ATTACHMENT_SORT_FIELDS = ["createdAt", "name", "size"] as const;

export interface AttachmentListQuery extends PageRequest {
  sortBy: (typeof ATTACHMENT_SORT_FIELDS)[number];
  order: "asc" | "desc";
}

const SORT_KEYS: Record<AttachmentListQuery["sortBy"], SortKey[]> = {
  createdAt: sortKeys(attachments, ["createdAt", "id"]),
  name: sortKeys(attachments, ["name", "id"]),
  size: sortKeys(attachments, ["size", "id"]),
};

/** The task's attachments; 404 when the task is not in the organization. One round trip. */
export function listAttachments(db: DrizzleD1Database, orgId: string, taskId: string, query: AttachmentListQuery) {
  return listTaskChildren(db, attachments, orgId, taskId, SORT_KEYS[query.sortBy], query, presentAttachment);
}

/** The attachment and its task's project id; 404 across organizations. */
export async function findAttachment(db: DrizzleD1Database, orgId: string, attachmentId: string) {
  const { row, projectId } = await findTaskChild(db, attachments, orgId, attachmentId, "Attachment");
  return { attachment: row, projectId };
}

export async function getAttachment(db: DrizzleD1Database, orgId: string, attachmentId: string) {
  const { attachment, projectId } = await findAttachment(db, orgId, attachmentId);
  return presentAttachment(attachment, projectId);
}

/** The bytes of an attachment: its metadata and the R2 object's body (null when only the ETag was wanted). */
export async function readAttachmentContent(
  db: DrizzleD1Database,
  bucket: R2Bucket,
  orgId: string,
  attachmentId: string,
  ifNoneMatch?: (etag: string) => boolean,
) {
  const { attachment } = await findAttachment(db, orgId, attachmentId);
  if (ifNoneMatch?.(attachment.sha256)) return { attachment, body: null };
  const object = await bucket.get(objectKey(orgId, attachment.id));
  // A row whose object is gone was being deleted as it was read.
  if (!object) throw notFound("Attachment");
  return { attachment, body: object.body, size: object.size };
}

/** What an upload request carries, as the transport gave it. */
export interface UploadInput {
  taskId: string;
  body: ReadableStream<Uint8Array> | null;
  /** Content-Length, when the client sent one. */
  length: number | null;
  contentType?: string;
  /** `?filename=`, which wins over the Content-Disposition header and the part's filename. */
  filename?: string;
  contentDisposition?: string;
}

/**
 * Stores a file on a task: a raw body (its Content-Type; the name from `?filename=` or
 * Content-Disposition) or the first file part of a multipart/form-data body. The bytes
 * stream to R2 first (size limit of the plan, SHA-256 on the way); then one D1 batch
 * writes the row and `file.uploaded`, guarded by the task. Whatever fails after the
 * key was reserved deletes the object, and the reservation goes only once it is deleted;
 * a failed delete or a crash in between leaves the reservation, and the cron deletes
 * the object (attachments/cleanup.ts).
 */
export async function uploadAttachment(ctx: AttachmentContext, input: UploadInput) {
  const task = await findTask(ctx.db, ctx.orgId, input.taskId);
  const limit = PLAN_LIMITS[ctx.plan].attachmentBytes;
  const boundary = boundaryOf(input.contentType);
  // A raw body's length is the file's: refused before anything is written. A form's
  // length also counts its other parts and headers, so its file is measured as it streams.
  if (!boundary && input.length !== null && input.length > limit) throw tooLarge(limit);
  // No body at all is an empty file.
  const sent = input.body ?? new ReadableStream<Uint8Array>({ start: (controller) => controller.close() });
  let name: string;
  let contentType: string;
  let body: ReadableStream<Uint8Array>;
  let length: number | null;
  if (boundary) {
    const part = await firstFilePart(sent, boundary);
    name = checkFileName(input.filename ?? fileNameOf(part.disposition));
    contentType = checkContentType(part.contentType, "body");
    body = part.body;
    length = null;
  } else {
    name = checkFileName(input.filename ?? fileNameOf(input.contentDisposition));
    contentType = checkContentType(input.contentType);
    body = sent;
    length = input.body ? input.length : 0;
  }

  const id = newId("file");
  const key = objectKey(ctx.orgId, id);
  await reserveKey(ctx.db, key, ctx.now());
  let stored: Awaited<ReturnType<typeof storeObject>>;
  try {
    stored = await storeObject(ctx.files, key, body, { length, limit, contentType });
  } catch (error) {
    await discardObject(ctx, key);
    throw error;
  }
  const now = ctx.now();
  const row: Attachment = {
    id,
    orgId: ctx.orgId,
    taskId: task.id,
    name,
    size: stored.size,
    contentType,
    sha256: stored.sha256,
    uploadedByUserId: ctx.actor.userId,
    uploadedByApiKeyId: ctx.actor.apiKeyId,
    createdAt: now,
  };
  let committed: Awaited<ReturnType<typeof commitWithEvents>>;
  try {
    committed = await commitWithEvents(
      ctx,
      [
        // The task may have been deleted while the bytes streamed; then nothing is written.
        ...requireRow(ctx.db, tasks, and(eq(tasks.orgId, ctx.orgId), eq(tasks.id, task.id))!),
        ctx.db.insert(attachments).values(row),
        releaseKey(ctx.db, key),
      ],
      [fileEvent(ctx, "file.uploaded", row)],
      now,
    );
  } catch (error) {
    // D1 may report an error for a batch that did commit: then the row stands, and so does its object.
    const landed = await ctx.db
      .select({ id: attachments.id })
      .from(attachments)
      .where(and(eq(attachments.orgId, ctx.orgId), eq(attachments.id, id)))
      .then((rows) => rows.length > 0)
      .catch(() => undefined);
    if (landed) return getAttachment(ctx.db, ctx.orgId, id);
    // Not committed: the object goes. Unknown (D1 unreachable): the reservation, if it
    // is still there, lets the cron delete the object within the hour.
    if (landed === false) await discardObject(ctx, key);
    if (isGuardFailure(error)) throw notFound("Task");
    throw error;
  }
  // The project as committed: the event's lookup read it from the task in the batch.
  const projectId = committed[0]?.data.projectId;
  return presentAttachment(row, typeof projectId === "string" ? projectId : task.projectId);
}

/**
 * An upload that will not commit: its reservation becomes due now and the
 * organization's due objects are deleted. The reservation goes only with a successful
 * R2 delete; if that fails (or D1 does) it stays, and the cron deletes the object.
 */
async function discardObject(ctx: AttachmentContext, key: string): Promise<void> {
  const now = ctx.now();
  try {
    await doomKey(ctx.db, key, now);
  } catch (error) {
    // The reservation is still there, due within the hour: the cron deletes the object then.
    console.error(JSON.stringify({ level: "error", msg: "attachment upload cleanup failed", error: String(error) }));
    return;
  }
  await purgeOrgObjects(ctx.db, ctx.files, ctx.orgId, now);
}

/**
 * Deletes the attachment: its row and `file.deleted` in one batch that also marks the
 * object for deletion; the object is deleted right after (the cron retries a failure).
 */
export async function deleteAttachment(w: WriteContext, { id }: { id: string }) {
  const { attachment } = await findAttachment(w.db, w.orgId, id);
  const now = w.now();
  try {
    await commitWithEvents(
      w,
      [
        // A concurrent delete won: this one writes nothing (no second event).
        ...requireRow(w.db, attachments, and(eq(attachments.orgId, w.orgId), eq(attachments.id, id))!),
        doomKey(w.db, objectKey(w.orgId, id), now),
        w.db.delete(attachments).where(eq(attachments.id, id)),
      ],
      [fileEvent(w, "file.deleted", attachment)],
      now,
    );
  } catch (error) {
    if (isGuardFailure(error)) throw notFound("Attachment");
    throw error;
  }
  await purgeOrgObjects(w.db, w.files, w.orgId, now);
}
