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
/**
 * How a webhook's deliveries are signed beyond the HMAC signatures every delivery
 * carries (README "Signatures"): nothing more, an Ed25519 `v1a,` entry in
 * `webhook-signature`, or an RSA `X-Verk-Signature-RSA` header.
 */
export const SIGNATURE_SCHEMES = ["hmac-sha256", "ed25519", "rsa-sha256"] as const;
export type SignatureScheme = (typeof SIGNATURE_SCHEMES)[number];
/** The algorithms of an organization's signing key pairs: the public-key schemes. */
export const SIGNING_ALGORITHMS = ["ed25519", "rsa-sha256"] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

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
  // Operational events (README "Alerts"): the delivery pipeline's own, written by the system.
  "webhook.disabled",
  "webhook.failing",
  "delivery.exhausted",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * The operational events: about the webhooks themselves, never sent to the webhook they
 * are about, and a delivery of one never causes another (README "Alerts": no loops).
 */
export const OPERATIONAL_EVENT_TYPES = ["webhook.disabled", "webhook.failing", "delivery.exhausted"] as const;
export type OperationalEventType = (typeof OPERATIONAL_EVENT_TYPES)[number];

/** What an event is about: the part of its type before the dot. */
export const RESOURCE_TYPES = ["task", "project", "member", "comment", "file", "webhook", "delivery"] as const;

/** What an incoming-webhook credential may do; each endpoint needs exactly one. */
export const INCOMING_PERMISSIONS = [
  "tasks:create",
  "tasks:update",
  "projects:create",
  "projects:update",
  "comments:create",
] as const;
export type IncomingPermission = (typeof INCOMING_PERMISSIONS)[number];
