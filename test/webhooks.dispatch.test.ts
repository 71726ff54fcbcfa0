import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import { events } from "../src/db/schema";
import type { Env } from "../src/env";
import { attemptDeliveries, BATCH_LIMITS } from "../src/webhooks/attempts";
import { DISPATCH_LIMITS, dispatchCommitted } from "../src/webhooks/dispatch";
import type { DeliveryDetail } from "./api-types";
import { call, createOrg, type TestOrg } from "./harness";
import {
  addMember,
  createWebhook,
  receivedBy,
  receiverEndpoint,
  scriptReceiver,
  settledDelivery,
  waitFor,
  waitForRequests,
} from "./webhook-helpers";
import { attemptsOf, deliveryRow, insertEvent, pendingDelivery, webhookOf } from "./webhook-queue";

// The first attempt is made straight after the commit (src/webhooks/dispatch.ts); only
// retries, and what one run cannot finish, go through the queue.

/** An event written straight to D1, unsent, as a write hands it on after its commit. */
async function committedEvent(org: TestOrg, data: Record<string, unknown> = { id: "user_x" }) {
  const id = await insertEvent(org, "member.added", data, { enqueued: false });
  const [row] = await drizzle(env.DB).select().from(events).where(eq(events.id, id));
  return row!;
}

async function countOf(sql: string, ...params: unknown[]): Promise<number> {
  return (await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>())!.n;
}

