import { and, eq, sql } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import { AppError, notFound, validationError } from "../core/errors";
import { newEtag, newId } from "../core/ids";
import type { PageRequest } from "../core/pagination";
import { assertIfMatch } from "../core/versions";
import { type Actor, answerStatements, type Changes, type WriteContext } from "../core/write-context";
import { type SortKey, sortKeys } from "../db/keyset";
import { isGuardFailure, requireRow } from "../db/row-guards";
import { type Comment, comments, tasks, users } from "../db/schema";
import { changesBetween } from "../events/changes";
import { commitWithEvents, type EventDraft } from "../events/outbox";
import { existingMemberIds } from "../identity/users";
import { creatorId, definedFields, type Versioned } from "../projects/projects";
import { findTaskChild, listTaskChildren } from "../tasks/task-children";
import { findTask } from "../tasks/tasks";

/** A comment with its task's project, so subscribers can filter comment events by project. */
export function presentComment(row: Comment, projectId: string) {
  return {
    id: row.id,
    taskId: row.taskId,
    projectId,
    content: row.content,
    mentions: row.mentions,
    authorId: row.authorId,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
export type CommentResource = ReturnType<typeof presentComment>;

/** A comment event's `data`: the comment, plus its author's name, which the event's own INSERT fills in. */
export function commentEventData(row: Comment, projectId: string) {
  return { ...presentComment(row, projectId), authorName: null as string | null };
}

function commentEvent(
  w: WriteContext,
  type: "comment.created" | "comment.updated" | "comment.deleted",
  row: Comment,
  projectId: string,
  changes?: Changes,
): EventDraft {
  return {
    type,
    resourceType: "comment",
    resourceId: row.id,
    data: commentEventData(row, projectId),
    lookups: {
      authorName: sql`SELECT ${users.name} FROM ${users} WHERE ${users.orgId} = ${w.orgId} AND ${users.id} = ${row.authorId}`,
    },
    ...(changes ? { changes } : {}),
  };
}

const versioned = (row: Comment, projectId: string): Versioned<CommentResource> => ({
  resource: presentComment(row, projectId),
  etag: row.etag,
});

export const COMMENT_SORT_FIELDS = ["createdAt", "updatedAt"] as const;

export interface CommentListQuery extends PageRequest {
  sortBy: (typeof COMMENT_SORT_FIELDS)[number];
  order: "asc" | "desc";
}

const SORT_KEYS: Record<CommentListQuery["sortBy"], SortKey[]> = {
  createdAt: sortKeys(comments, ["createdAt", "id"]),
  updatedAt: sortKeys(comments, ["updatedAt", "createdAt", "id"]),
};

/** The task's comments; 404 when the task is not in the organization. One round trip. */
export function listComments(db: DrizzleD1Database, orgId: string, taskId: string, query: CommentListQuery) {
  return listTaskChildren(db, comments, orgId, taskId, SORT_KEYS[query.sortBy], query, presentComment);
}

/** The comment and its task's project id. */
export async function findComment(db: DrizzleD1Database, orgId: string, commentId: string) {
  const { row, projectId } = await findTaskChild(db, comments, orgId, commentId, "Comment");
  return { comment: row, projectId };
}

export async function getComment(db: DrizzleD1Database, orgId: string, commentId: string) {
  const { comment, projectId } = await findComment(db, orgId, commentId);
  return versioned(comment, projectId);
}

export interface CommentInput {
  content: string;
  mentions?: string[];
}

export async function createComment(w: WriteContext, { taskId, ...input }: CommentInput & { taskId: string }) {
  const task = await findTask(w.db, w.orgId, taskId);
  const mentions = input.mentions ?? [];
  await checkMentions(w, mentions);
  const now = w.now();
  const row: Comment = {
    id: newId("cmt"),
    orgId: w.orgId,
    taskId,
    authorId: creatorId(w),
    content: input.content,
    mentions,
    etag: newEtag(),
    createdAt: now,
    updatedAt: now,
  };
  const created = versioned(row, task.projectId);
  try {
    await commitWithEvents(
      w,
      [
        // The task may be deleted meanwhile; then nothing is written.
        ...requireRow(w.db, tasks, and(eq(tasks.orgId, w.orgId), eq(tasks.id, taskId))!),
        w.db.insert(comments).values(row),
        ...answerStatements(w, created),
      ],
      [commentEvent(w, "comment.created", row, task.projectId)],
      now,
    );
  } catch (error) {
    if (isGuardFailure(error)) throw notFound("Task");
    throw error;
  }
  return created;
}

/** Only a comment's author, or an organization admin or owner, may change it; an incoming-webhook credential never. */
function assertMayEdit(editor: Actor, comment: Comment): void {
  if (editor.role === "admin" || editor.role === "owner") return;
  if (editor.role && editor.userId !== null && editor.userId === comment.authorId) return;
  throw new AppError("FORBIDDEN", "Only the comment's author or an admin can change or delete it");
}

export async function updateComment(
  w: WriteContext,
  { id: commentId, patch, ifMatch }: { id: string; patch: Partial<CommentInput>; ifMatch?: string },
) {
  const { comment: current, projectId } = await findComment(w.db, w.orgId, commentId);
  assertMayEdit(w.actor, current);
  assertIfMatch(ifMatch, current.etag);
  const given = definedFields(patch);
  if (given.mentions) await checkMentions(w, given.mentions);
  const now = w.now();
  const next: Comment = {
    ...current,
    ...(given.content !== undefined ? { content: given.content } : {}),
    ...(given.mentions !== undefined ? { mentions: given.mentions } : {}),
    etag: newEtag(),
    updatedAt: now,
  };
  const after = presentComment(next, projectId);
  const changes = changesBetween(presentComment(current, projectId), after, ["content", "mentions"]);
  if (Object.keys(changes).length === 0) return versioned(current, projectId);
  await commitWithEvents(
    w,
    [
      w.db
        .update(comments)
        .set({ content: next.content, mentions: next.mentions, etag: next.etag, updatedAt: now })
        .where(eq(comments.id, commentId)),
    ],
    [commentEvent(w, "comment.updated", next, projectId, changes)],
    now,
    { table: "comments", id: commentId, etag: current.etag },
  );
  return versioned(next, projectId);
}

export async function deleteComment(w: WriteContext, { id: commentId, ifMatch }: { id: string; ifMatch?: string }) {
  const { comment: current, projectId } = await findComment(w.db, w.orgId, commentId);
  assertMayEdit(w.actor, current);
  assertIfMatch(ifMatch, current.etag);
  const now = w.now();
  await commitWithEvents(
    w,
    [w.db.delete(comments).where(eq(comments.id, commentId))],
    [commentEvent(w, "comment.deleted", current, projectId)],
    now,
    { table: "comments", id: commentId, etag: current.etag },
  );
}

async function checkMentions(w: WriteContext, mentions: string[]): Promise<void> {
  if (mentions.length === 0) return;
  const members = await existingMemberIds(w.db, w.orgId, mentions);
  const unknown = mentions.find((id) => !members.has(id));
  if (unknown !== undefined) throw validationError("mentions", `No member '${unknown}' in this organization`);
}
