import type { EventRow } from "../db/schema";

/** The event fields a payload is built from (an event row, or a test's synthetic event). */
export type PayloadEvent = Pick<
  EventRow,
  "id" | "type" | "createdAt" | "data" | "changes" | "actorUserId" | "actorApiKeyId" | "actorIncomingWebhookId"
>;

export interface PayloadContext {
  webhookId: string;
  deliveryId: string;
  organization: { id: string; name: string };
}

/**
 * The request body of a delivery (README "Webhooks"). Built only from immutable inputs (the
 * event row, the ids, the organization's name, which the API cannot change), so
 * every retry of one delivery sends byte-identical bytes under its signature.
 */
export function deliveryBody(event: PayloadEvent, context: PayloadContext): string {
  const actor: Record<string, string | null> = { userId: event.actorUserId, apiKeyId: event.actorApiKeyId };
  if (event.actorIncomingWebhookId) actor.incomingWebhookId = event.actorIncomingWebhookId;
  return JSON.stringify({
    id: event.id,
    event: event.type,
    timestamp: event.createdAt,
    webhookId: context.webhookId,
    deliveryId: context.deliveryId,
    data: event.data,
    ...(event.changes ? { changes: event.changes } : {}),
    organization: { id: context.organization.id, name: context.organization.name },
    actor,
  });
}
