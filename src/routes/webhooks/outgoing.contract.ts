import { z } from "@hono/zod-openapi";
import { EVENT_TYPES, type EventType, type ResourceType } from "../../events/catalog";
import type { createRouter } from "../../http/openapi";
import { AttachmentSchema } from "../attachments/attachments.routes";
import { CommentSchema } from "../comments/comments.routes";
import { ProjectSchema } from "../projects/projects.routes";
import { Timestamp } from "../schemas";
import { TaskSchema } from "../tasks/tasks.routes";
import { UserSchema } from "../users/users.routes";

/** The envelope of every delivery; `event` and `data` are typed per resource below. */
function payloadSchema<E extends readonly [EventType, ...EventType[]], D extends z.ZodType>(
  name: string,
  events: E,
  data: D,
) {
  return z
    .object({
      id: z.string().openapi({ description: "The event id (evt_…): the same for every webhook it goes to" }),
      event: z.enum(events),
      timestamp: Timestamp.openapi({ description: "When the change happened" }),
      webhookId: z.string(),
      deliveryId: z.string().openapi({ description: "Stable across retries: deduplicate on it" }),
      data: data.openapi({ description: "The full resource after the change (for *.deleted: as it was before)" }),
      changes: z
        .record(z.string(), z.object({ from: z.unknown(), to: z.unknown() }))
        .optional()
        .openapi({ description: "Updates only: each changed field's previous and new value" }),
      organization: z.object({ id: z.string(), name: z.string() }),
      actor: z.object({
        userId: z.string().nullable(),
        apiKeyId: z.string().nullable(),
        incomingWebhookId: z.string().optional(),
      }),
    })
    .openapi(name);
}

const eventsOf = <R extends ResourceType>(resource: R) =>
  EVENT_TYPES.filter((type) => type.startsWith(`${resource}.`)) as unknown as [EventType, ...EventType[]];

/**
 * A task event's `data`: the task, plus the names receivers written from the seeds read
 * (README "Webhooks"), looked up when the event is written.
 */
export const TaskEventDataSchema = TaskSchema.extend({
  taskId: z.string().openapi({ description: "The same as `id`" }),
  creatorId: z.string().openapi({ description: "The same as `createdBy`" }),
  projectName: z.string().openapi({ description: "The task's project's name when the event happened" }),
  assigneeName: z.string().nullable().openapi({ description: "The assignee's name, or null" }),
}).openapi("TaskEventData");

export const FileEventDataSchema = AttachmentSchema.extend({
  assigneeId: z.string().nullable().openapi({
    description: "The assignee of the attachment's task when the event was written, for the webhook assignee filter",
  }),
}).openapi("FileEventData");

export const CommentEventDataSchema = CommentSchema.extend({
  authorName: z.string().openapi({ description: "The author's name when the event happened" }),
}).openapi("CommentEventData");

// The operational events (README "Alerts"): about a webhook of the organization, never
// the one they are sent to; written by the system (the actor's ids are null).

const AlertedWebhookSchema = z
  .object({
    id: z.string(),
    origin: z.string().openapi({
      description:
        "The origin of its URL (scheme, host, port): the path and query, which can carry tokens, are left out",
      example: "https://hooks.example.com",
    }),
    description: z.string().nullable(),
  })
  .openapi("AlertedWebhook", {
    description: "The webhook the alert is about: never its secret, nor its URL's path or query",
  });

const LastErrorSchema = z
  .object({
    statusCode: z
      .int()
      .nullable()
      .openapi({ description: "The receiver's answer; null: no answer (timeout, network)" }),
    error: z.string().nullable(),
    attemptedAt: Timestamp,
  })
  .openapi("AlertLastError", { description: "The failed attempt the alert tells of" });

export const WebhookDisabledDataSchema = z
  .object({
    webhook: AlertedWebhookSchema,
    reason: z.enum(["consecutive_failures", "gone", "manual"]).openapi({
      description:
        "`consecutive_failures`: WEBHOOK_DISABLE_AFTER_FAILURES failed attempts in a row; `gone`: the endpoint answered 410; `manual`: PATCH enabled=false (the actor says who)",
    }),
    consecutiveFailures: z.int(),
    lastError: LastErrorSchema.nullable().openapi({
      description: "null: a manual disable of a webhook that never failed",
    }),
  })
  .openapi("WebhookDisabledData");

export const WebhookFailingDataSchema = z
  .object({
    webhook: AlertedWebhookSchema,
    successRate: z.number().min(0).max(1).openapi({ description: "Succeeded attempts / attempts in the window" }),
    attempts: z.int(),
    failures: z.int(),
    threshold: z.number().openapi({
      description: "The webhook's failureAlertThreshold (or WEBHOOK_FAILING_THRESHOLD): the rate fell under it",
    }),
    windowStart: Timestamp,
    windowEnd: Timestamp,
  })
  .openapi("WebhookFailingData");

export const DeliveryExhaustedDataSchema = z
  .object({
    id: z.string().openapi({ description: "The delivery (del_…), still redeliverable" }),
    webhook: AlertedWebhookSchema,
    event: z.object({ id: z.string(), type: z.enum(EVENT_TYPES) }),
    attempts: z.int(),
    lastError: LastErrorSchema.nullable(),
  })
  .openapi("DeliveryExhaustedData");

