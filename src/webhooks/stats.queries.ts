import { type SQL, sql } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import type { DELIVERY_STATUSES } from "../core/enums";

// Aggregates the query builder cannot say (a window function picking the middle row).
// `substr(…, 1, 13)` is the clock hour of our ISO 8601 UTC text timestamps ("2026-12-02T13").

interface DeliveryHourRow {
  hour: string;
  status: (typeof DELIVERY_STATUSES)[number];
  n: number;
}

interface AttemptHourRow {
  hour: string;
  attempts: number;
  p50: number | null;
}

/** The webhook's deliveries created since `from`, counted by hour and status: a range of (webhook_id, created_at). */
export function deliveryHoursQuery(webhookId: string, from: string): SQL {
  return sql`
    SELECT substr(created_at, 1, 13) AS hour, status, count(*) AS n
    FROM deliveries
    WHERE webhook_id = ${webhookId} AND created_at >= ${from}
    GROUP BY hour, status`;
}

/**
 * The webhook's attempts since `from` by hour, with the median response time: the
 * middle row of the hour's timed attempts ordered by response time; for an even count,
 * the lower middle (`(timed + 1) / 2` in integer arithmetic), so it is always a time
 * that was measured. A range of (webhook_id, attempted_at).
 */
export function attemptHoursQuery(webhookId: string, from: string): SQL {
  return sql`
    SELECT hour, attempts, ms AS p50 FROM (
      SELECT substr(attempted_at, 1, 13) AS hour, response_time_ms AS ms,
        row_number() OVER (PARTITION BY substr(attempted_at, 1, 13)
          ORDER BY response_time_ms IS NULL, response_time_ms) AS rn,
        count(response_time_ms) OVER (PARTITION BY substr(attempted_at, 1, 13)) AS timed,
        count(*) OVER (PARTITION BY substr(attempted_at, 1, 13)) AS attempts
      FROM delivery_attempts
      WHERE webhook_id = ${webhookId} AND attempted_at >= ${from}
    )
    WHERE rn = max(1, (timed + 1) / 2)`;
}

/** Both aggregates, side by side (drizzle's D1 batch takes no raw `db.all`). */
export async function readStatsHours(db: DrizzleD1Database, webhookId: string, from: string) {
  return Promise.all([
    db.all<DeliveryHourRow>(deliveryHoursQuery(webhookId, from)),
    db.all<AttemptHourRow>(attemptHoursQuery(webhookId, from)),
  ]);
}
