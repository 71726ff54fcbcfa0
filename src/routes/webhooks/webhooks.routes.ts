import { createRoute, z } from "@hono/zod-openapi";
import { DELIVERY_STATUSES, SIGNATURE_SCHEMES } from "../../core/enums";
import { EVENT_TYPES } from "../../events/catalog";
import {
  authErrors,
  conflictError,
  jsonBody,
  jsonResponse,
  needs,
  notFoundError,
  pathId,
  planLimitError,
} from "../../http/openapi";
import { listQuery, pageSchema } from "../../http/pagination";
import { DELIVERY_SORT_FIELDS } from "../../webhooks/deliveries";
import { GIVEN_SECRET_PATTERN } from "../../webhooks/secrets";
import { MAX_WEBHOOK_URL_LENGTH } from "../../webhooks/url-policy";
import { WEBHOOK_SORT_FIELDS } from "../../webhooks/webhooks";
import { BooleanQueryParam, deletedResponses, IdempotencyHeaders, IdRef, PreferHeaders } from "../common";
import { Timestamp } from "../schemas";

/**
 * Quotes the refused value only when it is a string, and shortly: String() of a JSON
 * object can throw (`{"toString": 0}`) and of a deeply nested array overflows the stack.
 */
function unknownEventType(issue: { input?: unknown }): string {
  const input = issue.input;
  if (typeof input !== "string") return "Expected an event type from the catalog";
  return `Unknown event type '${input.length > 100 ? `${input.slice(0, 100)}…` : input}'`;
}

const EventTypeSchema = z.enum(EVENT_TYPES, { error: unknownEventType });

const EventsSchema = z
  .array(z.enum([...EVENT_TYPES, "*"], { error: unknownEventType }))
  .min(1, 'Subscribe to at least one event type, or ["*"] for all')
  .max(EVENT_TYPES.length)
  .refine((events) => !events.includes("*") || events.length === 1, 'Use ["*"] alone to subscribe to every event')
  .openapi({ example: ["task.created", "task.completed"], description: 'Event types from the catalog, or ["*"]' });

const FiltersSchema = z
  .strictObject({
    projectId: IdRef.nullable().optional().openapi({ description: "Only events of this project (or the project)" }),
    assigneeId: IdRef.nullable().optional().openapi({ description: "Only events of tasks assigned to this member" }),
  })
  .openapi("WebhookFilters");

const Url = z.string().min(1).max(MAX_WEBHOOK_URL_LENGTH).openapi({
  example: "https://example.com/hooks/verk",
  description: "HTTPS; private, loopback and link-local addresses and URLs with credentials are refused",
});

const GivenSecret = z
  .string()
  .regex(GIVEN_SECRET_PATTERN, "secret must be 16 to 256 visible ASCII characters (no spaces)")
  .openapi({ description: "Your own signing secret; omit it to have a `whsec_…` secret generated" });

const Description = z.string().trim().max(1000).nullable();

const SignatureScheme = z.enum(SIGNATURE_SCHEMES).openapi({
  description:
    "Signatures sent beside the HMAC ones (`X-Verk-Signature`, `webhook-signature: v1,…`), which every delivery carries: `hmac-sha256` none more (the default); `ed25519` a Standard Webhooks `v1a,<base64>` entry in `webhook-signature`; `rsa-sha256` `X-Verk-Signature-RSA: <base64>` over the raw body. The public keys are at `GET /v1/webhooks/signing-keys`",
});

const FailureAlertThreshold = z.number().min(0).max(1).nullable().openapi({
  description:
    "`webhook.failing` is sent when this webhook's success rate over the last hour falls under this fraction (0 to 1; 0: never); null: the deployment's WEBHOOK_FAILING_THRESHOLD",
  example: 0.5,
});

