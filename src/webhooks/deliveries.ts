import { and, asc, eq } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import { AppError, notFound } from "../core/errors";
import type { PageRequest } from "../core/pagination";
import { nowIso } from "../core/time";
import { answerStatements } from "../core/write-context";
import { sortKeys } from "../db/keyset";
import { listPage } from "../db/org-queries";
import { isGuardFailure, prepared } from "../db/row-guards";
import { type Delivery, type DeliveryAttempt, deliveries, deliveryAttempts, events } from "../db/schema";
import type { EventsQueueMessage } from "../env";
import type { EventType } from "../events/catalog";
import { clearNextAttempt, requireSettled, settleStatements } from "./deliveries.queries";
import { deliveryBody } from "./payload";
import { findWebhook, type WebhookContext } from "./webhooks";

export type DeliveryStatus = Delivery["status"];

export function presentDelivery(row: Delivery) {
  return {
    id: row.id,
    webhookId: row.webhookId,
    eventId: row.eventId,
    event: row.eventType,
    status: row.status,
    attemptCount: row.attemptCount,
    lastStatusCode: row.lastStatusCode,
    nextAttemptAt: row.nextAttemptAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export function presentAttempt(row: DeliveryAttempt) {
  return {
    attemptNumber: row.attemptNumber,
    attemptedAt: row.attemptedAt,
    statusCode: row.statusCode,
    responseTimeMs: row.responseTimeMs,
    error: row.error,
    nextAttemptAt: row.nextAttemptAt,
    requestHeaders: row.requestHeaders,
  };
}

export const DELIVERY_SORT_FIELDS = ["createdAt", "updatedAt"] as const;

export async function listDeliveries(
  db: DrizzleD1Database,
  orgId: string,
  webhookId: string,
  query: PageRequest & {
    sortBy: (typeof DELIVERY_SORT_FIELDS)[number];
    order: "asc" | "desc";
    status?: DeliveryStatus;
    event?: EventType;
  },
) {
  await findWebhook(db, orgId, webhookId);
  const where = and(
    eq(deliveries.webhookId, webhookId),
    query.status ? eq(deliveries.status, query.status) : undefined,
    query.event ? eq(deliveries.eventType, query.event) : undefined,
  );
  // The webhook id joins the filters, so a cursor from one webhook's deliveries is refused on another's.
  const keys = sortKeys(deliveries, [query.sortBy, "id"]);
  return listPage(db, deliveries, where, keys, { ...query, webhookId }, presentDelivery);
}

async function findDelivery(db: DrizzleD1Database, webhookId: string, deliveryId: string): Promise<Delivery> {
  const [row] = await db
    .select()
    .from(deliveries)
    .where(and(eq(deliveries.webhookId, webhookId), eq(deliveries.id, deliveryId)));
  if (!row) throw notFound("Delivery");
  return row;
}

/** One delivery with every attempt (and the headers each sent) and the exact body it sends. */
export async function getDelivery(
  db: DrizzleD1Database,
  organization: { id: string; name: string },
  webhookId: string,
  deliveryId: string,
) {
  await findWebhook(db, organization.id, webhookId);
  const delivery = await findDelivery(db, webhookId, deliveryId);
  const [attempts, [event]] = await db.batch([
    db
      .select()
      .from(deliveryAttempts)
      .where(eq(deliveryAttempts.deliveryId, deliveryId))
      .orderBy(asc(deliveryAttempts.attemptNumber)),
    db.select().from(events).where(eq(events.id, delivery.eventId)),
  ]);
  const payload = event ? JSON.parse(deliveryBody(event, { webhookId, deliveryId, organization })) : null;
  return { ...presentDelivery(delivery), attempts: attempts.map(presentAttempt), payload };
}

/**
 * Sends a delivery again, whatever its state: it becomes `pending` and a fresh queue
 * message starts the retry schedule from the beginning; attempt numbers continue.
 */
export async function redeliver(
  ctx: WebhookContext,
  { webhookId, deliveryId }: { webhookId: string; deliveryId: string },
) {
  const { env } = ctx;
  const webhook = await findWebhook(ctx.db, ctx.orgId, webhookId);
  if (!webhook.enabled) {
    throw new AppError("CONFLICT", 'The webhook is disabled; re-enable it (PATCH {"enabled": true}) first');
  }
  const delivery = await findDelivery(ctx.db, webhookId, deliveryId);
  // A pending delivery still has its queue message: a second one would start a second
  // retry chain (double sends) and race the first one's dead letter.
  if (delivery.status === "pending") throw stillPending(delivery.nextAttemptAt);
  const now = ctx.now();
  const redelivered = { ...presentDelivery(delivery), status: "pending" as const, nextAttemptAt: null, updatedAt: now };
  // Concurrent calls all read a settled delivery above; only the one whose batch finds
  // it still settled moves it to pending and sends a message: the guard rolls a loser's
  // batch back whole, its stored Idempotency-Key answer with it.
  try {
    await env.DB.batch([
      ...requireSettled(env.DB, delivery.id),
      clearNextAttempt(env.DB, delivery.id),
      ...settleStatements(env.DB, delivery.id, webhookId, "pending", now),
      ...answerStatements(ctx, redelivered).map((statement) => prepared(env.DB, statement)),
    ]);
  } catch (error) {
    if (isGuardFailure(error)) throw stillPending(null);
    throw error;
  }
  try {
    await env.EVENTS_QUEUE.send({ kind: "delivery", deliveryId: delivery.id } satisfies EventsQueueMessage);
  } catch (error) {
    // Nothing will send it: put it back as it was, so the log does not show a phantom
    // pending, and forget the stored answer, so a retry with the same key runs again.
    await env.DB.batch([
      ...settleStatements(env.DB, delivery.id, webhookId, delivery.status, nowIso()),
      ...(ctx.releaseAnswer?.() ?? []).map((statement) => prepared(env.DB, statement)),
    ]);
    throw error;
  }
  return redelivered;
}

function stillPending(nextAttemptAt: string | null): AppError {
  const next = nextAttemptAt ? `; next attempt at ${nextAttemptAt}` : "";
  return new AppError("CONFLICT", `This delivery is still being delivered${next}; redeliver it once it has settled`);
}
