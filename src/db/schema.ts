import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import {
  DELIVERY_STATUSES,
  EVENT_TYPES,
  type EventType,
  type IncomingPermission,
  type KeyPermission,
  PLANS,
  ROLES,
  SCOPES,
  SIGNATURE_SCHEMES,
  SIGNING_ALGORITHMS,
  TASK_PRIORITIES,
  TASK_STATUSES,
} from "../core/enums";
import type { Changes } from "../core/write-context";

// Timestamps are ISO 8601 UTC strings: they sort as text and are returned as stored.
// JSON columns (`mode: "json"`) are TEXT holding JSON.stringify of the value; drizzle
// parses them on read and stringifies on write, and a null stays SQL NULL. Raw SQL
// touching them serialises and parses itself.

export const organizations = sqliteTable("organizations", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  plan: text("plan", { enum: PLANS }).notNull(),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
});

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organizations.id),
    name: text("name").notNull(),
    email: text("email").notNull(),
    role: text("role", { enum: ROLES }).notNull(),
    etag: text("etag").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("users_org_email").on(t.orgId, t.email),
    index("users_org_created").on(t.orgId, t.createdAt),
    index("users_org_name").on(t.orgId, t.name),
  ],
);

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organizations.id),
    // No foreign key: a removed member's keys stay listed, revoked.
    userId: text("user_id").notNull(),
    name: text("name").notNull(),
    /** A scope key (its permissions follow the scope); null for a key created with a list of permissions. */
    scope: text("scope", { enum: SCOPES }),
    /** The permissions of a key created with a list; null for a scope key. Exactly one of the two is set. */
    permissions: text("permissions", { mode: "json" }).$type<KeyPermission[]>(),
    /** SHA-256 (hex) of the full key; the key itself is never stored. */
    keyHash: text("key_hash").notNull(),
    /** The first characters of the key, enough to recognise it in a list. */
    prefix: text("prefix").notNull(),
    expiresAt: text("expires_at"),
    revokedAt: text("revoked_at"),
    lastUsedAt: text("last_used_at"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("api_keys_hash").on(t.keyHash),
    index("api_keys_org_created").on(t.orgId, t.createdAt),
    index("api_keys_user").on(t.userId),
    // Unqualified names: the migration builds this table under another name, then renames it.
    check("api_keys_scope_or_permissions", sql`(scope IS NULL) <> (permissions IS NULL)`),
  ],
);

export const projects = sqliteTable(
  "projects",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organizations.id),
    name: text("name").notNull(),
    description: text("description"),
    icon: text("icon"),
    color: text("color"),
    archived: integer("archived", { mode: "boolean" }).notNull().default(false),
    createdBy: text("created_by").notNull(),
    etag: text("etag").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    index("projects_org_created").on(t.orgId, t.createdAt),
    index("projects_org_updated").on(t.orgId, t.updatedAt),
    index("projects_org_name").on(t.orgId, t.name),
  ],
);

/** The rank behind `tasks.priority_rank`: a priority's position in TASK_PRIORITIES. */
export const TASK_PRIORITY_RANK_SQL = sql.raw(
  `CASE priority ${TASK_PRIORITIES.map((p, rank) => `WHEN '${p}' THEN ${rank}`).join(" ")} END`,
);

export const tasks = sqliteTable(
  "tasks",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organizations.id),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id),
    title: text("title").notNull(),
    description: text("description"),
    status: text("status", { enum: TASK_STATUSES }).notNull(),
    priority: text("priority", { enum: TASK_PRIORITIES }).notNull(),
    assigneeId: text("assignee_id"),
    dueDate: text("due_date"),
    /** `task_tags` indexes them for the `tag` filter. */
    tags: text("tags", { mode: "json" }).$type<string[]>().notNull().default([]),
    createdBy: text("created_by").notNull(),
    etag: text("etag").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    completedAt: text("completed_at"),
    /** low < medium < high < urgent as 0..3, so sorting by priority is by rank, not alphabet. */
    priorityRank: integer("priority_rank").generatedAlwaysAs(TASK_PRIORITY_RANK_SQL, { mode: "virtual" }),
    /**
     * The due date, or "~" (after every ISO 8601 date) when there is none: a plain
     * column, so the cursor's row-value comparison can range over its index.
     */
    dueSort: text("due_sort").generatedAlwaysAs(sql`coalesce(due_date, '~')`, { mode: "virtual" }),
  },
  // Lists order by <sort key>, created_at, id (one direction): each sort and each
  // equality filter has an index that yields rows already in that order.
  (t) => [
    index("tasks_org_created").on(t.orgId, t.createdAt, t.id),
    index("tasks_org_updated").on(t.orgId, t.updatedAt, t.createdAt, t.id),
    // Tasks without a due date sort after dated ones ascending (before them descending).
    index("tasks_org_due_sort").on(t.orgId, t.dueSort, t.createdAt, t.id),
    index("tasks_org_priority").on(t.orgId, t.priorityRank, t.createdAt, t.id),
    index("tasks_org_title").on(t.orgId, sql`${t.title} COLLATE NOCASE`, t.createdAt, t.id),
    index("tasks_org_project_created").on(t.orgId, t.projectId, t.createdAt, t.id),
    index("tasks_org_project_status_created").on(t.orgId, t.projectId, t.status, t.createdAt, t.id),
    index("tasks_org_status_created").on(t.orgId, t.status, t.createdAt, t.id),
    index("tasks_org_assignee_created").on(t.orgId, t.assigneeId, t.createdAt, t.id),
    index("tasks_org_completed").on(t.orgId, t.completedAt),
    index("tasks_project").on(t.projectId),
  ],
);

