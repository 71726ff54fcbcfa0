/**
 * The closed sets of values stored in D1 columns: defined once, used by the drizzle
 * schema (column types), the domain rules and the zod contracts alike.
 */
export const PLANS = ["free", "pro", "enterprise"] as const;
export const ROLES = ["owner", "admin", "member"] as const;
export const SCOPES = ["read", "write", "admin"] as const;
/**
 * What an API key may do (README "Identity and keys"): every `/v1` operation needs
 * exactly one; a scope is a shorthand for a set of them (identity/principal.ts).
 */
export const KEY_PERMISSIONS = [
  "tasks:read",
  "tasks:write",
  "projects:read",
  "projects:write",
  "comments:read",
  "comments:write",
  "members:read",
  "members:write",
  "events:read",
  "keys:read",
  "keys:write",
  "webhooks:read",
  "webhooks:write",
  "incoming:read",
  "incoming:write",
] as const;
export type KeyPermission = (typeof KEY_PERMISSIONS)[number];
export const TASK_STATUSES = ["todo", "in_progress", "done"] as const;
export const TASK_PRIORITIES = ["low", "medium", "high", "urgent"] as const;
export const DELIVERY_STATUSES = ["pending", "succeeded", "failed"] as const;

export type Role = (typeof ROLES)[number];

/** Every event type Verk emits, stored in `events.type`; webhooks subscribe to these or to "*". */
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
  "file.uploaded",
  "file.deleted",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** What an event is about: the part of its type before the dot. */
export const RESOURCE_TYPES = ["task", "project", "member", "comment", "file"] as const;

/** What an incoming-webhook credential may do; each endpoint needs exactly one. */
export const INCOMING_PERMISSIONS = [
  "tasks:create",
  "tasks:update",
  "projects:create",
  "projects:update",
  "comments:create",
] as const;
export type IncomingPermission = (typeof INCOMING_PERMISSIONS)[number];
