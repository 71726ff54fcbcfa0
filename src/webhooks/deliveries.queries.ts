import { newId } from "../core/ids";
import { requireRowPrepared } from "../db/row-guards";
import type { Delivery } from "../db/schema";

// The raw SQL over `deliveries` and `delivery_attempts`, and the webhook counters a
// delivery's state moves. Each function returns bound statements, so callers put them
// in one D1 batch (one transaction) with the rest of their write.

/**
 * Moves a delivery to `to` and keeps the webhook's succeeded/failed counters (the
 * success rate) equal to the number of its deliveries in each state, whatever state
 * it left. Both statements must run in one batch, counters first.
 * Raw: the counters move by the state the delivery is in at commit, read by subqueries inside SET under an EXISTS guard.
 */
export function settleStatements(
  db: D1Database,
  deliveryId: string,
  webhookId: string,
  to: Delivery["status"],
  now: string,
): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `UPDATE webhooks SET
           delivered_count = delivered_count + (?1 = 'succeeded')
             - (SELECT COUNT(*) FROM deliveries WHERE id = ?2 AND status = 'succeeded'),
           failed_count = failed_count + (?1 = 'failed')
             - (SELECT COUNT(*) FROM deliveries WHERE id = ?2 AND status = 'failed')
         WHERE id = ?3 AND EXISTS (SELECT 1 FROM deliveries WHERE id = ?2 AND status != ?1)`,
      )
      .bind(to, deliveryId, webhookId),
    db
      .prepare("UPDATE deliveries SET status = ?1, updated_at = ?2 WHERE id = ?3 AND status != ?1")
      .bind(to, now, deliveryId),
  ];
}

/** What one attempt recorded: its outcome, and when the next one is due (null: none). */
export interface AttemptRecord {
  statusCode: number | null;
  responseTimeMs: number | null;
  error: string | null;
  nextAttemptAt: string | null;
  /** The headers the request went out with; null when it was not sent. */
  requestHeaders: Record<string, string> | null;
}

/**
 * The attempt row, numbered from the delivery's count, and the delivery's own counters.
 * Raw: INSERT … SELECT numbers the attempt from `attempt_count` inside the statement, in batches with settleStatements.
 */
export function recordAttemptStatements(
  db: D1Database,
  deliveryId: string,
  attemptedAt: string,
  attempt: AttemptRecord,
): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `INSERT INTO delivery_attempts
           (id, delivery_id, webhook_id, attempt_number, attempted_at, status_code, response_time_ms, error, next_attempt_at,
            request_headers)
         SELECT ?, id, webhook_id, attempt_count + 1, ?, ?, ?, ?, ?, ? FROM deliveries WHERE id = ?`,
      )
      .bind(
        newId("att"),
        attemptedAt,
        attempt.statusCode,
        attempt.responseTimeMs,
        attempt.error,
        attempt.nextAttemptAt,
        attempt.requestHeaders === null ? null : JSON.stringify(attempt.requestHeaders),
        deliveryId,
      ),
    db
      .prepare(
        `UPDATE deliveries SET attempt_count = attempt_count + 1, last_status_code = ?, next_attempt_at = ?,
           updated_at = ? WHERE id = ?`,
      )
      .bind(attempt.statusCode, attempt.nextAttemptAt, attemptedAt, deliveryId),
  ];
}

/**
 * After a failed attempt counted against its webhook: when that disabled the webhook,
 * the delivery ends `failed` with nothing scheduled (settleStatements and the clears,
 * each conditional on the webhook being disabled at that point of the batch).
 * Raw: the condition reads the webhook row the batch's earlier statement just updated.
 */
export function settleIfDisabledStatements(
  db: D1Database,
  deliveryId: string,
  webhookId: string,
  attemptedAt: string,
): D1PreparedStatement[] {
  const disabled = "(SELECT enabled FROM webhooks WHERE id = ?) = 0";
  return [
    db
      .prepare(
        `UPDATE webhooks SET failed_count = failed_count + 1
         WHERE id = ? AND EXISTS (SELECT 1 FROM deliveries WHERE id = ? AND status = 'pending') AND ${disabled}`,
      )
      .bind(webhookId, deliveryId, webhookId),
    db
      .prepare(
        `UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, updated_at = ?
         WHERE id = ? AND status = 'pending' AND ${disabled}`,
      )
      .bind(attemptedAt, deliveryId, webhookId),
    db
      .prepare(
        `UPDATE delivery_attempts SET next_attempt_at = NULL WHERE delivery_id = ? AND attempted_at = ? AND ${disabled}`,
      )
      .bind(deliveryId, attemptedAt, webhookId),
  ];
}

