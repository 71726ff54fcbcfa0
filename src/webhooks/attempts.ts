import { eq, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { configFrom } from "../config";
import { newId } from "../core/ids";
import { isoPlusSeconds } from "../core/time";
import { deliveries, events, organizations, webhooks } from "../db/schema";
import type { Env, EventsQueueMessage } from "../env";
import { alertIds, isOperational, sendAlerts } from "./alerts";
import { disabledAlertStatement, exhaustedAlertStatement } from "./alerts.queries";
import { type AttemptResult, makeAttempts, nextAttemptDelay, type Outcome } from "./deliver";
import {
  clearAttemptNextAttempt,
  clearNextAttempt,
  recordAttemptStatements,
  settleIfDisabledStatements,
  settleStatements,
} from "./deliveries.queries";
import { countWebhookFailure, disableGoneWebhook, readEnabled, recordWebhookSuccess } from "./webhooks.queries";

/** A `delivery` message as the queue hands it over: which delivery, and where it stands in its chain. */
export interface DeliveryMessage {
  deliveryId: string;
  /** The queue's count for this message (1 on its first try). */
  attempts: number;
  /** Attempts made before the message was sent (1 when the first was made straight after the commit). */
  after?: number;
}

/** What the consumer does with a message: acknowledge it, or retry it after a delay. */
export type QueueVerdict = { ack: true } | { ack: false; delaySeconds: number };

const ACK: QueueVerdict = { ack: true };

/** How one queue batch of deliveries is sent: as dispatch.ts's limits, with the batch's own time budget. */
export const BATCH_LIMITS = { concurrency: 5, perWebhook: 2, budgetMs: 20_000 };
/** A message not started within the budget comes back after this long, its place in the chain kept. */
export const DEFER_SECONDS = 5;

/**
 * Makes the attempts of one queue batch of `delivery` messages: one D1 read for all of
 * them, the POSTs (BATCH_LIMITS: a slow receiver holds at most `perWebhook` of the
 * slots), and one D1 batch recording every attempt, settling deliveries and moving the
 * webhooks' health. Returns each message's verdict, in order. A delivery that is gone,
 * settled, or repeated within the batch is acknowledged without sending. Messages not
 * started within the budget are re-sent as copies that keep their place in the chain
 * (a retry would use up one of the queue's retries), and acknowledged.
 */
export async function attemptDeliveries(
  env: Env,
  messages: DeliveryMessage[],
  random: () => number = Math.random,
  limits = BATCH_LIMITS,
): Promise<QueueVerdict[]> {
  const config = configFrom(env);
  const db = drizzle(env.DB);
  const ids = JSON.stringify([...new Set(messages.map((m) => m.deliveryId))]);
  const rows = await db
    .select({ delivery: deliveries, event: events, webhook: webhooks, orgName: organizations.name })
    .from(deliveries)
    .innerJoin(events, eq(events.id, deliveries.eventId))
    .innerJoin(organizations, eq(organizations.id, deliveries.orgId))
    .innerJoin(webhooks, eq(webhooks.id, deliveries.webhookId))
    .where(sql`${deliveries.id} IN (SELECT value FROM json_each(${ids}))`);
  const pending = new Map(rows.filter((r) => r.delivery.status === "pending").map((r) => [r.delivery.id, r]));

  const verdicts: QueueVerdict[] = messages.map(() => ACK);
  const work = messages.flatMap((message, index) => {
    const row = pending.get(message.deliveryId);
    if (!row) return [];
    pending.delete(message.deliveryId);
    return [{ index, message, row, attempt: (message.after ?? 0) + message.attempts }];
  });
  const { results, unstarted } = await makeAttempts(
    env,
    work.map(({ row }) => ({
      deliveryId: row.delivery.id,
      event: row.event,
      webhook: row.webhook,
      organization: { id: row.delivery.orgId, name: row.orgName },
    })),
    limits,
    Date.now() + limits.budgetMs,
  );

  const statements: D1PreparedStatement[] = [];
  /** Failed attempts: where their webhook's `enabled` comes back in the batch, and their delay. */
  const failures: { index: number; enabledAt: number; delaySeconds: number | null }[] = [];
  /** Where the batch's alert inserts are (README "Alerts"), to enqueue what they wrote. */
  const alertsAt: number[] = [];
  const alert = (statement: D1PreparedStatement) => {
    alertsAt.push(statements.length);
    statements.push(statement);
  };
  for (const [i, { startedAt, outcome }] of results) {
    const { index, row, attempt } = work[i]!;
    const at = new Date(startedAt).toISOString();
    const record = { db: env.DB, deliveryId: row.delivery.id, webhookId: row.webhook.id, at };
    // A delivery of an operational event moves nothing that alerts (README "Alerts": no loops).
    const operational = isOperational(row.event.type);
    if (outcome.kind !== "failed") {
      if (outcome.kind === "gone" && !operational) {
        alert(disabledAlertStatement(env.DB, disabling(record, "gone", 1), lastError(outcome.result, at)));
      }
      statements.push(...settledOutcomeStatements(record, outcome, operational));
      continue;
    }
    const delaySeconds = nextAttemptDelay(config, outcome.result, attempt, random);
    const nextAttemptAt = delaySeconds === null ? null : isoPlusSeconds(delaySeconds, startedAt);
    statements.push(...attemptStatements(record, outcome.result, nextAttemptAt));
    if (operational) {
      failures.push({ index, enabledAt: statements.length, delaySeconds });
      statements.push(readEnabled(env.DB, record.webhookId));
    } else {
      const disableAfter = config.webhookDisableAfterFailures;
      alert(
        disabledAlertStatement(
          env.DB,
          disabling(record, "consecutive_failures", disableAfter),
          lastError(outcome.result, at),
        ),
      );
      failures.push({ index, enabledAt: statements.length, delaySeconds });
      statements.push(countWebhookFailure(env.DB, record.webhookId, disableAfter, at));
    }
    if (nextAttemptAt === null) alert(exhaustedAlertStatement(env.DB, newId("evt"), record.deliveryId, at));
    statements.push(
      ...(nextAttemptAt === null
        ? [
            ...settleStatements(env.DB, record.deliveryId, record.webhookId, "failed", at),
            clearNextAttempt(env.DB, record.deliveryId),
            clearAttemptNextAttempt(env.DB, record.deliveryId, at),
          ]
        : settleIfDisabledStatements(env.DB, record.deliveryId, record.webhookId, at)),
    );
  }
  const written = statements.length > 0 ? await env.DB.batch<{ enabled: number }>(statements) : [];
  for (const { index, enabledAt, delaySeconds } of failures) {
    const enabled = written[enabledAt]?.results[0]?.enabled === 1;
    if (enabled && delaySeconds !== null) verdicts[index] = { ack: false, delaySeconds };
  }
  await sendAlerts(env, alertIds(written, alertsAt));

  if (unstarted.length > 0) {
    const copies = unstarted.map((i) => work[i]!);
    try {
      await env.EVENTS_QUEUE.sendBatch(
        copies.map(({ message, attempt }) => ({
          body: { kind: "delivery", deliveryId: message.deliveryId, after: attempt - 1 } satisfies EventsQueueMessage,
          delaySeconds: DEFER_SECONDS,
        })),
      );
    } catch {
      for (const { index } of copies) verdicts[index] = { ack: false, delaySeconds: DEFER_SECONDS };
    }
  }
  return verdicts;
}

/** One attempt of one delivery: the `delivery` message path for a single message (tests, tools). */
export async function attemptDelivery(
  env: Env,
  deliveryId: string,
  messageAttempts: number,
  random: () => number = Math.random,
  after = 0,
): Promise<QueueVerdict> {
  const [verdict] = await attemptDeliveries(env, [{ deliveryId, attempts: messageAttempts, after }], random);
  return verdict!;
}

interface AttemptRecord {
  db: D1Database;
  deliveryId: string;
  webhookId: string;
  /** When the attempt was made. */
  at: string;
}

/** The attempt row (numbered from the delivery's count) and the delivery's own counters. */
function attemptStatements(
  record: AttemptRecord,
  result: Partial<AttemptResult>,
  nextAttemptAt: string | null,
): D1PreparedStatement[] {
  return recordAttemptStatements(record.db, record.deliveryId, record.at, {
    statusCode: result.statusCode ?? null,
    responseTimeMs: result.responseTimeMs ?? null,
    error: result.error ?? null,
    nextAttemptAt,
    requestHeaders: result.requestHeaders ?? null,
  });
}

/** The `webhook.disabled` a failed attempt of `record` writes if it disables the webhook. */
function disabling(record: AttemptRecord, reason: "gone" | "consecutive_failures", disableAfter: number) {
  return { eventId: newId("evt"), webhookId: record.webhookId, reason, disableAfter };
}

function lastError(result: AttemptResult, at: string) {
  return { statusCode: result.statusCode, error: result.error, attemptedAt: at };
}

/**
 * An attempt that settles its delivery: succeeded, gone (the webhook is disabled at once,
 * unless the delivery carried an operational event: README "Alerts"), or never sent.
 */
function settledOutcomeStatements(
  record: AttemptRecord,
  outcome: Exclude<Outcome, { kind: "failed" }>,
  operational: boolean,
): D1PreparedStatement[] {
  const { db, deliveryId, webhookId, at } = record;
  switch (outcome.kind) {
    case "succeeded":
      return [
        ...attemptStatements(record, outcome.result, null),
        ...settleStatements(db, deliveryId, webhookId, "succeeded", at),
        recordWebhookSuccess(db, webhookId, at),
      ];
    case "gone":
      return [
        ...attemptStatements(record, outcome.result, null),
        ...settleStatements(db, deliveryId, webhookId, "failed", at),
        ...(operational ? [] : [disableGoneWebhook(db, webhookId, at)]),
      ];
    case "notSent":
      return [
        ...attemptStatements(record, { error: outcome.reason }, null),
        ...settleStatements(db, deliveryId, webhookId, "failed", at),
      ];
  }
}