describe("webhooks: first attempt straight after the commit", { timeout: 30_000 }, () => {
  it("sends each matching webhook its first attempt and records deliveries, attempts and health", async () => {
    const org = await createOrg();
    const ok = receiverEndpoint("dispatch-ok");
    const flaky = receiverEndpoint("dispatch-flaky");
    const gone = receiverEndpoint("dispatch-gone");
    await scriptReceiver(flaky.name, [{ status: 500, body: "warming up" }]);
    await scriptReceiver(gone.name, [], { status: 410 });
    const okHook = await createWebhook(org, { url: ok.url, events: ["member.added"] });
    const flakyHook = await createWebhook(org, { url: flaky.url, events: ["member.added"] });
    const goneHook = await createWebhook(org, { url: gone.url, events: ["member.added"] });
    await addMember(org);

    const delivered = await settledDelivery(org, okHook.id, "succeeded");
    expect(delivered.attemptCount).toBe(1);
    const [sent] = await receivedBy(ok.name);
    expect(sent!.headers["x-verk-delivery"]).toBe(delivered.id);
    const event = await env.DB.prepare("SELECT enqueued_at FROM events WHERE id = ?")
      .bind(delivered.eventId)
      .first<{ enqueued_at: string | null }>();
    expect(event!.enqueued_at).not.toBeNull();

    // 410: failed at once, the webhook disabled; nothing retried.
    const ended = await settledDelivery(org, goneHook.id, "failed");
    expect(ended).toMatchObject({ attemptCount: 1, lastStatusCode: 410, nextAttemptAt: null });
    expect(await webhookOf(org, goneHook.id)).toMatchObject({ enabled: false, consecutiveFailures: 1 });
    expect((await webhookOf(org, goneHook.id)).disabledReason).toMatch(/410 Gone/);

    // 500: retried by a delayed queue message one schedule step (1 s) later, as attempt 2.
    const retried = await settledDelivery(org, flakyHook.id, "succeeded");
    const detail = await call<DeliveryDetail>("GET", `/v1/webhooks/${flakyHook.id}/deliveries/${retried.id}`, {
      key: org.keys.admin,
    });
    expect(detail.body.attempts.map((a) => a.statusCode)).toEqual([500, 200]);
    const [first] = detail.body.attempts;
    expect(Date.parse(first!.nextAttemptAt!) - Date.parse(first!.attemptedAt)).toBe(1000);
    expect(await webhookOf(org, flakyHook.id)).toMatchObject({ consecutiveFailures: 0, deliverySuccessRate: 1 });
    expect(await webhookOf(org, okHook.id)).toMatchObject({ consecutiveFailures: 0, deliverySuccessRate: 1 });
  });

  it("marks the events of an organization without webhooks sent in the write's own commit", async () => {
    const org = await createOrg();
    await addMember(org);
    // Visible as soon as the write answered, stamped with the event's own time: no step after the commit set it.
    const rows = await env.DB.prepare("SELECT created_at, enqueued_at FROM events WHERE org_id = ?")
      .bind(org.id)
      .all<{ created_at: string; enqueued_at: string | null }>();
    expect(rows.results.length).toBeGreaterThan(0);
    for (const row of rows.results) expect(row.enqueued_at).toBe(row.created_at);
  });

  it("records each (event, webhook) once: a repeated run sends the same delivery id and changes no record", async () => {
    const org = await createOrg();
    const endpoint = receiverEndpoint("dispatch-twice");
    const hook = await createWebhook(org, { url: endpoint.url, events: ["member.added"] });
    const event = await committedEvent(org);

    await dispatchCommitted(env as Env, [event]);
    await dispatchCommitted(env as Env, [event]);
    const requests = await receivedBy(endpoint.name);
    expect(requests).toHaveLength(2);
    expect(new Set(requests.map((r) => r.headers["x-verk-delivery"])).size).toBe(1);
    expect(await countOf("SELECT count(*) AS n FROM deliveries WHERE event_id = ?", event.id)).toBe(1);
    const [delivery] = await env.DB.prepare("SELECT id FROM deliveries WHERE event_id = ?")
      .bind(event.id)
      .all<{ id: string }>()
      .then((r) => r.results);
    expect(await attemptsOf(delivery!.id)).toHaveLength(1);
    const counters = await env.DB.prepare("SELECT delivered_count, failed_count FROM webhooks WHERE id = ?")
      .bind(hook.id)
      .first();
    expect(counters).toEqual({ delivered_count: 1, failed_count: 0 });
  });

  it("hands what it cannot send in time, or what reaches too many webhooks, to the queue", async () => {
    const org = await createOrg();
    const endpoint = receiverEndpoint("dispatch-later");
    const hook = await createWebhook(org, { url: endpoint.url, events: ["member.added"] });
    await createWebhook(org, { url: endpoint.url, events: ["member.added"] });

    // Out of time before the first POST: pending deliveries whose queue messages make attempt 1.
    const late = await committedEvent(org);
    await dispatchCommitted(env as Env, [late], { ...DISPATCH_LIMITS, budgetMs: 0 });
    const pending = await env.DB.prepare("SELECT id, status, attempt_count FROM deliveries WHERE event_id = ?")
      .bind(late.id)
      .all<{ id: string; status: string; attempt_count: number }>();
    expect(pending.results).toHaveLength(2);
    expect(pending.results.every((d) => d.status === "pending" && d.attempt_count === 0)).toBe(true);

    // Two webhooks, one pair allowed: the whole event goes out as an event message.
    const wide = await committedEvent(org, { id: "user_y" });
    await dispatchCommitted(env as Env, [wide], { ...DISPATCH_LIMITS, pairs: 1 });
    expect(await countOf("SELECT count(*) AS n FROM deliveries WHERE event_id = ?", wide.id)).toBe(0);

    await waitForRequests(endpoint.name, 4);
    for (const eventId of [late.id, wide.id]) {
      await waitFor(
        async () =>
          (await countOf(
            "SELECT count(*) AS n FROM deliveries WHERE event_id = ? AND status = 'succeeded' AND attempt_count = 1",
            eventId,
          )) === 2
            ? true
            : undefined,
        "both deliveries to succeed through the queue",
      );
    }
    expect(await webhookOf(org, hook.id)).toMatchObject({ deliverySuccessRate: 1 });
  });

  it("keeps sending to healthy webhooks while a slow one answers", async () => {
    const org = await createOrg();
    const slow = receiverEndpoint("dispatch-slow");
    const fast = receiverEndpoint("dispatch-fast");
    await scriptReceiver(slow.name, [], { status: 200, delayMs: 1500 });
    await createWebhook(org, { url: slow.url, events: ["member.added"] });
    await createWebhook(org, { url: fast.url, events: ["member.added"] });
    const batch = [await committedEvent(org), await committedEvent(org), await committedEvent(org)];

    // Two POSTs at once, one per webhook: the slow receiver holds one slot, never both.
    await dispatchCommitted(env as Env, batch, { ...DISPATCH_LIMITS, concurrency: 2, perWebhook: 1 });
    const slowFirst = (await receivedBy(slow.name))[0]!.receivedAt;
    const fastAll = await receivedBy(fast.name);
    expect(fastAll).toHaveLength(3);
    expect(Math.max(...fastAll.map((r) => r.receivedAt))).toBeLessThan(slowFirst + 1500);
  });

  it("disables a webhook that reaches the failure limit within one run, and retries none of its deliveries", async () => {
    const org = await createOrg();
    const endpoint = receiverEndpoint("dispatch-limit");
    await scriptReceiver(endpoint.name, [], { status: 500 });
    const hook = await createWebhook(org, { url: endpoint.url, events: ["member.added"] });
    const batch = [await committedEvent(org), await committedEvent(org)];

    await dispatchCommitted({ ...(env as Env), WEBHOOK_DISABLE_AFTER_FAILURES: "2" }, batch);
    expect(await receivedBy(endpoint.name)).toHaveLength(2);
    const after = await webhookOf(org, hook.id);
    expect(after).toMatchObject({ enabled: false, consecutiveFailures: 2, deliverySuccessRate: 0 });
    expect(after.disabledReason).toMatch(/after 2 consecutive failed attempts/);
    for (const event of batch) {
      const [row] = (
        await env.DB.prepare("SELECT id FROM deliveries WHERE event_id = ?").bind(event.id).all<{ id: string }>()
      ).results;
      expect(await deliveryRow(row!.id)).toMatchObject({ status: "failed", attempt_count: 1, next_attempt_at: null });
      expect((await attemptsOf(row!.id))[0]).toMatchObject({ status_code: 500, next_attempt_at: null });
    }
  });
});