/**
 * The delivery has no next attempt scheduled (it settled, or a fresh message restarts its schedule).
 * Raw D1 for batching with settleStatements.
 */
export function clearNextAttempt(db: D1Database, deliveryId: string): D1PreparedStatement {
  return db.prepare("UPDATE deliveries SET next_attempt_at = NULL WHERE id = ?").bind(deliveryId);
}

/**
 * The attempt made at `attemptedAt` schedules no next one after all (it disabled its webhook).
 * Raw D1 for batching with settleStatements.
 */
export function clearAttemptNextAttempt(db: D1Database, deliveryId: string, attemptedAt: string): D1PreparedStatement {
  return db
    .prepare("UPDATE delivery_attempts SET next_attempt_at = NULL WHERE delivery_id = ? AND attempted_at = ?")
    .bind(deliveryId, attemptedAt);
}

/**
 * Guards a batch on the delivery still being settled (not pending) when it commits.
 * Raw: requireRow's condition for a batch of raw D1 statements (requireRowPrepared).
 */
export function requireSettled(db: D1Database, deliveryId: string): D1PreparedStatement[] {
  return requireRowPrepared(db, "SELECT count(*) > 0 FROM deliveries WHERE id = ? AND status != 'pending'", [
    deliveryId,
  ]);
}

/** A webhook's failed deliveries that ended (last changed) within [since, until). */
export interface FailedWindow {
  webhookId: string;
  since: string;
  until: string;
}

/**
 * One page of a recovery, for one batch: the webhook's oldest `limit` deliveries that
 * ended failed in the window, read as they stand (id, and `updated_at`: when each ended
 * failed), then the webhook's failed counter lowered by as many, then those deliveries
 * pending again and due now (so the stall sweep leaves them alone while their fresh
 * messages are on the way). All three pick the same rows: one transaction, one ordering.
 * Raw: a set-based UPDATE over a LIMITed subquery; the bound parameters stay constant whatever the page size.
 */
export function recoverPageStatements(
  db: D1Database,
  { webhookId, since, until }: FailedWindow,
  limit: number,
  now: string,
): D1PreparedStatement[] {
  const page = `SELECT id FROM deliveries
    WHERE webhook_id = ?1 AND status = 'failed' AND updated_at >= ?2 AND updated_at < ?3
    ORDER BY updated_at, id LIMIT ?4`;
  return [
    db.prepare(page.replace("SELECT id", "SELECT id, updated_at AS at")).bind(webhookId, since, until, limit),
    db
      .prepare(
        `UPDATE webhooks SET failed_count = max(failed_count - (SELECT count(*) FROM (${page})), 0) WHERE id = ?1`,
      )
      .bind(webhookId, since, until, limit),
    db
      .prepare(
        `UPDATE deliveries SET status = 'pending', next_attempt_at = ?5, updated_at = ?5
         WHERE id IN (${page}) AND status = 'failed'`,
      )
      .bind(webhookId, since, until, limit, now),
  ];
}

/**
 * Undoes recoverPageStatements for deliveries whose messages could not be sent: back to
 * failed, due never, counted failed again. `ended` is [{id, at}], `at` the time each had
 * ended failed, so it stays in the window of a later recovery.
 * Raw: json_each carries the page's ids and times in one bound parameter.
 */
export function unrecoverStatements(
  db: D1Database,
  webhookId: string,
  ended: { id: string; at: string }[],
): D1PreparedStatement[] {
  const rows = "SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.at') AS at FROM json_each(?2)";
  const json = JSON.stringify(ended);
  return [
    db
      .prepare(
        `UPDATE webhooks SET failed_count = failed_count
           + (SELECT count(*) FROM deliveries WHERE status = 'pending' AND id IN (SELECT id FROM (${rows})))
         WHERE id = ?1`,
      )
      .bind(webhookId, json),
    db
      .prepare(
        `UPDATE deliveries SET status = 'failed', next_attempt_at = NULL,
           updated_at = (SELECT r.at FROM (${rows}) r WHERE r.id = deliveries.id)
         WHERE webhook_id = ?1 AND status = 'pending' AND id IN (SELECT id FROM (${rows}))`,
      )
      .bind(webhookId, json),
  ];
}