export const WebhookSchema = z
  .object({
    id: z.string().openapi({ example: "wh_7Yt2Kq9Lm4Xw1Zr8Bv3N" }),
    url: z.string(),
    events: z.array(z.string()),
    filters: z.object({ projectId: z.string().nullable(), assigneeId: z.string().nullable() }),
    description: z.string().nullable(),
    enabled: z.boolean(),
    disabledReason: z
      .string()
      .nullable()
      .openapi({ description: "Why Verk disabled the webhook (410 Gone, or too many consecutive failures)" }),
    consecutiveFailures: z.number().int(),
    failureAlertThreshold: FailureAlertThreshold,
    lastTriggeredAt: Timestamp.nullable().openapi({ description: "When a delivery was last attempted" }),
    deliverySuccessRate: z
      .number()
      .nullable()
      .openapi({ description: "Succeeded ÷ (succeeded + failed) deliveries; null before the first settles" }),
    previousSecretExpiresAt: Timestamp.nullable().openapi({
      description: "After a rotation: until when the previous secret still signs beside the new one",
    }),
    signatureScheme: SignatureScheme,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi("Webhook");

export const WebhookWithSecretSchema = WebhookSchema.extend({
  secret: z.string().optional().openapi({
    description:
      "The signing secret. Shown only in this response: store it now. Absent from an idempotent replay (`Idempotent-Replayed: true`).",
  }),
}).openapi("WebhookWithSecret");

export const CreateWebhookSchema = z
  .strictObject({
    url: Url,
    events: EventsSchema,
    secret: GivenSecret.optional(),
    description: Description.optional(),
    enabled: z.boolean().optional(),
    filters: FiltersSchema.nullable().optional(),
    signatureScheme: SignatureScheme.optional(),
    failureAlertThreshold: FailureAlertThreshold.optional(),
  })
  .openapi("CreateWebhook");

export const UpdateWebhookSchema = z
  .strictObject({
    url: Url.optional(),
    events: EventsSchema.optional(),
    description: Description.optional(),
    enabled: z
      .boolean()
      .optional()
      .openapi({ description: "true re-enables a disabled webhook and resets its failure count" }),
    filters: FiltersSchema.nullable().optional().openapi({ description: "Merged; a null field or null clears" }),
    signatureScheme: SignatureScheme.optional(),
    failureAlertThreshold: FailureAlertThreshold.optional(),
  })
  .openapi("UpdateWebhook");

export const RotateSecretSchema = z.strictObject({ secret: GivenSecret.optional() }).openapi("RotateWebhookSecret");

export const TestWebhookSchema = z
  .strictObject({
    eventType: EventTypeSchema.optional().openapi({
      description: 'The sample to send; defaults to the first subscribed type (task.created for ["*"])',
    }),
  })
  .openapi("TestWebhook");

export const RecoverDeliveriesSchema = z
  .strictObject({
    since: Timestamp.openapi({
      description:
        "Start of the window (inclusive): deliveries that ended failed at or after it; within the delivery log's retention",
    }),
    until: Timestamp.optional().openapi({
      description: "End of the window (exclusive), later than `since`; defaults to now (and is never later)",
    }),
  })
  .openapi("RecoverWebhookDeliveries");

export const RecoverySchema = z
  .object({
    webhookId: z.string(),
    queued: z.number().int().openapi({ description: "Deliveries now pending again, re-sent under their own ids" }),
    remaining: z.number().int().openapi({
      description:
        "Failed deliveries of the window beyond this request's bound (1000): call again with the same window",
    }),
    since: Timestamp,
    until: Timestamp,
  })
  .openapi("WebhookRecovery");

export const TestResultSchema = z
  .object({
    success: z.boolean(),
    statusCode: z.number().int().nullable(),
    responseTimeMs: z.number().int().nullable(),
    error: z.string().nullable(),
    deliveryId: z.string(),
    payload: z.record(z.string(), z.unknown()).openapi({ description: "The body that was sent" }),
  })
  .openapi("WebhookTestResult");

const DeliveryStatus = z.enum(DELIVERY_STATUSES);

export const DeliverySchema = z
  .object({
    id: z.string().openapi({ example: "del_3Hs8Kd2Lq9Wx4Zt1Cv6B" }),
    webhookId: z.string(),
    eventId: z.string(),
    event: z.string(),
    status: DeliveryStatus,
    attemptCount: z.number().int(),
    lastStatusCode: z.number().int().nullable(),
    nextAttemptAt: Timestamp.nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi("Delivery");

export const DeliveryAttemptSchema = z
  .object({
    attemptNumber: z.number().int(),
    attemptedAt: Timestamp,
    statusCode: z.number().int().nullable(),
    responseTimeMs: z.number().int().nullable(),
    error: z.string().nullable(),
    nextAttemptAt: Timestamp.nullable(),
    requestHeaders: z
      .record(z.string(), z.string())
      .nullable()
      .openapi({
        description:
          "The request headers this attempt sent, by name: `webhook-timestamp` and the signatures are this attempt's own. Null when it was not sent, and for attempts recorded before headers were kept",
        example: {
          "Content-Type": "application/json",
          "User-Agent": "Verk-Webhooks/1.0",
          "X-Verk-Event": "task.created",
          "X-Verk-Delivery": "del_3Hs8Kd2Lq9Wx4Zt1Cv6B",
          "X-Verk-Signature": "sha256=5d41402abc4b2a76b9719d911017c592ae2f2b8a0c6bd8f0a52e2f4b1b7c9d3e",
          "webhook-id": "del_3Hs8Kd2Lq9Wx4Zt1Cv6B",
          "webhook-timestamp": "1767225600",
          "webhook-signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
        },
      }),
  })
  .openapi("DeliveryAttempt");

export const DeliveryDetailSchema = DeliverySchema.extend({
  attempts: z.array(DeliveryAttemptSchema),
  payload: z.record(z.string(), z.unknown()).nullable().openapi({ description: "The body every attempt sends" }),
}).openapi("DeliveryDetail");

function webhookIdParams() {
  return z.object({ id: pathId("id") });
}

function deliveryParams() {
  return z.object({ id: pathId("id"), deliveryId: pathId("deliveryId") });
}

const tags = ["Webhooks"];

export const listWebhooks = createRoute({
  operationId: "listWebhooks",
  method: "get",
  path: "/",
  tags,
  summary: "List the organization's webhooks (admin)",
  ...needs("webhooks:read"),
  request: {
    query: listQuery(WEBHOOK_SORT_FIELDS, "createdAt", {
      enabled: BooleanQueryParam,
    }),
  },
  responses: { 200: jsonResponse(pageSchema(WebhookSchema, "WebhookPage"), "A page of webhooks"), ...authErrors },
});

export const createWebhook = createRoute({
  operationId: "createWebhook",
  method: "post",
  path: "/",
  tags,
  summary: "Create a webhook; its secret is shown once (admin)",
  ...needs("webhooks:write"),
  request: { body: jsonBody(CreateWebhookSchema), headers: IdempotencyHeaders },
  responses: {
    201: jsonResponse(WebhookWithSecretSchema, "The new webhook and its secret"),
    ...authErrors,
    ...planLimitError,
  },
});

export const getWebhook = createRoute({
  operationId: "getWebhook",
  method: "get",
  path: "/{id}",
  tags,
  summary: "Get a webhook (admin)",
  ...needs("webhooks:read"),
  request: { params: webhookIdParams() },
  responses: { 200: jsonResponse(WebhookSchema, "The webhook"), ...authErrors, ...notFoundError },
});

export const updateWebhook = createRoute({
  operationId: "updateWebhook",
  method: "patch",
  path: "/{id}",
  tags,
  summary: "Update a webhook (admin)",
  description: '`{"enabled": true}` re-enables a disabled webhook and resets its failure count.',
  ...needs("webhooks:write"),
  request: { params: webhookIdParams(), body: jsonBody(UpdateWebhookSchema) },
  responses: {
    200: jsonResponse(WebhookSchema, "The webhook"),
    ...authErrors,
    ...notFoundError,
    ...conflictError,
  },
});

export const deleteWebhook = createRoute({
  operationId: "deleteWebhook",
  method: "delete",
  path: "/{id}",
  tags,
  summary: "Delete a webhook and its delivery log (admin)",
  ...needs("webhooks:write"),
  request: { params: webhookIdParams(), headers: PreferHeaders },
  responses: { ...deletedResponses("Deleted"), ...authErrors, ...notFoundError },
});

export const rotateSecret = createRoute({
  operationId: "rotateWebhookSecret",
  method: "post",
  path: "/{id}/rotate-secret",
  tags,
  summary: "Rotate a webhook's signing secret (admin)",
  description: "The new secret is shown once; the old one keeps signing beside it for the grace period.",
  ...needs("webhooks:write"),
  request: { params: webhookIdParams(), body: jsonBody(RotateSecretSchema, false), headers: IdempotencyHeaders },
  responses: {
    200: jsonResponse(WebhookWithSecretSchema, "The webhook and its new secret"),
    ...authErrors,
    ...notFoundError,
    ...conflictError,
  },
});

export const testWebhook = createRoute({
  operationId: "sendWebhookTest",
  method: "post",
  path: "/{id}/test",
  tags,
  summary: "Send a test event to a webhook (admin)",
  description:
    "Sends a signed sample event now and reports the endpoint's answer: one attempt, made during the request (timeout as for deliveries), without retries. The sample is not an event of the organization: it is not in the event log nor the delivery log and does not count toward the success rate or failures. It carries the header `X-Verk-Test: true`.",
  ...needs("webhooks:write"),
  request: { params: webhookIdParams(), body: jsonBody(TestWebhookSchema, false), headers: IdempotencyHeaders },
  responses: { 200: jsonResponse(TestResultSchema, "What the endpoint answered"), ...authErrors, ...notFoundError },
});

export const listDeliveries = createRoute({
  operationId: "listWebhookDeliveries",
  method: "get",
  path: "/{id}/deliveries",
  tags,
  summary: "The webhook's delivery log (admin)",
  ...needs("webhooks:read"),
  request: {
    params: webhookIdParams(),
    query: listQuery(DELIVERY_SORT_FIELDS, "createdAt", {
      status: DeliveryStatus.optional(),
      event: EventTypeSchema.optional(),
    }),
  },
  responses: {
    200: jsonResponse(pageSchema(DeliverySchema, "DeliveryPage"), "A page of deliveries"),
    ...authErrors,
    ...notFoundError,
  },
});

export const getDelivery = createRoute({
  operationId: "getWebhookDelivery",
  method: "get",
  path: "/{id}/deliveries/{deliveryId}",
  tags,
  summary: "One delivery with each attempt and its payload (admin)",
  ...needs("webhooks:read"),
  request: { params: deliveryParams() },
  responses: { 200: jsonResponse(DeliveryDetailSchema, "The delivery"), ...authErrors, ...notFoundError },
});

export const redeliver = createRoute({
  operationId: "redeliverWebhookDelivery",
  method: "post",
  path: "/{id}/deliveries/{deliveryId}/redeliver",
  tags,
  summary: "Send a delivery again, with a fresh retry schedule (admin)",
  ...needs("webhooks:write"),
  request: { params: deliveryParams(), headers: IdempotencyHeaders },
  responses: {
    202: jsonResponse(DeliverySchema, "Queued; the delivery is pending again"),
    ...authErrors,
    ...notFoundError,
    ...conflictError,
  },
});

export const recoverDeliveries = createRoute({
  operationId: "recoverWebhookDeliveries",
  method: "post",
  path: "/{id}/recover",
  tags,
  summary: "Re-send every delivery that ended failed in a window (admin)",
  description:
    "After an outage on the receiver's side: each delivery of the webhook that ended `failed` at or after `since` (and before `until`) becomes `pending` again and is re-sent as new attempts under its own id, with a fresh retry schedule. The delivery log shows the progress: `GET /v1/webhooks/{id}/deliveries?status=pending` lists those still underway (`pagination.total` counts them), each delivery's attempts continue its numbering, and those that failed again have an `updatedAt` after the answer's `until` (a second call with `since` set to it re-sends just them). At most 1000 per request (`remaining` counts the rest). Calling it again re-sends nothing twice: deliveries already re-sent are pending or have settled.",
  ...needs("webhooks:write"),
  request: { params: webhookIdParams(), body: jsonBody(RecoverDeliveriesSchema), headers: IdempotencyHeaders },
  responses: {
    202: jsonResponse(RecoverySchema, "Queued: how many, and the window in UTC"),
    ...authErrors,
    ...notFoundError,
    ...conflictError,
  },
});
