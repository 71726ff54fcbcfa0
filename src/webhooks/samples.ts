import { fileEventData } from "../attachments/attachments";
import { commentEventData } from "../comments/comments";
import { newEtag, newId } from "../core/ids";
import type { Changes } from "../core/write-context";
import type { EventRow } from "../db/schema";
import type { EventType } from "../events/catalog";
import { presentUser } from "../identity/users";
import { presentProject } from "../projects/projects";
import { taskEventData } from "../tasks/tasks";

/**
 * Illustrative `data` (and `changes`) for a test delivery of `type`, shaped by the
 * same presenters the real events use, so a receiver sees exactly the real format.
 * The ids are fresh and point at nothing.
 */
export function sampleEventData(type: EventType, now: string): { data: EventRow["data"]; changes?: Changes } {
  const projectId = newId("proj");
  const userId = newId("user");
  const common = { orgId: "org_sample", etag: newEtag(), createdAt: now, updatedAt: now };
  const task = taskEventData({
    ...common,
    id: newId("task"),
    projectId,
    title: "Sample task from a webhook test",
    description: "Sent by POST /v1/webhooks/{id}/test",
    status: type === "task.completed" ? "done" : "in_progress",
    priority: "high",
    assigneeId: userId,
    dueDate: null,
    tags: ["sample"],
    createdBy: userId,
    completedAt: type === "task.completed" ? now : null,
  });
  task.projectName = "Sample project";
  task.assigneeName = "Sam Sample";
  const project = presentProject({
    ...common,
    id: projectId,
    name: "Sample project",
    description: "Sent by a webhook test",
    icon: null,
    color: "#3b82f6",
    archived: false,
    createdBy: userId,
  });
  const member = presentUser({
    ...common,
    id: userId,
    name: "Sam Sample",
    email: "sam.sample@example.com",
    role: type === "member.role_changed" ? "admin" : "member",
  });
  const comment = commentEventData(
    {
      ...common,
      id: newId("cmt"),
      taskId: task.id,
      authorId: userId,
      content: "A sample comment",
      mentions: [],
    },
    projectId,
  );
  comment.authorName = "Sam Sample";
  const file = fileEventData(
    {
      id: newId("file"),
      orgId: common.orgId,
      taskId: task.id,
      name: "sample.txt",
      size: 12,
      contentType: "text/plain",
      sha256: "c0535e4be2b79ffd93291305436bf889314e4a3faec05ecffcbb7df31ad9e51a",
      uploadedByUserId: userId,
      uploadedByApiKeyId: newId("key"),
      createdAt: now,
    },
    projectId,
    userId,
  );
  // The operational events' webhook: some other webhook of the organization (README "Alerts").
  const webhook = { id: newId("wh"), origin: "https://hooks.example.com", description: "A sample webhook" };
  switch (type) {
    case "task.created":
    case "task.deleted":
      return { data: task };
    case "task.updated":
      return { data: task, changes: { status: { from: "todo", to: "in_progress" } } };
    case "task.completed":
      return {
        data: task,
        changes: { status: { from: "in_progress", to: "done" }, completedAt: { from: null, to: now } },
      };
    case "task.assigned":
      return { data: task, changes: { assigneeId: { from: null, to: userId } } };
    case "project.created":
    case "project.deleted":
      return { data: project };
    case "project.updated":
      return { data: project, changes: { name: { from: "Old name", to: project.name } } };
    case "member.added":
    case "member.removed":
      return { data: member };
    case "member.role_changed":
      return { data: member, changes: { role: { from: "member", to: "admin" } } };
    case "comment.created":
    case "comment.deleted":
      return { data: comment };
    case "comment.updated":
      return { data: comment, changes: { content: { from: "An earlier comment", to: comment.content } } };
    case "file.uploaded":
    case "file.deleted":
      return { data: file };
    case "webhook.disabled":
      return {
        data: { webhook, reason: "consecutive_failures", consecutiveFailures: 100, lastError: sampleError(now) },
      };
    case "webhook.failing":
      return {
        data: {
          webhook,
          successRate: 0.25,
          attempts: 40,
          failures: 30,
          threshold: 0.5,
          windowStart: new Date(Date.parse(now) - 3_600_000).toISOString(),
          windowEnd: now,
        },
      };
    case "delivery.exhausted":
      return {
        data: {
          id: newId("del"),
          webhook,
          event: { id: newId("evt"), type: "task.created" },
          attempts: 7,
          lastError: sampleError(now),
        },
      };
  }
}

/** A failed attempt as the operational events tell of it. */
function sampleError(now: string) {
  return { statusCode: 503, error: "HTTP 503: Service Unavailable", attemptedAt: now };
}
