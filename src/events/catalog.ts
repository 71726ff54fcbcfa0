/** Every event type Verk emits (SPEC §6); webhooks subscribe to these or to "*". */
export const EVENT_TYPES = [
  "task.created",
  "task.updated",
  "task.deleted",
  "task.completed",
  "task.assigned",
  "project.created",
  "project.updated",
  "project.deleted",
  "member.added",
  "member.removed",
  "member.role_changed",
  "comment.created",
  "comment.updated",
  "comment.deleted",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];
export type ResourceType = "task" | "project" | "member" | "comment";
