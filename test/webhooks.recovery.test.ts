import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import type { Env } from "../src/env";
import { enqueueEvents } from "../src/events/outbox";
import { sweepUnsentEvents } from "../src/events/sweep";
import { keyRecordsOf } from "../src/identity/key-cache";
import { addUser } from "../src/identity/users";
import worker from "../src/index";
import { resendStalledDeliveries } from "../src/webhooks/stalled";
import type { Delivery, Page } from "./api-types";
import { call, createOrg, errorOf } from "./harness";
import { createWebhook, receivedBy, receiverEndpoint, waitFor, waitForRequests } from "./webhook-helpers";
import { deliveryRow, insertEvent, pendingDelivery, runQueue, webhookOf } from "./webhook-queue";

// Nothing is lost for good: dead letters end failed (and stay redeliverable), events whose
// queue send failed are swept, and deliveries whose message was lost are re-sent.
// The consumer called directly with built batches (test/webhook-queue.ts): events and
// deliveries written straight to D1, never enqueued, so the local queue's own consumer leaves them alone.

describe("webhooks queue: dead letters", { timeout: 30_000 }, () => {
  it("marks an exhausted delivery failed, which stays redeliverable", async () => {
    const { org, endpoint, hook, deliveryId } = await pendingDelivery("dead");
    await env.DB.prepare("UPDATE deliveries SET next_attempt_at = '2030-01-01T00:00:00.000Z' WHERE id = ?")
      .bind(deliveryId)
      .run();
    const { result, ids } = await runQueue("verk-events-dlq", [{ kind: "delivery", deliveryId }]);
    expect(result.explicitAcks).toEqual(ids);
    expect(await deliveryRow(deliveryId)).toMatchObject({ status: "failed", next_attempt_at: null });
    expect(await webhookOf(org, hook.id)).toMatchObject({ deliverySuccessRate: 0 });
    // A second dead letter of the same delivery changes nothing (counted once).
    await runQueue("verk-events-dlq", [{ kind: "delivery", deliveryId }]);
    const failedOnly = await call<Page<Delivery>>("GET", `/v1/webhooks/${hook.id}/deliveries?status=failed`, {
      key: org.keys.admin,
    });
    expect(failedOnly.body.data.map((d) => d.id)).toEqual([deliveryId]);

    const redelivered = await call("POST", `/v1/webhooks/${hook.id}/deliveries/${deliveryId}/redeliver`, {
      key: org.keys.admin,
    });
    expect(redelivered.status).toBe(202);
    await waitForRequests(endpoint.name, 1);
    await waitFor(async () => ((await deliveryRow(deliveryId))?.status === "succeeded" ? true : undefined), "success");
    expect(await webhookOf(org, hook.id)).toMatchObject({ deliverySuccessRate: 1 });
  });

  it("refuses to redeliver a delivery that is still pending", async () => {
    const { org, hook, deliveryId } = await pendingDelivery("still-pending");
    const res = await call("POST", `/v1/webhooks/${hook.id}/deliveries/${deliveryId}/redeliver`, {
      key: org.keys.admin,
    });
    expect(res.status).toBe(409);
    expect(errorOf(res).code).toBe("CONFLICT");
    expect(await deliveryRow(deliveryId)).toMatchObject({ status: "pending", attempt_count: 0 });
  });

  it("refuses to redeliver through a disabled webhook", async () => {
    const { org, hook, deliveryId } = await pendingDelivery("dead-disabled");
    await call("PATCH", `/v1/webhooks/${hook.id}`, { key: org.keys.admin, body: { enabled: false } });
    const res = await call("POST", `/v1/webhooks/${hook.id}/deliveries/${deliveryId}/redeliver`, {
      key: org.keys.admin,
    });
    expect(res.status).toBe(409);
    expect(errorOf(res).code).toBe("CONFLICT");
  });

  it("hands a dead-lettered event back to the outbox for the sweep", async () => {
    const org = await createOrg();
    const eventId = await insertEvent(org, "member.added", { id: "user_d" });
    const { result, ids } = await runQueue("verk-events-dlq", [{ kind: "event", eventId }]);
    expect(result.explicitAcks).toEqual(ids);
    const row = await env.DB.prepare("SELECT enqueued_at FROM events WHERE id = ?")
      .bind(eventId)
      .first<{ enqueued_at: string | null }>();
    expect(row!.enqueued_at).toBeNull();
  });
});

