import { and, asc, isNull, lt } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { configFrom } from "../config";
import { isoPlusSeconds } from "../core/time";
import { events } from "../db/schema";
import type { Env } from "../env";
import { enqueueEvents } from "./outbox";

/** Events read per page; enqueueEvents sends them on in chunks Queues and D1 accept. */
const PAGE = 1_000;

/**
 * What one run may send, and for how long it may go on. The cron fires every minute,
 * so a backlog larger than a run's budget drains over the next runs; a run also
 * stays far from the Worker's limits (about 2 D1 queries and 1 queue send per 99 events).
 */
export const SWEEP_BUDGET = { events: 10_000, ms: 20_000 };

/**
 * The outbox's safety net: events committed with their change but never enqueued
 * (the send after the commit failed or the isolate died) are sent again, oldest
 * first, page after page until none is left or the run's budget is spent. Queues are
 * at-least-once anyway, and delivery records are unique per (event, webhook).
 * Returns how many events it sent and marked.
 */
export async function sweepUnsentEvents(env: Env, now = Date.now(), budget = SWEEP_BUDGET): Promise<number> {
  const olderThan = isoPlusSeconds(-configFrom(env).outboxSweepAfterSeconds, now);
  const db = drizzle(env.DB);
  const started = Date.now();
  let sent = 0;
  let previous = new Set<string>();
  for (;;) {
    const rows = await db
      .select({ id: events.id })
      .from(events)
      .where(and(isNull(events.enqueuedAt), lt(events.createdAt, olderThan)))
      .orderBy(asc(events.createdAt))
      .limit(PAGE);
    // enqueueEvents stops at a failed send (and logs it): the events of the last page
    // it left unmarked come back first. The queue is failing; the next run tries again.
    const unsent = rows.filter((row) => previous.has(row.id)).length;
    sent -= unsent;
    if (unsent > 0) break;
    const page = rows.slice(0, budget.events - sent);
    if (page.length === 0 || Date.now() - started >= budget.ms) break;
    await enqueueEvents(env, page);
    sent += page.length;
    previous = new Set(page.map((row) => row.id));
  }
  return sent;
}
