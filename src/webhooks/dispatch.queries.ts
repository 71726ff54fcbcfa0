import { requireRowPrepared } from "../db/row-guards";

// The raw SQL that records the first attempts of many deliveries at once, made straight
// after their events committed (dispatch.ts). Every statement reads its rows from one
// bound JSON array (`json_each`), so a batch of any size binds a handful of parameters
// (D1 allows 100 per statement) and the whole record is one D1 round trip.

/** A delivery row as dispatch writes it, its first attempt already made (or not, when handed to the queue). */
export interface DeliveryInsert {
  id: string;
  orgId: string;
  webhookId: string;
  eventId: string;
  eventType: string;
  status: "pending" | "succeeded" | "failed";
  attemptCount: 0 | 1;
  lastStatusCode: number | null;
  nextAttemptAt: string | null;
}

export interface AttemptInsert {
  id: string;
  deliveryId: string;
  attemptedAt: string;
  statusCode: number | null;
  responseTimeMs: number | null;
  error: string | null;
  nextAttemptAt: string | null;
  /** The headers the request went out with; null when it was not sent. */
  requestHeaders: Record<string, string> | null;
}

/** What this round of attempts did to one webhook's run of consecutive failures. */
export interface WebhookHealth {
  id: string;
  /** Failures after the last success (all of them when none succeeded). */
  failures: number;
  /** 1 when an attempt succeeded: the run restarts from `failures`. */
  succeeded: 0 | 1;
  /** 1 when the endpoint answered 410 Gone: the webhook is disabled. */
  gone: 0 | 1;
  /** When the latest of these attempts was made: the webhook's `lastTriggeredAt`. */
  triggeredAt: string;
  /** The latest failed attempt, told by `webhook.disabled` if this round disables the webhook. */
  lastStatusCode?: number | null;
  lastError?: string | null;
  lastFailedAt?: string;
}

/**
 * The batch that records a round of first attempts, in order:
 * 1. a guard: none of the deliveries exists yet (another path recorded them: the batch rolls back whole);
 * 2. each webhook's failure run, disabling it on 410 or at `disableAfter` consecutive failures
 *    (just before it, a `webhook.disabled` event for each webhook it disables, RETURNING
 *    their ids, at `alertsAt`: README "Alerts");
 * 3. the delivery rows and 4. their attempt rows;
 * 5. deliveries left to retry whose webhook is now disabled end `failed` (RETURNING their ids, at
 *    `settledByDisable`: they are not retried);
 * 6. attempts of failed deliveries schedule nothing;
 * 7. the webhooks' succeeded/failed counters count the new rows;
 * 8. the events are marked sent (the outbox sweep leaves them alone).
 * Raw: json_each expands the rows; UPDATE … FROM and CASE decide per webhook inside the statement.
 */
