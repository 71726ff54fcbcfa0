import { and, eq, gte, inArray, sql } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import { notFound } from "../core/errors";
import type { PageRequest } from "../core/pagination";
import { planPage, sortKeys } from "../db/keyset";
import { listPage, pageQueries } from "../db/org-queries";
import { type EventRow, eventCounts, events } from "../db/schema";
import { EVENT_TYPES, type EventType, type ResourceType } from "./catalog";

export { RESOURCE_TYPES } from "./catalog";

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
  resourceType?: ResourceType;
  /** A member (`user_…`), API key (`key_…`) or incoming-webhook credential (`iwh_…`) id; see `actorColumn`. */
  actorId?: string;
}

export const ACTOR_ID_PATTERN = /^(user|key|iwh)_[0-9A-Za-z]+$/;

/**
 * Which actor column an `actorId` matches, by its prefix: a member id matches
 * `actor.userId` (what the member did through any key acting for them), a key id
 * `actor.apiKeyId`, an incoming-webhook id `actor.incomingWebhookId` (whose events
 * have no member). One column per query, so one index serves it.
 */
function actorColumn(actorId: string) {
  if (actorId.startsWith("key_")) return events.actorApiKeyId;
  if (actorId.startsWith("iwh_")) return events.actorIncomingWebhookId;
  return events.actorUserId;
}

/** The event types of a resource type: the catalog names each `<resource>.<verb>`. */
const typesOf = (resourceType: ResourceType) => EVENT_TYPES.filter((t) => t.startsWith(`${resourceType}.`));

/**
 * The organization's event log, newest first by default; each filter has its own
 * index. Unfiltered, type- and resource-type-filtered totals come from `event_counts`
 * (kept by a trigger), so they cost the same at a million events as at ten; with
 * `resourceId`, `actorId` or `since` the total counts the matching events through
 * that filter's index.
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
    query.resourceType !== undefined ? eq(events.resourceType, query.resourceType) : undefined,
    query.resourceId !== undefined ? eq(events.resourceId, query.resourceId) : undefined,
    query.actorId !== undefined ? eq(actorColumn(query.actorId), query.actorId) : undefined,
    query.since !== undefined ? gte(events.createdAt, query.since) : undefined,
  );
  // The counters hold events per type, so type and resource type are sums of them; the rest count rows.
  const counted = query.resourceId === undefined && query.since === undefined && query.actorId === undefined;
  const keptTotal = counted
    ? db
        .select({ total: sql<number>`coalesce(sum(${eventCounts.n}), 0)` })
        .from(eventCounts)
        .where(
          and(
            eq(eventCounts.orgId, orgId),
            query.type !== undefined ? eq(eventCounts.type, query.type) : undefined,
            query.resourceType !== undefined ? inArray(eventCounts.type, typesOf(query.resourceType)) : undefined,
          ),
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
