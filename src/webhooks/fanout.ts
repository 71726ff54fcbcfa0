import { and, eq, inArray, lte } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { drizzle } from "drizzle-orm/d1";
import { BASE62 } from "../core/ids";
import { nowIso } from "../core/time";
import { type Delivery, deliveries, type EventRow, events, type Webhook, webhooks } from "../db/schema";
import type { Env, EventsQueueMessage } from "../env";
import { alertedWebhookId } from "./alerts";

/** Queues accept at most 100 messages per sendBatch. */
const SEND_BATCH = 100;
/** Delivery inserts per D1 batch; the batch's lookup binds one parameter per webhook (≤ 100). */
const INSERT_BATCH = 50;

type Subscription = Pick<Webhook, "events" | "filterProjectId" | "filterAssigneeId"> & Partial<Pick<Webhook, "id">>;
type MatchableEvent = Pick<EventRow, "type" | "data" | "changes">;

function field(value: unknown, key: string): unknown {
  return value !== null && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
}

/** The project an event concerns: the project itself for project.*, else the resource's projectId. */
function projectIdsOf(type: string, data: unknown, changes: unknown): unknown[] {
  const own = type.startsWith("project.") ? field(data, "id") : field(data, "projectId");
  return [own, field(field(changes, "projectId"), "from")];
}

/**
 * Whether a webhook wants an event: its type is subscribed (or "*"), and each set
 * filter matches. A task moved out of the filtered project, or reassigned away from
 * the filtered member, still matches through the change's previous value, since the
 * change concerns them. Events without the field (members, for instance) never
 * match a filter on it. A webhook never gets an operational event about itself (README
 * "Alerts": no loops), "*" included.
 */
export function webhookMatches(webhook: Subscription, event: MatchableEvent): boolean {
  if (!webhook.events.includes("*") && !webhook.events.includes(event.type)) return false;
  if (webhook.id !== undefined && alertedWebhookId(event) === webhook.id) return false;
  if (webhook.filterProjectId === null && webhook.filterAssigneeId === null) return true;
  const { data, changes } = event;
  if (webhook.filterProjectId !== null && !projectIdsOf(event.type, data, changes).includes(webhook.filterProjectId)) {
    return false;
  }
  if (webhook.filterAssigneeId !== null) {
    const assignees = [field(data, "assigneeId"), field(field(changes, "assigneeId"), "from")];
    if (!assignees.includes(webhook.filterAssigneeId)) return false;
  }
  return true;
}

/**
 * The id of the delivery of `eventId` to `webhookId`: derived from the pair, so every
 * path that sends the pair (straight after the commit, the queue's fan-out, a repeat of
 * either after a crash) signs with the same `webhook-id` and a receiver can drop the
 * duplicate that at-least-once delivery allows.
 */
export async function deliveryIdFor(eventId: string, webhookId: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(`${eventId}:${webhookId}`)));
  let id = "del_";
  // 20 base62 characters, as newId makes, from the digest's first 20 bytes (a slight bias is harmless here).
  for (const byte of digest.subarray(0, 20)) id += BASE62[byte % 62];
  return id;
}

const encoder = new TextEncoder();

/**
 * Fans one committed event out: one delivery record per matching webhook
 * (unique per (webhook, event), so a repeated event message creates none), then one
 * queue message per delivery not yet attempted. A crash between the insert and the
 * send is healed by the event message's retry, which finds the records and sends.
 * Returns the ids of the deliveries it enqueued.
 */
export async function fanOutEvent(env: Env, eventId: string): Promise<string[]> {
  const db = drizzle(env.DB);
  const [[event], subscribed] = await db.batch([
    db.select().from(events).where(eq(events.id, eventId)),
    db
      .select({
        id: webhooks.id,
        events: webhooks.events,
        filterProjectId: webhooks.filterProjectId,
        filterAssigneeId: webhooks.filterAssigneeId,
      })
      .from(webhooks)
      .innerJoin(events, eq(events.orgId, webhooks.orgId))
      // A webhook hears of events from its creation on, not of earlier ones still in the queue.
      // Disabled webhooks get their deliveries too: the delivery attempt records them
      // "not sent" (failed), so what a webhook missed while off stays listed and redeliverable.
      .where(and(eq(events.id, eventId), lte(webhooks.createdAt, events.createdAt))),
  ]);
  if (!event) return [];

  const now = nowIso();
  const matching = subscribed.filter((webhook) => webhookMatches(webhook, event));
  const ids = await Promise.all(matching.map((webhook) => deliveryIdFor(event.id, webhook.id)));
  const rows: Delivery[] = matching.map((webhook, i) => ({
    id: ids[i]!,
    orgId: event.orgId,
    webhookId: webhook.id,
    eventId: event.id,
    eventType: event.type,
    status: "pending",
    attemptCount: 0,
    lastStatusCode: null,
    nextAttemptAt: null,
    createdAt: now,
    updatedAt: now,
  }));
  // Every unattempted delivery of this event, including ones an earlier, interrupted
  // run of this message inserted but never sent. Looked up by (webhook, event): the
  // unique index serves it.
  const unsent: { id: string }[] = [];
  for (let i = 0; i < rows.length; i += INSERT_BATCH) {
    const chunk = rows.slice(i, i + INSERT_BATCH);
    const lookup = db
      .select({ id: deliveries.id })
      .from(deliveries)
      .where(
        and(
          inArray(
            deliveries.webhookId,
            chunk.map((row) => row.webhookId),
          ),
          eq(deliveries.eventId, event.id),
          eq(deliveries.status, "pending"),
          eq(deliveries.attemptCount, 0),
        ),
      );
    const inserts: BatchItem<"sqlite">[] = chunk.map((row) => db.insert(deliveries).values(row).onConflictDoNothing());
    // Inserts first, then the lookup, in one round trip.
    const results = await db.batch([inserts[0]!, ...inserts.slice(1), lookup]);
    unsent.push(...(results.at(-1) as { id: string }[]));
  }
  const messages = unsent.map((d) => ({ body: { kind: "delivery", deliveryId: d.id } satisfies EventsQueueMessage }));
  for (let i = 0; i < messages.length; i += SEND_BATCH) {
    await env.EVENTS_QUEUE.sendBatch(messages.slice(i, i + SEND_BATCH));
  }
  return unsent.map((d) => d.id);
}