export function recordFirstAttemptsStatements(
  db: D1Database,
  input: {
    deliveries: DeliveryInsert[];
    attempts: AttemptInsert[];
    health: WebhookHealth[];
    eventIds: string[];
    disableAfter: number;
    now: string;
    /** The prefix of the `webhook.disabled` events' ids (+ the row's number). */
    alertIdPrefix: string;
  },
): { statements: D1PreparedStatement[]; settledByDisable: number | null; alertsAt: number | null } {
  const { now } = input;
  const ids = JSON.stringify(input.deliveries.map((d) => d.id));
  const webhookIds = JSON.stringify([...new Set(input.deliveries.map((d) => d.webhookId))]);
  const run = "CASE WHEN h.succeeded THEN h.failures ELSE consecutive_failures + h.failures END";
  const statements: D1PreparedStatement[] = [];
  if (input.deliveries.length > 0) {
    statements.push(
      ...requireRowPrepared(
        db,
        "SELECT NOT EXISTS (SELECT 1 FROM deliveries WHERE id IN (SELECT value FROM json_each(?)))",
        [ids],
      ),
    );
  }
  let alertsAt: number | null = null;
  if (input.health.length > 0) {
    alertsAt = statements.length;
    statements.push(
      db
        .prepare(
          `INSERT INTO events (id, org_id, type, resource_type, resource_id, data, changes, actor_user_id,
             actor_api_key_id, actor_incoming_webhook_id, created_at, enqueued_at)
           SELECT ?3 || printf('%010d', row_number() OVER ()), webhooks.org_id, 'webhook.disabled', 'webhook', webhooks.id,
             json_object('webhook', json_object('id', webhooks.id, 'url', webhooks.url, 'description', webhooks.description),
               'reason', CASE WHEN h.gone THEN 'gone' ELSE 'consecutive_failures' END, 'consecutiveFailures', ${run},
               'lastError', json_object('statusCode', h.status_code, 'error', h.error, 'attemptedAt', h.failed_at)),
             NULL, NULL, NULL, NULL, h.failed_at, NULL
           FROM webhooks
           JOIN (SELECT value ->> 'id' AS id, value ->> 'failures' AS failures, value ->> 'succeeded' AS succeeded,
                   value ->> 'gone' AS gone, value ->> 'lastStatusCode' AS status_code, value ->> 'lastError' AS error,
                   value ->> 'lastFailedAt' AS failed_at FROM json_each(?1)) AS h ON webhooks.id = h.id
           WHERE webhooks.enabled = 1 AND (h.gone OR (h.failures > 0 AND ${run} >= ?2))
           RETURNING id`,
        )
        .bind(JSON.stringify(input.health), input.disableAfter, input.alertIdPrefix),
    );
    statements.push(
      db
        .prepare(
          `UPDATE webhooks SET
             enabled = CASE WHEN enabled = 0 OR h.gone OR (h.failures > 0 AND ${run} >= ?2) THEN 0 ELSE 1 END,
             disabled_reason = CASE WHEN enabled = 0 THEN disabled_reason WHEN h.gone THEN ?3
               WHEN h.failures > 0 AND ${run} >= ?2 THEN ?4 ELSE disabled_reason END,
             consecutive_failures = ${run},
             last_triggered_at = h.triggered_at
           FROM (SELECT value ->> 'id' AS id, value ->> 'failures' AS failures, value ->> 'succeeded' AS succeeded,
                   value ->> 'gone' AS gone, value ->> 'triggeredAt' AS triggered_at FROM json_each(?1)) AS h
           WHERE webhooks.id = h.id`,
        )
        .bind(
          JSON.stringify(input.health),
          input.disableAfter,
          `The endpoint answered 410 Gone at ${now}`,
          `Disabled after ${input.disableAfter} consecutive failed attempts (last at ${now})`,
        ),
    );
  }
  if (input.deliveries.length > 0) {
    statements.push(
      db
        .prepare(
          `INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, status, attempt_count,
             last_status_code, next_attempt_at, created_at, updated_at)
           SELECT value ->> 'id', value ->> 'orgId', value ->> 'webhookId', value ->> 'eventId', value ->> 'eventType',
             value ->> 'status', value ->> 'attemptCount', value ->> 'lastStatusCode', value ->> 'nextAttemptAt', ?2, ?2
           FROM json_each(?1)`,
        )
        .bind(JSON.stringify(input.deliveries), now),
    );
  }
  if (input.attempts.length > 0) {
    statements.push(
      db
        .prepare(
          `INSERT INTO delivery_attempts (id, delivery_id, webhook_id, attempt_number, attempted_at, status_code,
             response_time_ms, error, next_attempt_at, request_headers)
           SELECT value ->> 'id', value ->> 'deliveryId',
             (SELECT webhook_id FROM deliveries WHERE deliveries.id = value ->> 'deliveryId'), 1,
             value ->> 'attemptedAt', value ->> 'statusCode', value ->> 'responseTimeMs', value ->> 'error',
             value ->> 'nextAttemptAt', value ->> 'requestHeaders'
           FROM json_each(?1)`,
        )
        .bind(JSON.stringify(input.attempts)),
    );
  }
  let settledByDisable: number | null = null;
  if (input.deliveries.length > 0) {
    settledByDisable = statements.length;
    statements.push(
      db
        .prepare(
          `UPDATE deliveries SET status = 'failed', next_attempt_at = NULL
           WHERE id IN (SELECT value FROM json_each(?1)) AND status = 'pending' AND attempt_count > 0
             AND webhook_id IN (SELECT id FROM webhooks WHERE enabled = 0)
           RETURNING id`,
        )
        .bind(ids),
      db
        .prepare(
          `UPDATE delivery_attempts SET next_attempt_at = NULL
           WHERE delivery_id IN (SELECT id FROM deliveries WHERE id IN (SELECT value FROM json_each(?1)) AND status = 'failed')`,
        )
        .bind(ids),
      db
        .prepare(
          `UPDATE webhooks SET
             delivered_count = delivered_count + (SELECT count(*) FROM deliveries d WHERE d.webhook_id = webhooks.id
               AND d.id IN (SELECT value FROM json_each(?1)) AND d.status = 'succeeded'),
             failed_count = failed_count + (SELECT count(*) FROM deliveries d WHERE d.webhook_id = webhooks.id
               AND d.id IN (SELECT value FROM json_each(?1)) AND d.status = 'failed')
           WHERE id IN (SELECT value FROM json_each(?2))`,
        )
        .bind(ids, webhookIds),
    );
  }
  statements.push(
    db
      .prepare("UPDATE events SET enqueued_at = ?2 WHERE id IN (SELECT value FROM json_each(?1))")
      .bind(JSON.stringify(input.eventIds), now),
  );
  return { statements, settledByDisable, alertsAt };
}
