// The raw SQL over `webhooks`: its health after a delivery attempt. Each function
// returns a bound statement, so the attempt's outcome commits in one D1 batch.

/**
 * A successful attempt: the run of consecutive failures ends.
 * Raw D1 for batching with settleStatements.
 */
export function recordWebhookSuccess(db: D1Database, webhookId: string, now: string): D1PreparedStatement {
  return db
    .prepare("UPDATE webhooks SET consecutive_failures = 0, last_triggered_at = ? WHERE id = ?")
    .bind(now, webhookId);
}

/**
 * The endpoint answered 410 Gone: the webhook is disabled at once, the failure counted.
 * Raw: `consecutive_failures + 1` counts on the stored value, in batches with settleStatements.
 */
export function disableGoneWebhook(db: D1Database, webhookId: string, now: string): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE webhooks SET enabled = 0, disabled_reason = ?, consecutive_failures = consecutive_failures + 1,
         last_triggered_at = ? WHERE id = ?`,
    )
    .bind(`The endpoint answered 410 Gone at ${now}`, now, webhookId);
}

/**
 * A failed attempt counts against the webhook, which is disabled once `disableAfter`
 * failures run consecutively; the statement returns `enabled` as it is afterwards.
 * Raw: CASE over the row's own counter decides and disables in the statement that counts, RETURNING the outcome.
 */
export function countWebhookFailure(
  db: D1Database,
  webhookId: string,
  disableAfter: number,
  now: string,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE webhooks SET
         enabled = CASE WHEN enabled = 1 AND consecutive_failures + 1 >= ?1 THEN 0 ELSE enabled END,
         disabled_reason = CASE WHEN enabled = 1 AND consecutive_failures + 1 >= ?1
           THEN ?2 ELSE disabled_reason END,
         consecutive_failures = consecutive_failures + 1,
         last_triggered_at = ?3
       WHERE id = ?4 RETURNING enabled`,
    )
    .bind(disableAfter, `Disabled after ${disableAfter} consecutive failed attempts (last at ${now})`, now, webhookId);
}

/**
 * The webhook's `enabled`, in the place of countWebhookFailure for a failed delivery of an
 * operational event, which does not count against its webhook (README "Alerts").
 * Raw D1 for batching with the attempt's statements.
 */
export function readEnabled(db: D1Database, webhookId: string): D1PreparedStatement {
  return db.prepare("SELECT enabled FROM webhooks WHERE id = ?").bind(webhookId);
}