/**
 * Task totals per (org, project, status, priority), kept by triggers on `tasks`
 * (migration 0001): list totals for the unfiltered and project/status/priority
 * filtered cases are a sum over a handful of rows instead of a COUNT over 100k.
 */
export const taskCounts = sqliteTable(
  "task_counts",
  {
    orgId: text("org_id").notNull(),
    projectId: text("project_id").notNull(),
    status: text("status").notNull(),
    priority: text("priority").notNull(),
    n: integer("n").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.projectId, t.status, t.priority] })],
);

export const taskTags = sqliteTable(
  "task_tags",
  {
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id),
    orgId: text("org_id").notNull(),
    tag: text("tag").notNull(),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.tag] }), index("task_tags_org_tag").on(t.orgId, t.tag, t.taskId)],
);

export const comments = sqliteTable(
  "comments",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organizations.id),
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id),
    authorId: text("author_id").notNull(),
    content: text("content").notNull(),
    /** Member ids. */
    mentions: text("mentions", { mode: "json" }).$type<string[]>().notNull().default([]),
    etag: text("etag").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [index("comments_task_created").on(t.taskId, t.createdAt, t.id), index("comments_org").on(t.orgId)],
);

/**
 * Task attachments: metadata here, bytes in the R2 bucket `FILES` under `<org_id>/<id>`
 * (attachments/attachments.ts). Immutable once written.
 */
export const attachments = sqliteTable(
  "attachments",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organizations.id),
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id),
    name: text("name").notNull(),
    size: integer("size").notNull(),
    contentType: text("content_type").notNull(),
    /** Hex SHA-256 of the bytes, computed while they streamed to R2. */
    sha256: text("sha256").notNull(),
    uploadedByUserId: text("uploaded_by_user_id"),
    uploadedByApiKeyId: text("uploaded_by_api_key_id"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("attachments_task_created").on(t.taskId, t.createdAt, t.id), index("attachments_org").on(t.orgId)],
);

/**
 * R2 objects to delete once `due_at` has passed: written in the same D1 batch that
 * removes their attachment rows (due at once), or before an upload starts (due an hour
 * later, removed by the upload's own commit), so the cron finds every object a crash
 * left behind (attachments/cleanup.ts).
 */
export const pendingObjectDeletions = sqliteTable(
  "pending_object_deletions",
  {
    key: text("key").primaryKey(),
    dueAt: text("due_at").notNull(),
  },
  (t) => [index("pending_object_deletions_due").on(t.dueAt)],
);

/**
 * The outbox and audit trail: one immutable row per mutation, written in the same
 * D1 batch as the change. `enqueuedAt` stays null until the queue accepted it.
 */
