import { and, asc, isNull, lt } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { configFrom } from "../config";
import { events } from "../db/schema";
import type { Env } from "../env";
import { isoPlusSeconds } from "../lib/time";
import { enqueueEvents } from "./outbox";

/** Events per sweep run; the cron runs every minute. */
const SWEEP_BATCH = 90;

/**
 * The outbox's safety net: events committed with their change but never enqueued
 * (the send after the commit failed or the isolate died) are sent again. Queues are
 * at-least-once anyway, and delivery records are unique per (event, webhook).
 */
export async function sweepUnsentEvents(env: Env, now = Date.now()): Promise<number> {
  const olderThan = isoPlusSeconds(-configFrom(env).outboxSweepAfterSeconds, now);
  const rows = await drizzle(env.DB)
    .select({ id: events.id })
    .from(events)
    .where(and(isNull(events.enqueuedAt), lt(events.createdAt, olderThan)))
    .orderBy(asc(events.createdAt))
    .limit(SWEEP_BATCH);
  await enqueueEvents(env, rows);
  return rows.length;
}
