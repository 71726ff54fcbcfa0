import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env, EventsQueueMessage } from "../src/env";
import { resendStalledDeliveries } from "../src/webhooks/stalled";
import { createOrg } from "./harness";
import { createWebhook, receiverEndpoint } from "./webhook-helpers";

const STALLED = 250;

/** An env whose queue records each sendBatch (and sends nothing: no attempts are made). */
function recordingQueue(batches: MessageSendRequest<EventsQueueMessage>[][]): Env {
  return {
    ...env,
    EVENTS_QUEUE: {
      send: async () => {
        throw new Error("the stall sweep sends batches");
      },
      sendBatch: async (messages: Iterable<MessageSendRequest<EventsQueueMessage>>) => {
        batches.push([...messages]);
      },
    },
  } as unknown as Env;
}

describe("stalled deliveries: a backlog larger than one statement", { timeout: 30_000 }, () => {
  it(`re-sends ${STALLED} stalled deliveries in one run, in batches D1 and Queues accept`, async () => {
    const org = await createOrg();
    const hook = await createWebhook(org, { url: receiverEndpoint("stalled-backlog").url, events: ["member.added"] });
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000).toISOString();
    // One event, STALLED webhooks' worth of pending deliveries of it (unique per webhook and event).
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
       INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, status, created_at, updated_at)
       SELECT printf('del_stall_%04d', i), ?2, ?3, printf('evt_stall_%04d', i), 'member.added', 'pending', ?4, ?4 FROM n`,
    )
      .bind(STALLED, org.id, hook.id, twoHoursAgo)
      .run();

    const batches: MessageSendRequest<EventsQueueMessage>[][] = [];
    const now = Date.now();
    const first = await resendStalledDeliveries(recordingQueue(batches), now);
    expect(first).toBe(STALLED);
    // Nothing is left overdue: the next run finds none.
    expect(await resendStalledDeliveries(recordingQueue(batches), now)).toBe(0);

    for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(100);
    const sent = batches.flat().map((m) => (m.body as { deliveryId: string }).deliveryId);
    expect(sent).toHaveLength(STALLED);
    expect(new Set(sent).size).toBe(STALLED);
    const rows = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM deliveries WHERE webhook_id = ? AND status = 'pending' AND next_attempt_at = ?",
    )
      .bind(hook.id, new Date(now).toISOString())
      .first<number>("n");
    expect(rows).toBe(STALLED);
  });
});
