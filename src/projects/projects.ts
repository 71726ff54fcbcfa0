import { and, eq, inArray, sql } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import { purgeOrgObjects, removeTaskAttachments } from "../attachments/cleanup";
import { filesDeletedEvents } from "../attachments/file-events.queries";
import { commentsDeletedEvents } from "../comments/comment-events.queries";
import { newEtag, newId } from "../core/ids";
import type { PageRequest } from "../core/pagination";
import { assertIfMatch } from "../core/versions";
import { answerStatements, type WriteContext } from "../core/write-context";
import { type SortKey, sortKeys } from "../db/keyset";
import { findInOrg, listPage } from "../db/org-queries";
import { comments, type Project, projects, tasks, taskTags } from "../db/schema";
import { changesBetween } from "../events/changes";
import { commitWithEvents } from "../events/outbox";
import { projectTasksDeletedEvents } from "../tasks/task-events.queries";

export function presentProject(row: Project) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    icon: row.icon,
    color: row.color,
    archived: row.archived,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
export type ProjectResource = ReturnType<typeof presentProject>;

/** A resource and the ETag of the version it shows. */
export interface Versioned<T> {
  resource: T;
  etag: string;
}

const versioned = (row: Project): Versioned<ProjectResource> => ({ resource: presentProject(row), etag: row.etag });

export const PROJECT_SORT_FIELDS = ["createdAt", "updatedAt", "name"] as const;

export interface ProjectListQuery extends PageRequest {
  sortBy: (typeof PROJECT_SORT_FIELDS)[number];
  order: "asc" | "desc";
  archived?: boolean;
}

const PROJECT_SORT_KEYS: Record<ProjectListQuery["sortBy"], SortKey[]> = {
  createdAt: sortKeys(projects, ["createdAt", "id"]),
  updatedAt: sortKeys(projects, ["updatedAt", "createdAt", "id"]),
  name: sortKeys(projects, [{ field: "name", nocase: true }, "createdAt", "id"]),
};

export async function listProjects(db: DrizzleD1Database, orgId: string, query: ProjectListQuery) {
  const where = and(
    eq(projects.orgId, orgId),
    query.archived === undefined ? undefined : eq(projects.archived, query.archived),
  );
  return listPage(db, projects, where, PROJECT_SORT_KEYS[query.sortBy], query, presentProject);
}

export async function findProject(db: DrizzleD1Database, orgId: string, projectId: string): Promise<Project> {
  return findInOrg(db, projects, orgId, projectId, "Project");
}

export async function getProject(db: DrizzleD1Database, orgId: string, projectId: string) {
  return versioned(await findProject(db, orgId, projectId));
}

export interface ProjectInput {
  name: string;
  description?: string | null;
  icon?: string | null;
  color?: string | null;
  archived?: boolean;
}

export async function createProject(w: WriteContext, input: ProjectInput) {
  const now = w.now();
  const row: Project = {
    id: newId("proj"),
    orgId: w.orgId,
    name: input.name,
    description: input.description ?? null,
    icon: input.icon ?? null,
    color: input.color ?? null,
    archived: input.archived ?? false,
    createdBy: creatorId(w),
    etag: newEtag(),
    createdAt: now,
    updatedAt: now,
  };
  const created = versioned(row);
  await commitWithEvents(
    w,
    [w.db.insert(projects).values(row), ...answerStatements(w, created)],
    [{ type: "project.created", resourceType: "project", resourceId: row.id, data: presentProject(row) }],
    now,
  );
  return created;
}

const PROJECT_FIELDS = ["name", "description", "icon", "color", "archived"] as const;

/** Applies a partial update; no effective change answers the current version without an event. */
export async function updateProject(
  w: WriteContext,
  { id: projectId, patch, ifMatch }: { id: string; patch: Partial<ProjectInput>; ifMatch?: string },
) {
  const current = await findProject(w.db, w.orgId, projectId);
  assertIfMatch(ifMatch, current.etag);
  const now = w.now();
  const next: Project = { ...current, ...definedFields(patch), etag: newEtag(), updatedAt: now };
  const changes = changesBetween(presentProject(current), presentProject(next), PROJECT_FIELDS);
  if (Object.keys(changes).length === 0) return versioned(current);
  await commitWithEvents(
    w,
    [
      w.db
        .update(projects)
        .set({
          name: next.name,
          description: next.description,
          icon: next.icon,
          color: next.color,
          archived: next.archived,
          etag: next.etag,
          updatedAt: now,
        })
        .where(eq(projects.id, projectId)),
    ],
    [{ type: "project.updated", resourceType: "project", resourceId: projectId, data: presentProject(next), changes }],
    now,
    { table: "projects", id: projectId, etag: current.etag },
  );
  return versioned(next);
}

/**
 * Deletes the project with its tasks, their tags and comments, in one batch (one
 * transaction). Subqueries keep each statement's bound parameters constant however
 * many tasks there are. Each comment's `comment.deleted` and each task's `task.deleted`
 * are written set-based ahead of the deletes (two statements for any number of rows),
 * then `project.deleted`, so a receiver's mirror keeps none of the cascade's rows.
 */
export async function deleteProject(w: WriteContext, { id: projectId, ifMatch }: { id: string; ifMatch?: string }) {
  const current = await findProject(w.db, w.orgId, projectId);
  assertIfMatch(ifMatch, current.etag);
  const projectTaskIds = w.db
    .select({ id: tasks.id })
    .from(tasks)
    .where(and(eq(tasks.orgId, w.orgId), eq(tasks.projectId, projectId)));
  const now = w.now();
  await commitWithEvents(
    w,
    [
      ...removeTaskAttachments(w.db, w.orgId, sql`${tasks.projectId} = ${projectId}`, now),
      w.db.delete(comments).where(and(eq(comments.orgId, w.orgId), inArray(comments.taskId, projectTaskIds))),
      w.db.delete(taskTags).where(and(eq(taskTags.orgId, w.orgId), inArray(taskTags.taskId, projectTaskIds))),
      w.db.delete(tasks).where(and(eq(tasks.orgId, w.orgId), eq(tasks.projectId, projectId))),
      w.db.delete(projects).where(eq(projects.id, projectId)),
    ],
    [{ type: "project.deleted", resourceType: "project", resourceId: projectId, data: presentProject(current) }],
    now,
    { table: "projects", id: projectId, etag: current.etag },
    [
      commentsDeletedEvents(w, sql`${tasks.projectId} = ${projectId}`, now),
      filesDeletedEvents(w, sql`${tasks.projectId} = ${projectId}`, now),
      projectTasksDeletedEvents(w, current, now),
    ],
  );
  await purgeOrgObjects(w.db, w.files, w.orgId, now);
}

/** Who a new resource records as its creator: the key's user, or the incoming-webhook credential. */
export function creatorId(w: WriteContext): string {
  return w.actor.userId ?? w.actor.incomingWebhookId ?? "system";
}

/** The patch without keys that are absent (`undefined`); `null` stays, it clears a field. */
export function definedFields<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as Partial<T>;
}