describe("webhooks queue: no lost events", { timeout: 30_000 }, () => {
  it("re-sends an event whose queue send failed after the commit, and it is delivered", async () => {
    const org = await createOrg();
    const endpoint = receiverEndpoint("sweep");
    await createWebhook(org, { url: endpoint.url, events: ["member.added"] });

    // The committed change's queue send fails (silently, as in waitUntil).
    const failingQueue = {
      ...env,
      EVENTS_QUEUE: {
        send: () => Promise.reject(new Error("queue unavailable")),
        sendBatch: () => Promise.reject(new Error("queue unavailable")),
      },
    } as unknown as Env;
    let sent: Promise<void> = Promise.resolve();
    const member = await addUser(
      {
        db: drizzle(env.DB),
        orgId: org.id,
        actor: { userId: org.owner.id, apiKeyId: org.keyIds.admin },
        keys: keyRecordsOf(env),
        now: () => new Date().toISOString(),
        afterCommit: (rows) => {
          sent = enqueueEvents(failingQueue, rows);
        },
      },
      { name: "Lost Not", email: `lost-${crypto.randomUUID()}@example.com`, role: "member" },
    );
    await sent;
    const row = await env.DB.prepare("SELECT id, enqueued_at FROM events WHERE resource_id = ?")
      .bind(member.id)
      .first<{ id: string; enqueued_at: string | null }>();
    expect(row!.enqueued_at).toBeNull();

    // Too young for the sweep (30 s), then old enough.
    expect(await sweepUnsentEvents(env as Env)).toBe(0);
    expect(await sweepUnsentEvents(env as Env, Date.now() + 31_000)).toBeGreaterThanOrEqual(1);
    const swept = await env.DB.prepare("SELECT enqueued_at FROM events WHERE id = ?")
      .bind(row!.id)
      .first<{ enqueued_at: string | null }>();
    expect(swept!.enqueued_at).not.toBeNull();

    const [request] = await waitForRequests(endpoint.name, 1);
    expect(JSON.parse(request!.body)).toMatchObject({ id: row!.id, event: "member.added", data: { id: member.id } });
  });

  it("runs the sweep from the cron trigger", async () => {
    const org = await createOrg();
    const endpoint = receiverEndpoint("cron");
    const hook = await createWebhook(org, { url: endpoint.url, events: ["member.added"] });
    const twoMinutesAgo = new Date(Date.now() - 120_000).toISOString();
    await env.DB.prepare("UPDATE webhooks SET created_at = ? WHERE id = ?")
      .bind(new Date(Date.now() - 180_000).toISOString(), hook.id)
      .run();
    const eventId = await insertEvent(
      org,
      "member.added",
      { id: "user_cron" },
      { createdAt: twoMinutesAgo, enqueued: false },
    );

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), env as Env, ctx);
    await waitOnExecutionContext(ctx);
    const row = await env.DB.prepare("SELECT enqueued_at FROM events WHERE id = ?")
      .bind(eventId)
      .first<{ enqueued_at: string | null }>();
    expect(row!.enqueued_at).not.toBeNull();
    // (The organization's own recent events reach the back-dated webhook too.)
    await waitFor(async () => {
      const requests = await receivedBy(endpoint.name);
      return requests.find((r) => JSON.parse(r.body).id === eventId);
    }, "the swept event's delivery");
  });
});

describe("webhooks: stalled deliveries", { timeout: 30_000 }, () => {
  it("re-sends a pending delivery whose queue message was lost, and it is delivered", async () => {
    const { org, endpoint, hook, deliveryId } = await pendingDelivery("stalled");
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000).toISOString();
    await env.DB.prepare("UPDATE deliveries SET created_at = ?, updated_at = ? WHERE id = ?")
      .bind(twoHoursAgo, twoHoursAgo, deliveryId)
      .run();
    // A fresh pending delivery (its message may still be on the way) is left alone.
    const fresh = await pendingDelivery("not-stalled");

    // (Other tests of this file leave old pending rows too.)
    expect(await resendStalledDeliveries(env as Env)).toBeGreaterThanOrEqual(1);
    await waitForRequests(endpoint.name, 1);
    await waitFor(async () => ((await deliveryRow(deliveryId))?.status === "succeeded" ? true : undefined), "success");
    expect(await webhookOf(org, hook.id)).toMatchObject({ deliverySuccessRate: 1 });
    expect((await deliveryRow(fresh.deliveryId))?.status).toBe("pending");
    expect(await resendStalledDeliveries(env as Env)).toBe(0);
  });
});
