import type { DrizzleD1Database } from "drizzle-orm/d1";
import { readStatsHours } from "./stats.queries";
import { findWebhook } from "./webhooks";

export const STATS_HOURS = { min: 1, max: 168, default: 24 } as const;
const HOUR_MS = 3_600_000;

export interface HourBucket {
  /** The clock hour's start, UTC. */
  hour: string;
  succeeded: number;
  failed: number;
  pending: number;
  attempts: number;
  /** The median response time of the attempts made in this hour; null when none was timed. */
  p50ResponseTimeMs: number | null;
}

/**
 * A webhook's last `hours` clock hours (the current one included), oldest first:
 * deliveries created in each hour by their outcome now, and the attempts made in it
 * with their median response time. Both are aggregated in D1 over the webhook's rows
 * in the window (an index range each), so the Worker reads at most two rows per hour.
 */
export async function getWebhookStats(db: DrizzleD1Database, orgId: string, webhookId: string, hours: number) {
  const webhook = await findWebhook(db, orgId, webhookId);
  const currentHour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
  const from = new Date(currentHour - (hours - 1) * HOUR_MS).toISOString();
  const [deliveryRows, attemptRows] = await readStatsHours(db, webhook.id, from);
  const buckets = new Map<string, HourBucket>();
  for (let i = 0; i < hours; i++) {
    const hour = new Date(currentHour - (hours - 1 - i) * HOUR_MS).toISOString();
    buckets.set(hour.slice(0, 13), {
      hour,
      succeeded: 0,
      failed: 0,
      pending: 0,
      attempts: 0,
      p50ResponseTimeMs: null,
    });
  }
  for (const row of deliveryRows) {
    const bucket = buckets.get(row.hour);
    if (bucket) bucket[row.status] += row.n;
  }
  for (const row of attemptRows) {
    const bucket = buckets.get(row.hour);
    if (!bucket) continue;
    bucket.attempts = row.attempts;
    bucket.p50ResponseTimeMs = row.p50;
  }
  return { webhookId: webhook.id, hours, from, buckets: [...buckets.values()] };
}
export type WebhookStats = Awaited<ReturnType<typeof getWebhookStats>>;