describe("webhooks queue: a batch of delivery messages", { timeout: 30_000 }, () => {
  it("attempts every message of a batch, acking each by its own outcome, a repeated message once", async () => {
    const ok = await pendingDelivery("batch-one");
    const bad = await pendingDelivery("batch-two");
    await scriptReceiver(bad.endpoint.name, [{ status: 500 }]);
    const verdicts = await attemptDeliveries(env as Env, [
      { deliveryId: ok.deliveryId, attempts: 1 },
      { deliveryId: bad.deliveryId, attempts: 1 },
      { deliveryId: ok.deliveryId, attempts: 1 },
    ]);
    expect(verdicts).toEqual([{ ack: true }, { ack: false, delaySeconds: 1 }, { ack: true }]);
    expect(await receivedBy(ok.endpoint.name)).toHaveLength(1);
    expect(await deliveryRow(ok.deliveryId)).toMatchObject({ status: "succeeded", attempt_count: 1 });
    expect(await deliveryRow(bad.deliveryId)).toMatchObject({ status: "pending", attempt_count: 1 });
  });

  it("re-sends what it could not start in time as a copy that keeps its place in the retry schedule", async () => {
    const { endpoint, deliveryId } = await pendingDelivery("batch-deferred");
    await scriptReceiver(endpoint.name, [], { status: 500 });
    // The message's 2nd try, not started: acked, and a copy comes back DEFER_SECONDS later.
    const [verdict] = await attemptDeliveries(env as Env, [{ deliveryId, attempts: 2 }], Math.random, {
      ...BATCH_LIMITS,
      budgetMs: 0,
    });
    expect(verdict).toEqual({ ack: true });
    expect(await receivedBy(endpoint.name)).toHaveLength(0);
    await waitForRequests(endpoint.name, 1, 20_000);
    // The copy made the chain's 2nd attempt: its next one is the schedule's 2nd step (2 s), not the 1st.
    const [attempt] = await waitFor(
      async () => ((await attemptsOf(deliveryId)).length > 0 ? attemptsOf(deliveryId) : undefined),
      "the attempt to be recorded",
    );
    expect(Date.parse(attempt!.next_attempt_at!) - Date.parse(attempt!.attempted_at)).toBe(2000);
  });
});