/** What Verk POSTs to a subscribed URL, one typed payload per resource. */
export const WEBHOOK_PAYLOADS = {
  task: payloadSchema("TaskEvent", eventsOf("task"), TaskEventDataSchema),
  project: payloadSchema("ProjectEvent", eventsOf("project"), ProjectSchema),
  member: payloadSchema("MemberEvent", eventsOf("member"), UserSchema),
  comment: payloadSchema("CommentEvent", eventsOf("comment"), CommentEventDataSchema),
  file: payloadSchema("FileEvent", eventsOf("file"), FileEventDataSchema),
  webhook: z
    .union([
      payloadSchema("WebhookDisabledEvent", ["webhook.disabled"], WebhookDisabledDataSchema),
      payloadSchema("WebhookFailingEvent", ["webhook.failing"], WebhookFailingDataSchema),
    ])
    .openapi("WebhookEvent"),
  delivery: payloadSchema("DeliveryEvent", eventsOf("delivery"), DeliveryExhaustedDataSchema),
} satisfies Record<ResourceType, z.ZodType>;

/** Operational events (README "Alerts") are told apart in the `webhooks` section's descriptions. */
const OPERATIONAL_RESOURCES: ReadonlySet<string> = new Set(["webhook", "delivery"]);

const DeliveryHeaders = z.object({
  "x-verk-event": z.enum(EVENT_TYPES),
  "x-verk-delivery": z.string().openapi({ description: "The delivery id, the same on every retry" }),
  "x-verk-signature": z.string().openapi({
    description: "`sha256=` + hex HMAC-SHA256 of the raw body, keyed with the secret's UTF-8 bytes",
  }),
  "webhook-id": z.string().openapi({ description: "Standard Webhooks: the delivery id" }),
  "webhook-timestamp": z.string().openapi({ description: "Standard Webhooks: unix seconds of this attempt" }),
  "webhook-signature": z.string().openapi({
    description:
      "Standard Webhooks: `v1,<base64>` HMAC-SHA256 over `id.timestamp.body`; two, space separated, during a secret rotation. A webhook with `signatureScheme` `ed25519` gets, after them, a `v1a,<base64>` Ed25519 signature of the same content per live signing key: one, or two during a key rotation's overlap (the `active` key first, then the `previous` one). Verify with the published keys (GET /v1/webhooks/signing-keys).",
  }),
  "x-verk-signature-rsa": z.string().optional().openapi({
    description:
      "`signatureScheme` `rsa-sha256` only: base64 RSASSA-PKCS1-v1_5 SHA-256 signature of the raw body (RSA 2048), to verify with the `pem` of the organization's `rsa-sha256` key (GET /v1/webhooks/signing-keys). During a key rotation's overlap it stays signed by the `previous` key, so a receiver pinning that PEM notices nothing; the new `active` key signs `X-Verk-Signature-RSA-Next`. After the overlap it is the `active` key's.",
  }),
  "x-verk-signature-rsa-next": z.string().optional().openapi({
    description:
      "`signatureScheme` `rsa-sha256`, during a key rotation's overlap only: the same signature as `X-Verk-Signature-RSA`, by the new `active` key.",
  }),
  "x-verk-signature-key-id": z.string().optional().openapi({
    description:
      "`signatureScheme` `ed25519` or `rsa-sha256` only: the ids (`sk_…`, the published key's `id` and JWK `kid`) of the keys that signed, space separated, in the order of their signatures (Ed25519: the `v1a,` entries; RSA: `X-Verk-Signature-RSA`, then `-Next`).",
  }),
});

type Registry = ReturnType<typeof createRouter>["openAPIRegistry"];

/** The OpenAPI 3.1 `webhooks` section: one entry per resource, each with its typed payload and the signature headers. */
export function registerOutgoingWebhooks(registry: Registry): void {
  for (const [resource, schema] of Object.entries(WEBHOOK_PAYLOADS)) {
    const name = `${resource[0]!.toUpperCase()}${resource.slice(1)}`;
    const operational = OPERATIONAL_RESOURCES.has(resource);
    registry.registerWebhook({
      operationId: `receive${name}Event`,
      method: "post",
      path: `${resource}-event`,
      tags: ["Webhooks"],
      summary: `A ${resource} event delivered to your webhook URL`,
      description: `${operational ? "An operational event (failure alerts): never about the webhook it is sent to. " : ""}Sent for ${eventsOf(resource as ResourceType).join(", ")}. Answer 2xx within 5 s. Other answers, timeouts and network errors are retried (1 min, 5 min, 15 min, 1 h, 3 h, 6 h, with jitter; Retry-After honoured on 429); ${operational ? "failures and 410 Gone end only this delivery: they never count toward disabling the webhook (no loops)" : "410 Gone disables the webhook"}. Verify the signature before trusting the body.`,
      security: [],
      request: {
        headers: DeliveryHeaders,
        body: { required: true, content: { "application/json": { schema } } },
      },
      responses: {
        200: { description: "Received (any 2xx)" },
        410: { description: operational ? "Stop this delivery" : "Stop: disables the webhook" },
      },
    });
  }
}
