import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { Attachment, Comment, ErrorBody, Event, Page, Project, Task } from "./api-types";
import { type ApiResponse, call, type TestOrg } from "./harness";

/** Resource builders over the public API, for the projects/tasks/comments/events tests. */

export async function makeProject(org: TestOrg, body: Record<string, unknown> = {}): Promise<Project> {
  const res = await call<Project>("POST", "/v1/projects", { key: org.keys.write, body: { name: "Project", ...body } });
  if (res.status !== 201) throw new Error(`project create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function makeTask(org: TestOrg, projectId: string, body: Record<string, unknown> = {}): Promise<Task> {
  const res = await call<Task>("POST", "/v1/tasks", {
    key: org.keys.write,
    body: { title: "Task", projectId, ...body },
  });
  if (res.status !== 201) throw new Error(`task create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function makeComment(
  org: TestOrg,
  taskId: string,
  body: Record<string, unknown> = {},
  key?: string,
): Promise<Comment> {
  const res = await call<Comment>("POST", `/v1/tasks/${taskId}/comments`, {
    key: key ?? org.keys.write,
    body: { content: "A comment", ...body },
  });
  if (res.status !== 201) throw new Error(`comment create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The organization's events about one resource, oldest first. */
export async function eventsFor(org: TestOrg, resourceId: string): Promise<Event[]> {
  const res = await call<Page<Event>>("GET", `/v1/events?resourceId=${resourceId}&order=asc&limit=100`, {
    key: org.keys.read,
  });
  expect(res.status).toBe(200);
  return res.body.data;
}

/** Every event row in the organization (straight from D1: also proves nothing was written). */
export async function eventCount(orgId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM events WHERE org_id = ?")
    .bind(orgId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

export function ids(res: ApiResponse<Page<{ id: string }>>): string[] {
  return res.body.data.map((r) => r.id);
}

/** Inputs that must be refused with a 4xx, never a 500. */
export const HOSTILE_VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1e308,
  "",
  " ",
  "x".repeat(100_000),
  "\u0000",
  "💥".repeat(300),
  [],
  [null],
  {},
  { nested: { deep: true } },
  "'; DROP TABLE tasks; --",
];

export function expectClientError(res: ApiResponse, context: string): void {
  if (res.status < 400 || res.status >= 500) {
    throw new Error(`${context}: expected a 4xx, got ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  }
  expect((res.body as Partial<ErrorBody> | null)?.error?.code, context).toBeTypeOf("string");
}

/** A task event's `data`: the task, plus `taskId`, `creatorId` and the project's and assignee's names. */
export function taskEventData(task: Task, names: { projectName: string; assigneeName?: string | null }) {
  return {
    ...task,
    taskId: task.id,
    creatorId: task.createdBy,
    projectName: names.projectName,
    assigneeName: names.assigneeName ?? null,
  };
}

/** A comment event's `data`: the comment, plus its author's name. */
export function commentEventData(comment: Comment, authorName: string | null) {
  return { ...comment, authorName };
}

/** A small text file attached to the task (raw upload, named by `?filename=`). */
export async function makeAttachment(
  org: TestOrg,
  taskId: string,
  { name = "notes.txt", content = "fixture bytes", contentType = "text/plain" } = {},
): Promise<Attachment> {
  const res = await call<Attachment>("POST", `/v1/tasks/${taskId}/attachments?filename=${encodeURIComponent(name)}`, {
    key: org.keys.write,
    rawBody: content,
    headers: { "Content-Type": contentType },
  });
  if (res.status !== 201) throw new Error(`attachment upload failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}
