import { and, eq, gte, sql } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import { notFound } from "../core/errors";
import type { PageRequest } from "../core/pagination";
import { planPage, sortKeys } from "../db/keyset";
import { listPage, pageQueries } from "../db/org-queries";
import { type EventRow, eventCounts, events } from "../db/schema";
import type { EventType } from "./catalog";

/** An event as the audit trail shows it: immutable, the resource after the change, who did it. */
export function presentEvent(row: EventRow) {
  return {
    id: row.id,
    type: row.type,
    resourceType: row.resourceType,
    resourceId: row.resourceId,
    data: row.data,
    ...(row.changes ? { changes: row.changes } : {}),
    actor: {
      userId: row.actorUserId,
      apiKeyId: row.actorApiKeyId,
      ...(row.actorIncomingWebhookId ? { incomingWebhookId: row.actorIncomingWebhookId } : {}),
    },
    createdAt: row.createdAt,
  };
}
export type EventResource = ReturnType<typeof presentEvent>;

export const EVENT_SORT_FIELDS = ["createdAt"] as const;

export interface EventListQuery extends PageRequest {
  sortBy: (typeof EVENT_SORT_FIELDS)[number];
  order: "asc" | "desc";
  type?: EventType;
  resourceId?: string;
  /** ISO 8601 UTC; events at or after it. */
  since?: string;
}

/**
 * The organization's event log, newest first by default; each filter has its own
 * index. Unfiltered and type-filtered totals come from `event_counts` (kept by a
 * trigger), so they cost the same at a million events as at ten; with `resourceId` or
 * `since` the total counts the matching events through that filter's index.
 */
export async function listEvents(db: DrizzleD1Database, orgId: string, query: EventListQuery) {
  const { where, keptTotal } = eventListParts(db, orgId, query);
  return listPage(db, events, where, EVENT_SORT_KEYS, query, presentEvent, keptTotal);
}

/** The page and total queries `listEvents` runs, unexecuted (the bench and the tests print their plans). */
export async function eventListQueries(db: DrizzleD1Database, orgId: string, query: EventListQuery) {
  const { where, keptTotal } = eventListParts(db, orgId, query);
  return pageQueries(db, events, where, await planPage(EVENT_SORT_KEYS, query), keptTotal);
}

const EVENT_SORT_KEYS = sortKeys(events, ["createdAt", "id"]);

function eventListParts(db: DrizzleD1Database, orgId: string, query: EventListQuery) {
  const where = and(
    eq(events.orgId, orgId),
    query.type !== undefined ? eq(events.type, query.type) : undefined,
    query.resourceId !== undefined ? eq(events.resourceId, query.resourceId) : undefined,
    query.since !== undefined ? gte(events.createdAt, query.since) : undefined,
  );
  const keptTotal =
    query.resourceId === undefined && query.since === undefined
      ? db
          .select({ total: sql<number>`coalesce(sum(${eventCounts.n}), 0)` })
          .from(eventCounts)
          .where(
            and(eq(eventCounts.orgId, orgId), query.type !== undefined ? eq(eventCounts.type, query.type) : undefined),
          )
      : undefined;
  return { where, keptTotal };
}

export async function getEvent(db: DrizzleD1Database, orgId: string, eventId: string) {
  const [row] = await db
    .select()
    .from(events)
    .where(and(eq(events.orgId, orgId), eq(events.id, eventId)));
  if (!row) throw notFound("Event");
  return presentEvent(row);
}
