import { and, eq, gte, inArray, lt, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { drizzle } from "drizzle-orm/d1";
import { newId, randomBase62 } from "../core/ids";
import { type Actor, type Changes, StaleWriteError, type WriteContext } from "../core/write-context";
import { isGuardFailure, requireRow } from "../db/row-guards";
import { comments, type EventRow, events, incomingWebhooks, projects, tasks, users, webhooks } from "../db/schema";
import type { Env } from "../env";
import type { EventType, ResourceType } from "./catalog";

export interface EventDraft {
  type: EventType;
  resourceType: ResourceType;
  resourceId: string;
  data: EventRow["data"];
  changes?: Changes;
  /**
   * Fields of `data` the database fills in as the event row is written (`json_set`
   * over a scalar subquery each, e.g. a project's name): read in the commit's own
   * statement, so a write knowing only an id costs no extra round trip.
   */
  lookups?: EventLookups;
}

/** `data` field → a scalar SQL expression (a subquery) giving its value. */
export type EventLookups = Record<string, SQL>;

export function eventRow(orgId: string, actor: Actor, draft: EventDraft, createdAt: string): EventRow {
  return {
    id: newId("evt"),
    orgId,
    type: draft.type,
    resourceType: draft.resourceType,
    resourceId: draft.resourceId,
    data: draft.data,
    changes: draft.changes ?? null,
    actorUserId: actor.userId,
    actorApiKeyId: actor.apiKeyId,
    actorIncomingWebhookId: actor.incomingWebhookId ?? null,
    createdAt,
    enqueuedAt: null,
  };
}

/** Tables whose rows carry an `etag` that changes on every write. */
const GUARDED_TABLES = { users, projects, tasks, comments, webhooks, incomingWebhooks };
export type GuardedTable = keyof typeof GUARDED_TABLES;

/** The row a write was computed from: the batch applies only if it still has this ETag. */
export interface Guard {
  table: GuardedTable;
  id: string;
  etag: string;
}

/**
 * Commits `statements` and the events' rows in one D1 batch (one transaction), so a
 * change never exists without its event nor an event without its change; then hands
 * the events to `afterCommit`, with the results of the context's `commitReads` (read in
 * the same batch, so they see the database as the change left it). With a `guard`, the batch first checks the row still
 * has the ETag it was read with and otherwise rolls back whole (StaleWriteError).
 * `derived` are set-based event inserts (`eventsFromRows`) that run before `statements`,
 * so they still see the rows those delete; their events are handed on first (the first
 * ones in full, the others by id). Returns the drafts' event rows as stored (lookups filled in).
 */
export async function commitWithEvents(
  w: WriteContext,
  statements: BatchItem<"sqlite">[],
  drafts: EventDraft[],
  createdAt: string,
  guard?: Guard,
  derived: DerivedEvents[] = [],
): Promise<EventRow[]> {
  const rows = drafts.map((d) => eventRow(w.orgId, w.actor, d, createdAt));
  const table = guard && GUARDED_TABLES[guard.table];
  const guarded =
    guard && table ? requireRow(w.db, table, and(eq(table.id, guard.id), eq(table.etag, guard.etag)) as SQL) : [];
  const reads =
    rows.length > 0
      ? (w.commitReads?.(
          w.orgId,
          rows.map((row) => row.id),
        ) ?? [])
      : [];
  const inserts = rows.map((row, i) => insertEvent(w.db, row, drafts[i]?.lookups));
  const all = [...guarded, ...derived.flatMap((d) => [d.insert, d.readBack]), ...statements, ...inserts, ...reads];
  const [first, ...rest] = all;
  if (!first) return rows;
  let results: unknown[];
  try {
    results = await w.db.batch([first, ...rest]);
  } catch (error) {
    if (guard && isGuardFailure(error)) throw new StaleWriteError();
    throw error;
  }
  const derivedAt = guarded.length;
  const committed: EventRow[] = [];
  const unsentIds: string[] = [];
  derived.forEach((_, i) => {
    const written = results[derivedAt + 2 * i] as Pick<EventRow, "id" | "enqueuedAt">[];
    const inFull = results[derivedAt + 2 * i + 1] as EventRow[];
    const read = new Set(inFull.map((row) => row.id));
    committed.push(...inFull);
    for (const row of written) if (row.enqueuedAt === null && !read.has(row.id)) unsentIds.push(row.id);
  });
  const insertedAt = derivedAt + 2 * derived.length + statements.length;
  rows.forEach((row, i) => {
    // The data as stored, lookups filled in (RETURNING of the row's own insert).
    if (drafts[i]?.lookups) row.data = (results[insertedAt + i] as Pick<EventRow, "data">[])[0]?.data ?? row.data;
  });
  committed.push(...rows);
  if (committed.length > 0 || unsentIds.length > 0) {
    w.afterCommit(committed, results.slice(results.length - reads.length), unsentIds);
  }
  return rows;
}

/** An event row's INSERT; with lookups, `data` is completed in SQL and read back (RETURNING). */
function insertEvent(db: WriteContext["db"], row: EventRow, lookups?: EventLookups): BatchItem<"sqlite"> {
  if (!lookups || Object.keys(lookups).length === 0) return db.insert(events).values(row);
  const paths = Object.entries(lookups).map(([field, value]) => sql`${`$.${field}`}, (${value})`);
  return db
    .insert(events)
    .values({ ...row, data: sql`json_set(${JSON.stringify(row.data)}, ${sql.join(paths, sql`, `)})` })
    .returning({ data: events.data });
}

/**
 * A set-based events INSERT (`eventsFromRows`), returning only each event's id and
 * whether it is still to send, and the read of its first `READ_BACK_IN_FULL` events in
 * full: a 10,000-row cascade of 10 kB descriptions must not come back whole
 * (128 MB per isolate).
 */
export interface DerivedEvents {
  insert: BatchItem<"sqlite">;
  readBack: BatchItem<"sqlite">;
}

/**
 * How many of a set-based write's events are handed on in full: first attempts after a
 * commit take at most 200 (event, webhook) pairs (webhooks/dispatch.ts); the rest go
 * through the queue by id anyway.
 */
const READ_BACK_IN_FULL = 200;

/**
 * One event per row of `from` (a `FROM … WHERE …` clause), written by one
 * INSERT … SELECT … RETURNING: a constant statement size and number of bound parameters
 * however many rows (D1: 100 parameters per statement), instead of a statement per row.
 * Ids are `evt_` + 10 random characters of the statement + the row's number in it (10
 * digits): unique whatever the source ids look like, and shaped like `newId`'s.
 * Like `commitReads`, an organization without webhooks gets its events marked sent at once.
 */
export function eventsFromRows(
  w: WriteContext,
  spec: { type: EventType; resourceType: ResourceType; resourceId: SQL; data: SQL; from: SQL },
  createdAt: string,
): DerivedEvents {
  const { actor } = w;
  const prefix = `evt_${randomBase62(10)}`;
  const insert = w.db
    .insert(events)
    .select(
      sql`SELECT ${prefix} || printf('%010d', row_number() OVER ()), ${w.orgId}, ${spec.type}, ${spec.resourceType},
        ${spec.resourceId}, ${spec.data}, NULL, ${actor.userId}, ${actor.apiKeyId}, ${actor.incomingWebhookId ?? null},
        ${createdAt},
        CASE WHEN EXISTS (SELECT 1 FROM ${webhooks} WHERE ${webhooks.orgId} = ${w.orgId}) THEN NULL ELSE ${createdAt} END
      ${spec.from}`,
    )
    .returning({ id: events.id, enqueuedAt: events.enqueuedAt });
  // This statement's ids share `prefix` and sort in row order ('~' follows every base62 character).
  const readBack = w.db
    .select()
    .from(events)
    .where(and(eq(events.orgId, w.orgId), gte(events.id, prefix), lt(events.id, `${prefix}~`)))
    .orderBy(events.id)
    .limit(READ_BACK_IN_FULL);
  return { insert, readBack };
}

/**
 * Sends committed events to the queue and marks them enqueued, in chunks Queues and
 * D1 accept. Runs after the response (waitUntil), where a failed send is silent: the
 * cron sweep re-sends whatever is still unmarked. A failed chunk ends the call, so
 * the events still unmarked are the last ones of `rows`.
 */
export async function enqueueEvents(env: Env, rows: Pick<EventRow, "id">[]): Promise<void> {
  // sendBatch takes at most 100 messages; the UPDATE binds 1 + CHUNK (D1 allows 100).
  const CHUNK = 99;
  const db = drizzle(env.DB);
  for (let enqueued = 0; enqueued < rows.length; enqueued += CHUNK) {
    const chunk = rows.slice(enqueued, enqueued + CHUNK);
    try {
      await env.EVENTS_QUEUE.sendBatch(chunk.map((row) => ({ body: { kind: "event" as const, eventId: row.id } })));
      await db
        .update(events)
        .set({ enqueuedAt: new Date().toISOString() })
        .where(
          inArray(
            events.id,
            chunk.map((r) => r.id),
          ),
        );
    } catch (error) {
      console.error(
        JSON.stringify({
          level: "error",
          msg: "event enqueue failed; the outbox sweep will retry",
          eventIds: chunk.map((r) => r.id),
          notEnqueued: rows.length - enqueued,
          error: String(error),
        }),
      );
      return;
    }
  }
}

/** Hands an event back to the outbox (marked unsent), so the cron sweep sends it again. */
export async function returnToOutbox(env: Env, eventId: string): Promise<void> {
  await drizzle(env.DB).update(events).set({ enqueuedAt: null }).where(eq(events.id, eventId));
}