export const events = sqliteTable(
  "events",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organizations.id),
    type: text("type", { enum: EVENT_TYPES }).notNull(),
    resourceType: text("resource_type").notNull(),
    resourceId: text("resource_id").notNull(),
    /** The full resource as it was after the change (before, for deletions). */
    data: text("data", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    /** `{field: {from, to}}` for updates; NULL otherwise. */
    changes: text("changes", { mode: "json" }).$type<Changes>(),
    actorUserId: text("actor_user_id"),
    actorApiKeyId: text("actor_api_key_id"),
    actorIncomingWebhookId: text("actor_incoming_webhook_id"),
    createdAt: text("created_at").notNull(),
    enqueuedAt: text("enqueued_at"),
  },
  (t) => [
    index("events_org_created").on(t.orgId, t.createdAt, t.id),
    index("events_org_type_created").on(t.orgId, t.type, t.createdAt, t.id),
    index("events_org_resource_created").on(t.orgId, t.resourceId, t.createdAt, t.id),
    index("events_unenqueued").on(t.createdAt).where(sql`enqueued_at IS NULL`),
    // The log's resourceType and actorId filters; most events have no key or incoming-webhook actor.
    index("events_org_resource_type_created").on(t.orgId, t.resourceType, t.createdAt, t.id),
    index("events_org_actor_user_created").on(t.orgId, t.actorUserId, t.createdAt, t.id),
    index("events_org_actor_key_created")
      .on(t.orgId, t.actorApiKeyId, t.createdAt, t.id)
      .where(sql`actor_api_key_id IS NOT NULL`),
    index("events_org_actor_incoming_created")
      .on(t.orgId, t.actorIncomingWebhookId, t.createdAt, t.id)
      .where(sql`actor_incoming_webhook_id IS NOT NULL`),
  ],
);

/**
 * Optimistic-concurrency guard for D1 batches (D1 has no interactive transactions):
 * a batch first inserts `ok = (1 if the row still has the ETag it was read with)`.
 * A stale ETag violates the CHECK, and D1 rolls the whole batch back.
 */
export const writeGuards = sqliteTable("write_guards", { ok: integer("ok").notNull() }, (t) => [
  check("write_guards_ok", sql`${t.ok} = 1`),
]);

/**
 * Events per (organization, type), kept by a trigger on `events` (migrations/0002):
 * the event log's total without counting a log that only grows.
 */
export const eventCounts = sqliteTable(
  "event_counts",
  {
    orgId: text("org_id").notNull(),
    type: text("type").notNull(),
    n: integer("n").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.type] })],
);

/** A POST's first response, replayed for the same `Idempotency-Key` for 24 h. */
export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    orgId: text("org_id").notNull(),
    key: text("key").notNull(),
    /** SHA-256 of method, path and body: another body under the same key is a 409. */
    requestHash: text("request_hash").notNull(),
    /** Null while the first request is still running. */
    status: integer("status"),
    responseBody: text("response_body"),
    location: text("location"),
    /** The response's ETag, replayed with it. */
    etag: text("etag"),
    createdAt: text("created_at").notNull(),
    expiresAt: text("expires_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.key] }), index("idempotency_expires").on(t.expiresAt)],
);

export type IdempotencyKey = typeof idempotencyKeys.$inferSelect;

export const webhooks = sqliteTable(
  "webhooks",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organizations.id),
    url: text("url").notNull(),
    /** Event types, or ["*"] for every one. */
    events: text("events", { mode: "json" }).$type<(EventType | "*")[]>().notNull(),
    filterProjectId: text("filter_project_id"),
    filterAssigneeId: text("filter_assignee_id"),
    description: text("description"),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    /** The signing secret, AES-GCM: `k<key id>.<base64 iv>.<base64 ciphertext>`, bound to this row and column (src/webhooks/secrets.ts). */
    secretCiphertext: text("secret_ciphertext").notNull(),
    /** The secret before the last rotation, still signing until `previousSecretExpiresAt`. */
    previousSecretCiphertext: text("previous_secret_ciphertext"),
    previousSecretExpiresAt: text("previous_secret_expires_at"),
    /** Public-key signatures sent beside the HMAC ones, with the organization's signing keys (src/webhooks/signing-keys.ts). */
    signatureScheme: text("signature_scheme", { enum: SIGNATURE_SCHEMES }).notNull().default("hmac-sha256"),
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
    disabledReason: text("disabled_reason"),
    lastTriggeredAt: text("last_triggered_at"),
    deliveredCount: integer("delivered_count").notNull().default(0),
    failedCount: integer("failed_count").notNull().default(0),
    /** `webhook.failing` when the last hour's success rate is under this (0: never); NULL: WEBHOOK_FAILING_THRESHOLD. */
    failureAlertThreshold: real("failure_alert_threshold"),
    /** When the last `webhook.failing` alert about this webhook was written: at most one an hour (webhooks/alerts.ts). */
    failingAlertedAt: text("failing_alerted_at"),
    etag: text("etag").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [index("webhooks_org_created").on(t.orgId, t.createdAt)],
);

/**
 * An organization's signing key pairs for public-key webhook signatures: one active
 * pair per algorithm (`expires_at` null), and after a rotation the one before it,
 * still signing until `expires_at`.
 */
