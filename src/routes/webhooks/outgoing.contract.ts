import { z } from "@hono/zod-openapi";
import { EVENT_TYPES } from "../../events/catalog";
import type { createRouter } from "../../http/openapi";
import { Timestamp } from "../schemas";

/** What Verk POSTs to a subscribed URL (README "Webhooks"): documented under the OpenAPI 3.1 `webhooks`. */
export const WebhookPayloadSchema = z
  .object({
    id: z.string().openapi({ description: "The event id (evt_…): the same for every webhook it goes to" }),
    event: z.enum(EVENT_TYPES),
    timestamp: Timestamp.openapi({ description: "When the change happened" }),
    webhookId: z.string(),
    deliveryId: z.string().openapi({ description: "Stable across retries: deduplicate on it" }),
    data: z.record(z.string(), z.unknown()).openapi({
      description: "The full resource after the change (for *.deleted: as it was before)",
    }),
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
  .openapi("WebhookPayload");

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
      "Standard Webhooks: `v1,<base64>` over `id.timestamp.body`; two, space separated, during a secret rotation",
  }),
});

type Registry = ReturnType<typeof createRouter>["openAPIRegistry"];

export function registerOutgoingWebhook(registry: Registry): void {
  registry.registerWebhook({
    operationId: "receiveWebhookEvent",
    method: "post",
    path: "verk-event",
    tags: ["Webhooks"],
    summary: "An event delivered to your webhook URL",
    description:
      "Answer 2xx within 5 s. Other answers, timeouts and network errors are retried (1 min, 5 min, 15 min, 1 h, 3 h, 6 h, with jitter; Retry-After honoured on 429); 410 Gone disables the webhook.",
    request: {
      headers: DeliveryHeaders,
      body: { content: { "application/json": { schema: WebhookPayloadSchema } } },
    },
    responses: { 200: { description: "Received (any 2xx)" }, 410: { description: "Stop: disables the webhook" } },
  });
}
