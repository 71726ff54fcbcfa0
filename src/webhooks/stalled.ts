import { configFrom } from "../config";
import type { Env, EventsQueueMessage } from "../env";

/** Deliveries re-sent per cron run (one sendBatch holds at most 100 messages). */
const RESEND_BATCH = 100;

/**
 * The delivery pipeline's safety net. Every pending delivery has a queue message on
 * its way; if one is lost anyway (its dead letter failed every retry, say), the
 * delivery would stay pending for ever, and `redeliver` refuses pending ones. So a
 * pending delivery whose next attempt (or, never attempted, whose creation) is more
 * than `deliveryStallSeconds` overdue gets a new message; its due time moves to now,
 * so it is not re-sent again before another stall period has passed.
 */
export async function resendStalledDeliveries(env: Env, now = Date.now()): Promise<number> {
  const overdue = new Date(now - configFrom(env).deliveryStallSeconds * 1000).toISOString();
  const { results } = await env.DB.prepare(
    `SELECT id FROM deliveries
      WHERE status = 'pending' AND coalesce(next_attempt_at, created_at) < ?
      ORDER BY coalesce(next_attempt_at, created_at) LIMIT ${RESEND_BATCH}`,
  )
    .bind(overdue)
    .all<{ id: string }>();
  if (results.length === 0) return 0;
  await env.EVENTS_QUEUE.sendBatch(
    results.map(({ id }) => ({ body: { kind: "delivery", deliveryId: id } satisfies EventsQueueMessage })),
  );
  const placeholders = results.map(() => "?").join(",");
  await env.DB.prepare(`UPDATE deliveries SET next_attempt_at = ? WHERE id IN (${placeholders}) AND status = 'pending'`)
    .bind(new Date(now).toISOString(), ...results.map((r) => r.id))
    .run();
  console.log(JSON.stringify({ level: "warn", msg: "re-sent stalled deliveries", count: results.length }));
  return results.length;
}
