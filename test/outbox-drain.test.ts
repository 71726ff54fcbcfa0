import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env, EventsQueueMessage } from "../src/env";
import { sweepUnsentEvents } from "../src/events/sweep";
import { createOrg } from "./harness";

const BACKLOG = 10_000;

/**
 * `count` unsent events of the organization (which has no webhooks, so their fan-out
 * is a lookup that finds nothing), created `ageSeconds` ago, one second apart in id
 * order: generated in SQL by one statement.
 */
async function insertUnsentEvents(orgId: string, count: number, ageSeconds = 600): Promise<void> {
  const base = Date.now() - ageSeconds * 1000;
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
     INSERT INTO events (id, org_id, type, resource_type, resource_id, data, created_at, enqueued_at)
     SELECT printf('evt_%s_%05d', ?2, i), ?2, 'task.created', 'task', printf('task_%05d', i), '{}',
            strftime('%Y-%m-%dT%H:%M:%fZ', ?3 / 1000.0 + i / 1000.0, 'unixepoch'), NULL
       FROM n`,
  )
    .bind(count, orgId, base)
    .run();
}

async function unsentOf(orgId: string): Promise<number> {
  const n = await env.DB.prepare("SELECT COUNT(*) AS n FROM events WHERE org_id = ? AND enqueued_at IS NULL")
    .bind(orgId)
    .first<number>("n");
  return n ?? 0;
}

/** An env whose queue records what it is sent and sends nothing; `failFrom` makes the n-th sendBatch on fail. */
function recordingQueue(batches: MessageSendRequest<EventsQueueMessage>[][], failFrom = Infinity): Env {
  return {
    ...env,
    EVENTS_QUEUE: {
      send: async () => {
        throw new Error("the sweep sends batches");
      },
      sendBatch: async (messages: Iterable<MessageSendRequest<EventsQueueMessage>>) => {
        if (batches.length + 1 >= failFrom) throw new Error("queue unavailable");
        batches.push([...messages]);
      },
    },
  } as unknown as Env;
}

describe("outbox sweep: draining a backlog", { timeout: 60_000 }, () => {
  it(`drains ${BACKLOG.toLocaleString("en")} unsent events through the real queue within 3 cron runs`, async () => {
    const org = await createOrg();
    await insertUnsentEvents(org.id, BACKLOG);
    expect(await unsentOf(org.id)).toBe(BACKLOG);

    const started = performance.now();
    const runs: number[] = [];
    while (runs.length < 3 && (await unsentOf(org.id)) > 0) runs.push(await sweepUnsentEvents(env as Env));
    const seconds = (performance.now() - started) / 1000;

    expect(await unsentOf(org.id)).toBe(0);
    expect(runs.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(BACKLOG);
    // Shown when the test fails (the config silences passing tests); bench/outbox.mjs prints it always.
    console.log(
      JSON.stringify({ backlog: BACKLOG, runs, seconds, eventsPerSecond: Math.round(BACKLOG / seconds) }, null, 0),
    );
  });

  it("sends at most 99 events per sendBatch and stops a run at the first failed send", async () => {
    const org = await createOrg();
    await insertUnsentEvents(org.id, 300);

    const batches: MessageSendRequest<EventsQueueMessage>[][] = [];
    // The third sendBatch fails: two chunks went out and are marked, the rest stays unsent.
    const sent = await sweepUnsentEvents(recordingQueue(batches, 3));
    expect(batches.map((b) => b.length)).toEqual([99, 99]);
    expect(sent).toBe(198);
    expect(await unsentOf(org.id)).toBe(102);

    // The next run sends the rest, in order.
    const more = await sweepUnsentEvents(recordingQueue(batches));
    expect(more).toBe(102);
    expect(await unsentOf(org.id)).toBe(0);
    for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(99);
    const ids = batches.flat().map((m) => (m.body as { eventId: string }).eventId);
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(300);
  });

  it("stops at the run's event budget and leaves the rest for the next run", async () => {
    const org = await createOrg();
    await insertUnsentEvents(org.id, 250);
    const batches: MessageSendRequest<EventsQueueMessage>[][] = [];
    expect(await sweepUnsentEvents(recordingQueue(batches), Date.now(), { events: 120, ms: 20_000 })).toBe(120);
    expect(await unsentOf(org.id)).toBe(130);
    expect(await sweepUnsentEvents(recordingQueue(batches), Date.now(), { events: 120, ms: 20_000 })).toBe(120);
    expect(await sweepUnsentEvents(recordingQueue(batches))).toBe(10);
    expect(await unsentOf(org.id)).toBe(0);
  });
});
