import { OPERATIONAL_EVENT_TYPES } from "../core/enums";

// The raw SQL that writes operational events (README "Alerts") inside the batch whose
// change they tell of: each is an INSERT … SELECT over the rows as that point of the
// batch sees them, conditional on the change really happening, RETURNING the event's
// id so the caller can enqueue it. The events are the system's (no actor) and start
// unsent (enqueued_at NULL): a lost enqueue is healed by the outbox sweep like any event.

const EVENT_COLUMNS = `(id, org_id, type, resource_type, resource_id, data, changes, actor_user_id, actor_api_key_id,
  actor_incoming_webhook_id, created_at, enqueued_at)`;

/** The webhook an operational event is about, as its `data.webhook` (never the secret). */
/**
 * The webhook an alert is about: id, description and the ORIGIN of its URL only. The
 * path and query can carry tokens (Slack, Zapier URLs) and alerts reach other receivers
 * and the event log, which `events:read` keys read without `webhooks:read`. Stored URLs
 * are normalized hrefs, so a `/` always follows the host.
 */
const webhookJson = (w: string) =>
  `json_object('id', ${w}.id, 'origin', substr(${w}.url, 1, instr(${w}.url, '://') + 1 + instr(substr(${w}.url, instr(${w}.url, '://') + 3), '/')), 'description', ${w}.description)`;

/** The event types whose deliveries never cause operational events, as an SQL list. */
export const OPERATIONAL_SQL_LIST = OPERATIONAL_EVENT_TYPES.map((t) => `'${t}'`).join(", ");

/** Why a webhook was disabled, as `webhook.disabled` says it. */
export type DisabledReason = "consecutive_failures" | "gone" | "manual";

/** The attempt that disabled a webhook or exhausted a delivery. */
export interface LastError {
  statusCode: number | null;
  error: string | null;
  attemptedAt: string;
}

/**
 * `webhook.disabled` for a failed attempt, written only if that attempt disables the
 * webhook: it must run just before the statement that counts the failure
 * (`countWebhookFailure`, or `disableGoneWebhook` for `gone`), and its condition is
 * that statement's own, read before it, so exactly one event is written per disabling.
 * Raw: INSERT … SELECT with json_object over the webhook row, conditional in its WHERE.
 */
export function disabledAlertStatement(
  db: D1Database,
  input: { eventId: string; webhookId: string; reason: "consecutive_failures" | "gone"; disableAfter: number },
  last: LastError,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO events ${EVENT_COLUMNS}
       SELECT ?1, org_id, 'webhook.disabled', 'webhook', id,
         json_object('webhook', ${webhookJson("webhooks")}, 'reason', ?2, 'consecutiveFailures', consecutive_failures + 1,
           'lastError', json_object('statusCode', ?3, 'error', ?4, 'attemptedAt', ?5)),
         NULL, NULL, NULL, NULL, ?5, NULL
       FROM webhooks WHERE id = ?6 AND enabled = 1 AND (?2 = 'gone' OR consecutive_failures + 1 >= ?7)
       RETURNING id`,
    )
    .bind(
      input.eventId,
      input.reason,
      last.statusCode,
      last.error,
      last.attemptedAt,
      input.webhookId,
      input.disableAfter,
    );
}

/**
 * `delivery.exhausted` for a delivery about to end failed because its retries are used
 * up (the chain's last attempt failed, or the dead-letter queue got its message): written
 * only while the delivery is still pending (so once), and never for a delivery of an
 * operational event (no loops). Must run after the last attempt's row is written and
 * before the delivery is settled. The last error is the delivery's latest attempt.
 * Raw: INSERT … SELECT joining the delivery, its webhook and its latest attempt.
 */
export function exhaustedAlertStatement(
  db: D1Database,
  eventId: string,
  deliveryId: string,
  at: string,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO events ${EVENT_COLUMNS}
       SELECT ?1, d.org_id, 'delivery.exhausted', 'delivery', d.id,
         json_object('id', d.id, 'webhook', ${webhookJson("w")},
           'event', json_object('id', d.event_id, 'type', d.event_type), 'attempts', d.attempt_count,
           'lastError', (SELECT json_object('statusCode', a.status_code, 'error', a.error, 'attemptedAt', a.attempted_at)
             FROM delivery_attempts a WHERE a.delivery_id = d.id ORDER BY a.attempt_number DESC LIMIT 1)),
         NULL, NULL, NULL, NULL, ?2, NULL
       FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
       WHERE d.id = ?3 AND d.status = 'pending' AND d.event_type NOT IN (${OPERATIONAL_SQL_LIST})
       RETURNING id`,
    )
    .bind(eventId, at, deliveryId);
}

