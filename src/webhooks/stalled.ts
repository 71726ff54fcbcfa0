import { and, eq, inArray, lt, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { configFrom } from "../config";
import { deliveries } from "../db/schema";
import type { Env, EventsQueueMessage } from "../env";

/**
 * Deliveries per page: one sendBatch (at most 100 messages) and one UPDATE binding
 * 2 + PAGE parameters (D1 allows 100 per statement).
 */
const PAGE = 90;
/** Deliveries re-sent per cron run at most; a larger backlog drains over the next runs. */
const MAX_PER_RUN = 1_000;

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
  const resentAt = new Date(now).toISOString();
  const db = drizzle(env.DB);
  // A pending delivery's due time: the expression the deliveries_pending_due index is built on.
  const dueAt = sql`coalesce(${deliveries.nextAttemptAt}, ${deliveries.createdAt})`;
  let total = 0;
  // Each page leaves the overdue set (its due time moves to now, or it settled
  // meanwhile), so the next SELECT finds the next page.
  while (total < MAX_PER_RUN) {
    const results = await db
      .select({ id: deliveries.id })
      .from(deliveries)
      .where(and(eq(deliveries.status, "pending"), lt(dueAt, overdue)))
      .orderBy(dueAt)
      .limit(Math.min(PAGE, MAX_PER_RUN - total));
    if (results.length === 0) break;
    await env.EVENTS_QUEUE.sendBatch(
      results.map(({ id }) => ({ body: { kind: "delivery", deliveryId: id } satisfies EventsQueueMessage })),
    );
    await db
      .update(deliveries)
      .set({ nextAttemptAt: resentAt })
      .where(
        and(
          inArray(
            deliveries.id,
            results.map((r) => r.id),
          ),
          eq(deliveries.status, "pending"),
        ),
      );
    total += results.length;
    if (results.length < PAGE) break;
  }
  if (total > 0) console.log(JSON.stringify({ level: "warn", msg: "re-sent stalled deliveries", count: total }));
  return total;
}
