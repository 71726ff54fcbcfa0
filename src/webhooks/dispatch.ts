import { and, eq, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { type Config, configFrom } from "../config";
import { newId, randomBase62 } from "../core/ids";
import { isoPlusSeconds } from "../core/time";
import type { CommittedEvent } from "../core/write-context";
import { isGuardFailure } from "../db/row-guards";
import { events, organizations, type Webhook, webhooks } from "../db/schema";
import type { Env, EventsQueueMessage } from "../env";
import { enqueueEvents } from "../events/outbox";
import { alertIds, isOperational, sendAlerts } from "./alerts";
import { type AttemptResult, makeAttempts, nextAttemptDelay, type Outcome, type SendCaps } from "./deliver";
import {
  type AttemptInsert,
  type DeliveryInsert,
  recordFirstAttemptsStatements,
  type WebhookHealth,
} from "./dispatch.queries";
import { deliveryIdFor, webhookMatches } from "./fanout";

/** How much one invocation sends straight after a commit. */
export interface DispatchLimits extends SendCaps {
  /**
   * (event, webhook) pairs, at most; whole events beyond it go through the queue
   * (event messages, fanned out by the consumer).
   */
  pairs: number;
  /**
   * No first attempt starts later than this after the commit: `waitUntil` gives a
   * response 30 s, and an attempt may take WEBHOOK_TIMEOUT_MS; the rest go to the queue.
   */
  budgetMs: number;
}

export const DISPATCH_LIMITS: DispatchLimits = { pairs: 200, concurrency: 5, perWebhook: 2, budgetMs: 10_000 };

/**
 * Sends committed events to their webhooks straight after the response: takes the
 * organization's webhooks as the commit's batch read them (`preread`; read here when
 * not given), makes each matching delivery's first attempt
 * (`limits.concurrency` at once, `limits.perWebhook` per webhook), records every
 * delivery, attempt and webhook counter in one D1 batch, and queues only what must be
 * retried, as delayed `delivery` messages. Events beyond `limits.pairs`, and anything
 * this run cannot finish, take the queue path; if this run dies before its record, the
 * events are still unmarked and the outbox sweep sends them through the queue, where the
 * same delivery ids make any repeat recognisable to the receiver. `unsentIds` (events
 * known by id only, e.g. a project cascade's beyond those read back in full) go
 * straight to the queue, meanwhile.
 */
export async function dispatchCommitted(
  env: Env,
  committed: CommittedEvent[],
  limits: DispatchLimits = DISPATCH_LIMITS,
  preread?: unknown[],
  unsentIds: string[] = [],
): Promise<void> {
  const enqueued =
    unsentIds.length > 0
      ? enqueueEvents(
          env,
          unsentIds.map((id) => ({ id })),
        )
      : undefined;
  if (committed.length > 0) await dispatchOrEnqueue(env, committed, limits, preread);
  await enqueued;
}

async function dispatchOrEnqueue(
  env: Env,
  committed: CommittedEvent[],
  limits: DispatchLimits,
  preread?: unknown[],
): Promise<void> {
  try {
    await dispatch(env, committed, limits, preread as DispatchReads | undefined);
  } catch (error) {
    console.error(
      JSON.stringify({
        level: "error",
        msg: "sending events straight after the commit failed; handing them to the queue",
        eventIds: committed.map((e) => e.id),
        error: String(error),
      }),
    );
    await enqueueEvents(env, committed);
  }
}

interface Pair {
  event: CommittedEvent;
  webhook: Webhook;
  deliveryId: string;
}

/** What dispatch reads before sending: the organization's webhooks and its name. */
function dispatchReads(db: DrizzleD1Database, orgId: string) {
  return [
    db.select().from(webhooks).where(eq(webhooks.orgId, orgId)),
    db.select({ name: organizations.name }).from(organizations).where(eq(organizations.id, orgId)),
  ] as const;
}

/**
 * What a write adds to its commit's batch (`WriteContext.commitReads`), saving dispatch
 * a round trip: dispatch's reads, and, when the organization has no webhook, the mark
 * that its events are sent, so such a write costs one D1 round trip in all. Both see the
 * database as the commit leaves it: either the events are marked or there are webhooks.
 */
export function commitStatements(db: DrizzleD1Database, orgId: string, eventIds: string[]): BatchItem<"sqlite">[] {
  return [
    ...dispatchReads(db, orgId),
    db
      .update(events)
      .set({ enqueuedAt: sql`${events.createdAt}` })
      .where(
        and(
          sql`${events.id} IN (SELECT value FROM json_each(${JSON.stringify(eventIds)}))`,
          sql`NOT EXISTS (SELECT 1 FROM ${webhooks} WHERE ${webhooks.orgId} = ${orgId})`,
        ),
      ),
  ];
}

/** dispatchReads' results; with a third, they came from the commit, whose batch already marked events of an organization without webhooks. */
type DispatchReads = [Webhook[], { name: string }[], unknown?];

async function dispatch(
  env: Env,
  committed: CommittedEvent[],
  limits: DispatchLimits,
  preread?: DispatchReads,
): Promise<void> {
  const config = configFrom(env);
  const orgId = committed[0]!.orgId;
  const db = drizzle(env.DB);
  const [hooks, [org], markedInCommit]: DispatchReads = preread ?? [...(await db.batch(dispatchReads(db, orgId)))];
  if (!org || (hooks.length === 0 && markedInCommit !== undefined)) return;

  // Whole events, in order, while their pairs fit the inline budget; the rest go to the queue.
  const inline: CommittedEvent[] = [];
  const pairs: Omit<Pair, "deliveryId">[] = [];
  for (const event of committed) {
    if (event.orgId !== orgId) break;
    // A webhook hears of events from its creation on; disabled ones get their (not sent) delivery too.
    const matching = hooks.filter((hook) => hook.createdAt <= event.createdAt && webhookMatches(hook, event));
    if (pairs.length + matching.length > limits.pairs) break;
    inline.push(event);
    for (const webhook of matching) pairs.push({ event, webhook });
  }
  const queued = committed.slice(inline.length);
  if (inline.length === 0) return enqueueEvents(env, queued);

  const withIds: Pair[] = await Promise.all(
    pairs.map(async (pair) => ({ ...pair, deliveryId: await deliveryIdFor(pair.event.id, pair.webhook.id) })),
  );
  const organization = { id: orgId, name: org.name };
  const { results, unstarted } = await makeAttempts(
    env,
    withIds.map((pair) => ({ ...pair, organization })),
    limits,
    Date.now() + startBudgetMs(config, limits),
  );

  const now = new Date().toISOString();
  const deliveries: DeliveryInsert[] = [];
  const attempts: AttemptInsert[] = [];
  const health = new Map<string, WebhookHealth>();
  const retries: { deliveryId: string; delaySeconds: number }[] = [];
  withIds.forEach((pair, index) => {
    const row = {
      id: pair.deliveryId,
      orgId,
      webhookId: pair.webhook.id,
      eventId: pair.event.id,
      eventType: pair.event.type,
    };
    const made = results.get(index);
    if (!made) {
      // Not started in time: a pending delivery whose message makes its first attempt.
      deliveries.push({ ...row, status: "pending", attemptCount: 0, lastStatusCode: null, nextAttemptAt: null });
      return;
    }
    const { outcome, startedAt } = made;
    const attemptedAt = new Date(startedAt).toISOString();
    let nextAttemptAt: string | null = null;
    if (outcome.kind === "failed") {
      const delaySeconds = nextAttemptDelay(config, outcome.result, 1);
      if (delaySeconds !== null) {
        nextAttemptAt = isoPlusSeconds(delaySeconds, startedAt);
        retries.push({ deliveryId: pair.deliveryId, delaySeconds });
      }
    }
    const result = outcome.kind === "notSent" ? null : outcome.result;
    deliveries.push({
      ...row,
      status: statusAfter(outcome, nextAttemptAt),
      attemptCount: 1,
      lastStatusCode: result?.statusCode ?? null,
      nextAttemptAt,
    });
    attempts.push({
      id: newId("att"),
      deliveryId: pair.deliveryId,
      attemptedAt,
      statusCode: result?.statusCode ?? null,
      responseTimeMs: result?.responseTimeMs ?? null,
      error: outcome.kind === "notSent" ? outcome.reason : (result?.error ?? null),
      nextAttemptAt,
      requestHeaders: result?.requestHeaders ?? null,
    });
    // A delivery of an operational event moves nothing that alerts (README "Alerts": no loops).
    if (outcome.kind !== "notSent" && !isOperational(pair.event.type)) {
      countAttempt(health, pair.webhook.id, outcome.kind, attemptedAt, outcome.result);
    }
  });

  const { statements, settledByDisable, alertsAt } = recordFirstAttemptsStatements(env.DB, {
    deliveries,
    attempts,
    health: [...health.values()],
    eventIds: inline.map((e) => e.id),
    disableAfter: config.webhookDisableAfterFailures,
    now,
    alertIdPrefix: `evt_${randomBase62(10)}`,
  });
  let settled = new Set<string>();
  let alerts: { id: string }[] = [];
  try {
    const written = await env.DB.batch<{ id: string }>(statements);
    if (settledByDisable !== null) settled = new Set(written[settledByDisable]?.results.map((r) => r.id));
    if (alertsAt !== null) alerts = alertIds(written, [alertsAt]);
  } catch (error) {
    // Another path recorded these deliveries meanwhile (the outbox sweep's fan-out); its
    // own messages attempt them. What this run sent was a duplicate the ids make plain.
    if (isGuardFailure(error)) return enqueueEvents(env, queued);
    throw error;
  }

  const messages: MessageSendRequest<EventsQueueMessage>[] = [
    ...retries
      .filter((r) => !settled.has(r.deliveryId))
      .map((r) => ({
        body: { kind: "delivery" as const, deliveryId: r.deliveryId, after: 1 },
        delaySeconds: r.delaySeconds,
      })),
    ...unstarted.map((index) => ({ body: { kind: "delivery" as const, deliveryId: withIds[index]!.deliveryId } })),
  ];
  try {
    for (let i = 0; i < messages.length; i += 100) await env.EVENTS_QUEUE.sendBatch(messages.slice(i, i + 100));
  } catch (error) {
    // Recorded as pending with their due time: the stalled-delivery sweep re-sends them.
    console.error(
      JSON.stringify({ level: "error", msg: "retry messages not sent; the stall sweep will", error: String(error) }),
    );
  }
  if (queued.length > 0) await enqueueEvents(env, queued);
  await sendAlerts(env, alerts);
}

/** `waitUntil` ends 30 s after the response: the last attempt must start early enough to be recorded before then. */
const WAIT_UNTIL_MS = 30_000;
const RECORD_MARGIN_MS = 5_000;

function startBudgetMs(config: Config, limits: DispatchLimits): number {
  return Math.max(0, Math.min(limits.budgetMs, WAIT_UNTIL_MS - RECORD_MARGIN_MS - config.webhookTimeoutMs));
}

function statusAfter(outcome: Outcome, nextAttemptAt: string | null): DeliveryInsert["status"] {
  if (outcome.kind === "succeeded") return "succeeded";
  if (outcome.kind === "failed" && nextAttemptAt !== null) return "pending";
  return "failed";
}

/** Folds one attempt, in order, into its webhook's run of consecutive failures. */
function countAttempt(
  health: Map<string, WebhookHealth>,
  webhookId: string,
  kind: "succeeded" | "failed" | "gone",
  attemptedAt: string,
  result: AttemptResult,
) {
  const h = health.get(webhookId) ?? { id: webhookId, failures: 0, succeeded: 0, gone: 0, triggeredAt: attemptedAt };
  if (attemptedAt > h.triggeredAt) h.triggeredAt = attemptedAt;
  if (kind === "succeeded") {
    h.succeeded = 1;
    h.failures = 0;
  } else {
    h.failures += 1;
    if (kind === "gone") h.gone = 1;
    if (h.lastFailedAt === undefined || attemptedAt >= h.lastFailedAt) {
      Object.assign(h, { lastStatusCode: result.statusCode, lastError: result.error, lastFailedAt: attemptedAt });
    }
  }
  health.set(webhookId, h);
}
