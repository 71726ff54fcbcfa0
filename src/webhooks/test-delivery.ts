import { configFrom } from "../config";
import { newId } from "../core/ids";
import { nowIso } from "../core/time";
import { EVENT_TYPES, type EventType } from "../events/catalog";
import {
  liveSecretsOrNull,
  liveSignersOrNull,
  postSigned,
  UNREADABLE_SECRET_REASON,
  UNREADABLE_SIGNING_KEY_REASON,
} from "./deliver";
import { deliveryBody } from "./payload";
import { sampleEventData } from "./samples";
import { checkWebhookUrl } from "./url-policy";
import { findWebhook, type WebhookContext } from "./webhooks";

/**
 * `POST /v1/webhooks/{id}/test`: one signed attempt with a sample event, made now,
 * and its outcome returned. The sample is synthetic: it is not written to the
 * organization's event log or the webhook's delivery log, is not retried, and does
 * not touch the webhook's failure count or success rate, so testing a broken
 * endpoint never disables it. Disabled webhooks can be tested before re-enabling.
 */
export async function sendTestDelivery(
  ctx: WebhookContext & { orgName: string },
  { id: webhookId, eventType }: { id: string; eventType?: EventType },
) {
  const { env } = ctx;
  const webhook = await findWebhook(ctx.db, ctx.orgId, webhookId);
  const subscribed = webhook.events;
  const type: EventType = eventType ?? (subscribed[0] === "*" ? "task.created" : (subscribed[0] ?? EVENT_TYPES[0]));
  const now = nowIso();
  const sample = sampleEventData(type, now);
  const deliveryId = newId("del");
  const body = deliveryBody(
    {
      id: newId("evt"),
      type,
      createdAt: now,
      data: sample.data,
      changes: sample.changes ?? null,
      actorUserId: ctx.actor.userId,
      actorApiKeyId: ctx.actor.apiKeyId,
      actorIncomingWebhookId: null,
    },
    { webhookId: webhook.id, deliveryId, organization: { id: ctx.orgId, name: ctx.orgName } },
  );
  const payload = JSON.parse(body) as Record<string, unknown>;

  const config = configFrom(env);
  const verdict = checkWebhookUrl(webhook.url, { allowLocalhost: config.webhookAllowLocalhost });
  if (!verdict.ok) {
    return {
      success: false,
      statusCode: null,
      responseTimeMs: null,
      error: `Not sent: ${verdict.reason}`,
      deliveryId,
      payload,
    };
  }
  const secrets = await liveSecretsOrNull(env, webhook, now, deliveryId);
  const signers = secrets && (await liveSignersOrNull(env, webhook, now, deliveryId));
  if (!secrets || !signers) {
    return {
      success: false,
      statusCode: null,
      responseTimeMs: null,
      error: secrets ? UNREADABLE_SIGNING_KEY_REASON : UNREADABLE_SECRET_REASON,
      deliveryId,
      payload,
    };
  }
  const result = await postSigned(config, {
    url: webhook.url,
    eventType: type,
    deliveryId,
    body,
    secrets,
    signers,
    extraHeaders: { "X-Verk-Test": "true" },
  });
  return {
    success: result.ok,
    statusCode: result.statusCode,
    responseTimeMs: result.responseTimeMs,
    error: result.error,
    deliveryId,
    payload,
  };
}
