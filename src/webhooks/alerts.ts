import { configFrom } from "../config";
import { OPERATIONAL_EVENT_TYPES } from "../core/enums";
import { randomBase62 } from "../core/ids";
import type { Env } from "../env";
import { enqueueEvents } from "../events/outbox";
import { failingAlertStatements } from "./alerts.queries";

// Failure alerts (README "Alerts"): the operational events `webhook.disabled`,
// `webhook.failing` and `delivery.exhausted`. They are written in the batch of the
// change they tell of (alerts.queries.ts) and go out like every event, with two rules
// that keep them from feeding on themselves:
// - a webhook is never sent an alert about itself (`webhookMatches`, fanout.ts);
// - a delivery of an operational event moves nothing that alerts: its failures do not
//   count toward disabling its webhook (nor does its 410), its exhaustion is not
//   announced, and the failing rate leaves it out. So two webhooks subscribed to each
//   other's alerts, both down, each hear of the other once and stop.

const OPERATIONAL: ReadonlySet<string> = new Set(OPERATIONAL_EVENT_TYPES);

/** Whether `type` is an operational event (README "Alerts"). */
export function isOperational(type: string): boolean {
  return OPERATIONAL.has(type);
}

/** The webhook an operational event is about (`data.webhook.id`); undefined for other events. */
export function alertedWebhookId(event: { type: string; data: unknown }): string | undefined {
  if (!isOperational(event.type)) return undefined;
  const webhook = (event.data as { webhook?: { id?: unknown } } | null)?.webhook;
  return typeof webhook?.id === "string" ? webhook.id : undefined;
}

/** The ids written by the alert statements at `indexes` of a batch's results (their RETURNING id). */
export function alertIds(written: D1Result<unknown>[], indexes: number[]): { id: string }[] {
  return indexes.flatMap((i) => (written[i]?.results ?? []) as { id: string }[]);
}

/** Enqueues alert events written by a batch; a failed send is healed by the outbox sweep (the events stay unsent). */
export async function sendAlerts(env: Env, ids: { id: string }[]): Promise<void> {
  if (ids.length > 0) await enqueueEvents(env, ids);
}

const HOUR_MS = 3_600_000;

/**
 * The cron's `webhook.failing` evaluation at `now` (ms; the cron's scheduled time):
 * every enabled webhook whose success rate over the last hour is under its
 * `failureAlertThreshold` (by default WEBHOOK_FAILING_THRESHOLD), over at least WEBHOOK_FAILING_MIN_ATTEMPTS attempts, and
 * that was not alerted about within the hour, gets one `webhook.failing` event. One D1
 * batch (failingAlertStatements); returns the ids of the events written.
 */
export async function alertFailingWebhooks(env: Env, now = Date.now()): Promise<string[]> {
  const config = configFrom(env);
  const statements = failingAlertStatements(env.DB, {
    windowStart: new Date(now - HOUR_MS).toISOString(),
    windowEnd: new Date(now).toISOString(),
    threshold: config.webhookFailingThreshold,
    minAttempts: config.webhookFailingMinAttempts,
    alertedBefore: new Date(now - HOUR_MS).toISOString(),
    idPrefix: `evt_${randomBase62(10)}`,
  });
  const written = await env.DB.batch<{ id: string }>(statements);
  const ids = alertIds(written, [0]);
  await sendAlerts(env, ids);
  return ids.map((r) => r.id);
}
