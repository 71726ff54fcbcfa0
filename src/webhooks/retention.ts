import { and, asc, inArray, lt, ne } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { configFrom } from "../config";
import { deliveries, deliveryAttempts } from "../db/schema";
import type { Env } from "../env";

/** Deliveries pruned per cron run (the cron runs every minute). */
const PRUNE_BATCH = 500;

/**
 * The delivery log keeps `deliveryRetentionDays` of settled deliveries. Older ones
 * and their attempts go, oldest first, a bounded batch per run; pending deliveries
 * are never pruned. Webhook success counters are lifetime figures and stay.
 */
export async function pruneDeliveryLog(env: Env, now = Date.now()): Promise<number> {
  const cutoff = new Date(now - configFrom(env).deliveryRetentionDays * 86_400_000).toISOString();
  const db = drizzle(env.DB);
  // Both statements pick the same rows: one transaction, one ordering (the deliveries_settled_updated index's).
  const oldest = db
    .select({ id: deliveries.id })
    .from(deliveries)
    .where(and(ne(deliveries.status, "pending"), lt(deliveries.updatedAt, cutoff)))
    .orderBy(asc(deliveries.updatedAt), asc(deliveries.id))
    .limit(PRUNE_BATCH);
  const [, deleted] = await db.batch([
    db.delete(deliveryAttempts).where(inArray(deliveryAttempts.deliveryId, oldest)),
    db.delete(deliveries).where(inArray(deliveries.id, oldest)),
  ]);
  return deleted.meta.changes;
}