/** The window and the rules of a `webhook.failing` evaluation. */
export interface FailingWindow {
  /** The window is [windowStart, windowEnd): the last hour. */
  windowStart: string;
  windowEnd: string;
  /** Alert when the success rate is under this (0: never), unless the webhook sets its own. */
  threshold: number;
  /** …over at least this many attempts. */
  minAttempts: number;
  /** An alert newer than this (windowEnd less an hour) means the webhook was alerted about within the hour. */
  alertedBefore: string;
  /** The events' ids: this prefix + the row's number (the statement writes several). */
  idPrefix: string;
}

/**
 * One `webhook.failing` evaluation, set-based, for every webhook at once: one INSERT …
 * SELECT aggregates each enabled webhook's attempts of the window (an index range of
 * (webhook_id, attempted_at) per webhook; deliveries of operational events left out, so
 * alerts never make a webhook "failing", and attempts never sent left out — those of a
 * disabled webhook, "Not sent", have no request headers — as they say nothing of the
 * endpoint) and writes an event for each whose success rate
 * is under the threshold over enough attempts and that was not alerted about within the
 * hour; then those webhooks are marked alerted (the events this statement wrote, by
 * their id prefix). Both run in one batch (one transaction): two overlapping cron runs
 * cannot both alert, the second sees the first's mark.
 * Raw: GROUP BY/HAVING aggregate, json_object payloads and an id range no builder says.
 */
export function failingAlertStatements(db: D1Database, window: FailingWindow): D1PreparedStatement[] {
  const insert = db
    .prepare(
      `INSERT INTO events ${EVENT_COLUMNS}
       SELECT ?1 || printf('%010d', row_number() OVER ()), w.org_id, 'webhook.failing', 'webhook', w.id,
         json_object('webhook', ${webhookJson("w")}, 'successRate', round(1.0 * r.succeeded / r.attempts, 4),
           'attempts', r.attempts, 'failures', r.attempts - r.succeeded,
           'threshold', coalesce(w.failure_alert_threshold, ?4),
           'windowStart', ?2, 'windowEnd', ?3),
         NULL, NULL, NULL, NULL, ?3, NULL
       FROM webhooks w
       JOIN (
         SELECT a.webhook_id, count(*) AS attempts,
           sum(a.status_code IS NOT NULL AND a.status_code BETWEEN 200 AND 299) AS succeeded
         FROM webhooks h
         JOIN delivery_attempts a ON a.webhook_id = h.id AND a.attempted_at >= ?2 AND a.attempted_at < ?3
           AND a.request_headers IS NOT NULL
         JOIN deliveries d ON d.id = a.delivery_id
         WHERE h.enabled = 1 AND coalesce(h.failure_alert_threshold, ?4) > 0 AND d.event_type NOT IN (${OPERATIONAL_SQL_LIST})
         GROUP BY a.webhook_id
         HAVING count(*) >= ?5
       ) r ON r.webhook_id = w.id
       WHERE 1.0 * r.succeeded / r.attempts < coalesce(w.failure_alert_threshold, ?4)
         AND (w.failing_alerted_at IS NULL OR w.failing_alerted_at <= ?6)
       RETURNING id`,
    )
    .bind(
      window.idPrefix,
      window.windowStart,
      window.windowEnd,
      window.threshold,
      window.minAttempts,
      window.alertedBefore,
    );
  const mark = db
    .prepare(
      `UPDATE webhooks SET failing_alerted_at = ?3
       WHERE id IN (SELECT resource_id FROM events WHERE id >= ?1 AND id < ?2 AND type = 'webhook.failing')`,
    )
    .bind(window.idPrefix, `${window.idPrefix}~`, window.windowEnd);
  return [insert, mark];
}