export const signingKeys = sqliteTable(
  "signing_keys",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organizations.id),
    algorithm: text("algorithm", { enum: SIGNING_ALGORITHMS }).notNull(),
    /** SPKI, PEM-armoured: what `crypto.createVerify(...).verify(pem, …)` takes. */
    publicKeyPem: text("public_key_pem").notNull(),
    publicKeyJwk: text("public_key_jwk", { mode: "json" }).$type<JsonWebKey>().notNull(),
    /** PKCS #8, AES-GCM like webhook secrets: `k<key id>.<base64 iv>.<base64 ciphertext>`, bound to this row. */
    privateKeyCiphertext: text("private_key_ciphertext").notNull(),
    createdAt: text("created_at").notNull(),
    /** Null while active; set by a rotation to the end of the overlap. */
    expiresAt: text("expires_at"),
  },
  (t) => [
    index("signing_keys_org_algorithm").on(t.orgId, t.algorithm, t.createdAt),
    // One active pair per algorithm: two concurrent first uses cannot both create one.
    uniqueIndex("signing_keys_active").on(t.orgId, t.algorithm).where(sql`expires_at is null`),
  ],
);

export const deliveries = sqliteTable(
  "deliveries",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull(),
    webhookId: text("webhook_id").notNull(),
    eventId: text("event_id").notNull(),
    eventType: text("event_type").notNull(),
    status: text("status", { enum: DELIVERY_STATUSES }).notNull(),
    attemptCount: integer("attempt_count").notNull().default(0),
    lastStatusCode: integer("last_status_code"),
    nextAttemptAt: text("next_attempt_at"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    // One delivery per (event, webhook): duplicate queue messages cannot make two.
    uniqueIndex("deliveries_webhook_event").on(t.webhookId, t.eventId),
    index("deliveries_webhook_created").on(t.webhookId, t.createdAt),
    // The stall sweep finds pending deliveries whose next attempt is long overdue.
    index("deliveries_pending_due")
      .on(sql`coalesce(${t.nextAttemptAt}, ${t.createdAt})`)
      .where(sql`status = 'pending'`),
    // The retention sweep finds settled deliveries by age.
    index("deliveries_settled_updated").on(t.updatedAt, t.id).where(sql`status != 'pending'`),
    index("deliveries_webhook_status_created").on(t.webhookId, t.status, t.createdAt),
  ],
);

export const deliveryAttempts = sqliteTable(
  "delivery_attempts",
  {
    id: text("id").primaryKey(),
    deliveryId: text("delivery_id").notNull(),
    /** The delivery's webhook, so its attempts by time need no join (the stats endpoint); NULL only before 0008. */
    webhookId: text("webhook_id"),
    attemptNumber: integer("attempt_number").notNull(),
    attemptedAt: text("attempted_at").notNull(),
    statusCode: integer("status_code"),
    responseTimeMs: integer("response_time_ms"),
    error: text("error"),
    nextAttemptAt: text("next_attempt_at"),
    /** The request headers this attempt sent (signatures included); NULL when not sent, or made before 0009. */
    requestHeaders: text("request_headers", { mode: "json" }).$type<Record<string, string>>(),
  },
  (t) => [
    index("delivery_attempts_delivery").on(t.deliveryId, t.attemptNumber),
    index("delivery_attempts_webhook_attempted").on(t.webhookId, t.attemptedAt),
  ],
);

export const incomingWebhooks = sqliteTable(
  "incoming_webhooks",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organizations.id),
    name: text("name").notNull(),
    keyHash: text("key_hash").notNull(),
    prefix: text("prefix").notNull(),
    permissions: text("permissions", { mode: "json" }).$type<IncomingPermission[]>().notNull(),
    /** CIDRs; empty allows every address. */
    ipAllowlist: text("ip_allowlist", { mode: "json" }).$type<string[]>().notNull().default([]),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    createdBy: text("created_by").notNull(),
    lastUsedAt: text("last_used_at"),
    etag: text("etag").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("incoming_webhooks_hash").on(t.keyHash), index("incoming_webhooks_org").on(t.orgId, t.createdAt)],
);

export type Organization = typeof organizations.$inferSelect;
export type User = typeof users.$inferSelect;
export type ApiKey = typeof apiKeys.$inferSelect;
export type Project = typeof projects.$inferSelect;
export type Task = typeof tasks.$inferSelect;
export type Comment = typeof comments.$inferSelect;
export type Attachment = typeof attachments.$inferSelect;
export type EventRow = typeof events.$inferSelect;
export type Webhook = typeof webhooks.$inferSelect;
export type SigningKey = typeof signingKeys.$inferSelect;
export type Delivery = typeof deliveries.$inferSelect;
export type DeliveryAttempt = typeof deliveryAttempts.$inferSelect;
export type IncomingWebhook = typeof incomingWebhooks.$inferSelect;
