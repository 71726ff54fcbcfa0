import { configFrom } from "../config";
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
  // Both statements pick the same rows: one transaction, one ordering.
  const oldest = `SELECT id FROM deliveries WHERE status != 'pending' AND updated_at < ?1 ORDER BY updated_at, id LIMIT ${PRUNE_BATCH}`;
  const [, deleted] = await env.DB.batch([
    env.DB.prepare(`DELETE FROM delivery_attempts WHERE delivery_id IN (${oldest})`).bind(cutoff),
    env.DB.prepare(`DELETE FROM deliveries WHERE id IN (${oldest})`).bind(cutoff),
  ]);
  return deleted?.meta.changes ?? 0;
}
