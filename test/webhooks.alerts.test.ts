import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { alertFailingWebhooks } from "../src/webhooks/alerts";
import type { Event, Page } from "./api-types";
import { call, createOrg, expectError, type TestOrg, type Webhook } from "./harness";
import {
  createWebhook,
  HOOK_URL,
  payloadOf,
  receivedBy,
  receiverEndpoint,
  scriptReceiver,
  waitFor,
  waitForRequests,
} from "./webhook-helpers";
import { deliver, deliveryRow, insertDelivery, insertEvent, runQueue } from "./webhook-queue";

// Failure alerts (README "Alerts"): webhook.disabled, webhook.failing and
// delivery.exhausted, written with the change they tell of and delivered like every
// event: to the organization's other subscribed webhooks, never to the one they are about.

const ALERTS = ["webhook.disabled", "webhook.failing", "delivery.exhausted"];

async function eventsOf(org: TestOrg, query: string): Promise<Event[]> {
  const res = await call<Page<Event>>("GET", `/v1/events?${query}`, { key: org.keys.read });
  expect(res.status).toBe(200);
  return res.body.data;
}

async function countRows(sql: string, ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>();
  return row!.n;
}

/**
 * An organization with a webhook whose receiver fails (502), subscribed to member.added
 * and to every alert (its own included, to prove it never gets those), a pending delivery
 * of a member.added event to it, and a second webhook on a healthy receiver that takes
 * the alerts.
 */
async function failingSetup(label: string) {
  const org = await createOrg();
  const down = receiverEndpoint(`${label}-down`);
  const watcher = receiverEndpoint(`${label}-watcher`);
  await scriptReceiver(down.name, [], { status: 502, body: "bad gateway" });
  const hook = await createWebhook(org, {
    url: down.url,
    events: ["member.added", ...ALERTS],
    description: "Orders",
  });
  const alerts = await createWebhook(org, { url: watcher.url, events: ALERTS });
  const eventId = await insertEvent(org, "member.added", { id: org.member.id, name: "Max Member" });
  const deliveryId = await insertDelivery(org, hook.id, eventId);
  return { org, down, watcher, hook, alerts, eventId, deliveryId };
}

describe("alerts: webhook.disabled", { timeout: 60_000 }, () => {
  it("an automatic disable tells the organization's other webhook, with the reason and the last error, never the webhook itself", async () => {
    const { org, down, watcher, hook, deliveryId } = await failingSetup("auto-disable");
    await env.DB.prepare("UPDATE webhooks SET consecutive_failures = 99 WHERE id = ?").bind(hook.id).run();

    await deliver(deliveryId, 1);

    const [request] = await waitForRequests(watcher.name, 1);
    const payload = payloadOf(request!);
    expect(payload.event).toBe("webhook.disabled");
    expect(payload.data).toMatchObject({
      webhook: { id: hook.id, origin: new URL(hook.url).origin, description: "Orders" },
      reason: "consecutive_failures",
      consecutiveFailures: 100,
      lastError: { statusCode: 502, error: "HTTP 502: bad gateway" },
    });
    expect(request!.body).not.toContain(hook.secret);
    // Of the URL only its origin: the path (where tokens live) is neither sent nor logged.
    expect(request!.body).not.toContain(new URL(hook.url).pathname);
    const [inLog] = await eventsOf(org, `type=webhook.disabled&resourceId=${hook.id}`);
    expect(JSON.stringify(inLog)).not.toContain(new URL(hook.url).pathname);
    expect(payload.actor).toEqual({ userId: null, apiKeyId: null });

    // The webhook it is about got the one failed attempt and nothing of its own alert.
    expect(await receivedBy(down.name)).toHaveLength(1);
    expect(
      await countRows(
        "SELECT count(*) AS n FROM deliveries WHERE webhook_id = ? AND event_type IN ('webhook.disabled')",
        hook.id,
      ),
    ).toBe(0);

    // The event log lists it, by type, resource type and resource; another organization sees nothing.
    const [logged] = await eventsOf(org, "type=webhook.disabled");
    expect(logged).toMatchObject({
      type: "webhook.disabled",
      resourceType: "webhook",
      resourceId: hook.id,
      actor: { userId: null, apiKeyId: null },
    });
    expect((await eventsOf(org, `resourceType=webhook&resourceId=${hook.id}`)).map((e) => e.id)).toEqual([logged!.id]);
    const other = await createOrg();
    expect(await eventsOf(other, "type=webhook.disabled")).toEqual([]);
    expect(await eventsOf(other, "resourceType=webhook")).toEqual([]);
    expect((await call("GET", `/v1/events/${logged!.id}`, { key: other.keys.read })).status).toBe(404);
  });

  it("a first attempt made straight after the write that disables the webhook tells too", async () => {
    const { org, down, watcher, hook } = await failingSetup("dispatch-disable");
    await env.DB.prepare("UPDATE webhooks SET consecutive_failures = 99 WHERE id = ?").bind(hook.id).run();
    // member.added: dispatched to the failing webhook straight after the response.
    const res = await call("POST", "/v1/users", {
      key: org.keys.admin,
      body: { name: "Dee", email: `dee-${crypto.randomUUID()}@example.com` },
    });
    expect(res.status).toBe(201);
    const [request] = await waitForRequests(watcher.name, 1);
    expect(payloadOf(request!)).toMatchObject({
      event: "webhook.disabled",
      data: {
        webhook: { id: hook.id },
        reason: "consecutive_failures",
        consecutiveFailures: 100,
        lastError: { statusCode: 502 },
      },
    });
    expect(await receivedBy(down.name)).toHaveLength(1);
    expect(await eventsOf(org, "type=webhook.disabled")).toHaveLength(1);
  });

  it("a 410 Gone disables with reason gone; a manual disable with reason manual and its actor; once each", async () => {
    const { org, down, watcher, hook, deliveryId } = await failingSetup("gone");
    await scriptReceiver(down.name, [{ status: 410, body: "unsubscribed" }]);
    await deliver(deliveryId, 1);
    const [gone] = await waitForRequests(watcher.name, 1);
    expect(payloadOf(gone!).data).toMatchObject({ reason: "gone", lastError: { statusCode: 410 } });

    // A second webhook disabled by hand: the actor is the key that did it.
    const other = await createWebhook(org, { url: receiverEndpoint("manual").url, events: ["task.created"] });
    const res = await call("PATCH", `/v1/webhooks/${other.id}`, { key: org.keys.admin, body: { enabled: false } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ enabled: false });
    const received = await waitForRequests(watcher.name, 2);
    const manual = payloadOf(received[1]!);
    expect(manual.event).toBe("webhook.disabled");
    expect(manual.data).toMatchObject({
      webhook: { id: other.id, origin: new URL(other.url).origin },
      reason: "manual",
      lastError: null,
    });
    expect(manual.actor).toMatchObject({ userId: org.owner.id, apiKeyId: org.keyIds.admin });

    // Disabling what is already disabled writes nothing more.
    await call("PATCH", `/v1/webhooks/${other.id}`, { key: org.keys.admin, body: { enabled: false } });
    const logged = await eventsOf(org, "type=webhook.disabled");
    expect(logged.map((e) => [e.resourceId, (e.data as { reason: string }).reason]).sort()).toEqual(
      [
        [hook.id, "gone"],
        [other.id, "manual"],
      ].sort(),
    );
    expect((await eventsOf(org, `type=webhook.disabled&actorId=${org.keyIds.admin}`)).map((e) => e.resourceId)).toEqual(
      [other.id],
    );
  });
});

describe("alerts: delivery.exhausted", { timeout: 60_000 }, () => {
  it("the chain's last failed attempt ends the delivery failed and tells the other webhook", async () => {
    const { org, watcher, hook, eventId, deliveryId } = await failingSetup("exhausted");
    // EVENTS_QUEUE_MAX_RETRIES is 6: the 7th attempt of a chain is its last.
    const { result } = await deliver(deliveryId, 7);
    expect(result.retryMessages).toEqual([]);
    expect(await deliveryRow(deliveryId)).toMatchObject({ status: "failed" });

    const [request] = await waitForRequests(watcher.name, 1);
    const payload = payloadOf(request!);
    expect(payload.event).toBe("delivery.exhausted");
    expect(payload.data).toMatchObject({
      id: deliveryId,
      webhook: { id: hook.id, origin: new URL(hook.url).origin },
      event: { id: eventId, type: "member.added" },
      attempts: 1,
      lastError: { statusCode: 502 },
    });
    const [logged] = await eventsOf(org, "resourceType=delivery");
    expect(logged).toMatchObject({ type: "delivery.exhausted", resourceId: deliveryId });
  });

  it("a delivery the dead-letter queue gets is exhausted too, once", async () => {
    const { org, watcher, deliveryId } = await failingSetup("dlq");
    await runQueue("verk-events-dlq", [{ kind: "delivery", deliveryId }], 21);
    await runQueue("verk-events-dlq", [{ kind: "delivery", deliveryId }], 21);
    expect(await deliveryRow(deliveryId)).toMatchObject({ status: "failed" });
    const [request] = await waitForRequests(watcher.name, 1);
    expect(payloadOf(request!)).toMatchObject({ event: "delivery.exhausted", data: { id: deliveryId, attempts: 0 } });
    expect(await eventsOf(org, "type=delivery.exhausted")).toHaveLength(1);
  });
});

describe("alerts: no loops", { timeout: 90_000 }, () => {
  it("two webhooks taking each other's alerts, both down, hear once and stop", async () => {
    const org = await createOrg();
    const a = receiverEndpoint("loop-a");
    const b = receiverEndpoint("loop-b");
    for (const endpoint of [a, b]) await scriptReceiver(endpoint.name, [], { status: 503, body: "down" });
    const hookA = await createWebhook(org, { url: a.url, events: ["member.added", ...ALERTS] });
    const hookB = await createWebhook(org, { url: b.url, events: ["*"] });
    await env.DB.prepare("UPDATE webhooks SET consecutive_failures = 99 WHERE id IN (?, ?)")
      .bind(hookA.id, hookB.id)
      .run();
    const eventId = await insertEvent(org, "member.added", { id: org.member.id, name: "Max Member" });
    const deliveryId = await insertDelivery(org, hookA.id, eventId);

    // A's last attempt fails: A is disabled and the delivery exhausted, two alerts for B.
    await deliver(deliveryId, 7);
    // B fails both through its whole retry chain (WEBHOOK_RETRY_SCHEDULE 1,2,3 s).
    await waitFor(
      async () => {
        const n = await countRows(
          "SELECT count(*) AS n FROM deliveries WHERE webhook_id = ? AND status = 'failed' AND event_type != 'member.added'",
          hookB.id,
        );
        return n === 2 ? n : undefined;
      },
      "B's two alert deliveries to end failed",
      60_000,
    );
    expect(await receivedBy(b.name)).toHaveLength(14);

    // B's failures of alert deliveries neither disabled it nor counted; nothing more was written or sent.
    const b2 = await env.DB.prepare("SELECT enabled, consecutive_failures FROM webhooks WHERE id = ?")
      .bind(hookB.id)
      .first();
    expect(b2).toEqual({ enabled: 1, consecutive_failures: 99 });
    const operational = await eventsOf(org, "resourceType=webhook");
    expect(operational.map((e) => [e.type, e.resourceId])).toEqual([["webhook.disabled", hookA.id]]);
    expect((await eventsOf(org, "resourceType=delivery")).map((e) => e.resourceId)).toEqual([deliveryId]);
    expect(await receivedBy(a.name)).toHaveLength(1);
  });
});

const HOUR = 3_600_000;

/**
 * `n` attempts of `webhookId` at `at` (ms), `ok` of them 2xx, of deliveries of `eventType`.
 * Sent attempts carry the headers they were sent with; `sent: false` writes what a
 * delivery to a disabled webhook records instead ("Not sent", no headers, no status).
 */
async function attempts(
  org: TestOrg,
  webhookId: string,
  at: number,
  n: number,
  ok: number,
  eventType = "task.created",
  sent = true,
) {
  const deliveryId = await insertDelivery(org, webhookId, `evt_${crypto.randomUUID()}`, "failed");
  await env.DB.prepare("UPDATE deliveries SET event_type = ? WHERE id = ?").bind(eventType, deliveryId).run();
  const statements = Array.from({ length: n }, (_, i) =>
    env.DB.prepare(
      `INSERT INTO delivery_attempts
         (id, delivery_id, webhook_id, attempt_number, attempted_at, status_code, error, request_headers)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).bind(
      `att_${crypto.randomUUID()}`,
      deliveryId,
      webhookId,
      i + 1,
      new Date(at + i).toISOString(),
      sent ? (i < ok ? 200 : 500) : null,
      sent ? (i < ok ? null : "HTTP 500") : "Not sent: the webhook is disabled",
      sent ? JSON.stringify({ "Content-Type": "application/json" }) : null,
    ),
  );
  await env.DB.batch(statements);
}

describe("alerts: webhook.failing", { timeout: 60_000 }, () => {
  it("fires under the threshold with enough attempts, not above it nor on few, at most once an hour", async () => {
    const org = await createOrg();
    const watcher = receiverEndpoint("failing-watcher");
    const hook = (label: string) => createWebhook(org, { url: receiverEndpoint(label).url, events: ["*"] });
    const [failing, healthy, few] = await Promise.all([hook("failing"), hook("healthy"), hook("few")]);
    // Thresholds of their own: 70% (60% is under it), and 0 (never alerted).
    const strict = await createWebhook(org, {
      url: receiverEndpoint("strict").url,
      events: ["task.created"],
      failureAlertThreshold: 0.7,
    });
    const quiet = await createWebhook(org, {
      url: receiverEndpoint("quiet").url,
      events: ["task.created"],
      failureAlertThreshold: 0,
    });
    expect([strict.failureAlertThreshold, quiet.failureAlertThreshold, failing.failureAlertThreshold]).toEqual([
      0.7,
      0,
      null,
    ]);
    await createWebhook(org, { url: watcher.url, events: ["webhook.failing"] });
    // A clock of its own, hours ahead, so other tests' attempts are outside its windows.
    const t0 = Date.now() + 1000 * HOUR;
    await attempts(org, failing.id, t0 - 30 * 60_000, 10, 3); // 30%: under 50%
    await attempts(org, healthy.id, t0 - 30 * 60_000, 10, 6); // 60%
    await attempts(org, few.id, t0 - 30 * 60_000, 9, 0); // 0%, but 9 attempts
    // Alert deliveries are left out: 20 failed ones would make "few" count.
    await attempts(org, few.id, t0 - 30 * 60_000, 20, 0, "webhook.disabled");
    await attempts(org, healthy.id, t0 - 2 * HOUR, 30, 0); // outside the window
    await attempts(org, strict.id, t0 - 30 * 60_000, 10, 6); // 60%: under its 70%
    await attempts(org, quiet.id, t0 - 30 * 60_000, 10, 0); // 0%, alerts off
    // Deliveries recorded while the webhook was paused were never sent: they are not
    // failures of its endpoint, so 12 of them beside 10 successes are still 100%.
    const paused = await hook("paused");
    await attempts(org, paused.id, t0 - 30 * 60_000, 12, 0, "task.created", false);
    await attempts(org, paused.id, t0 - 20 * 60_000, 10, 10);

    // Two overlapping cron runs: one alert per failing webhook.
    const runs = await Promise.all([alertFailingWebhooks(env, t0), alertFailingWebhooks(env, t0)]);
    expect(runs.flat()).toHaveLength(2);
    const received = await waitForRequests(watcher.name, 2);
    const about = (id: string) =>
      received.map(payloadOf).find((p) => (p.data as { webhook: { id: string } }).webhook.id === id);
    expect(about(strict.id)).toMatchObject({ data: { successRate: 0.6, threshold: 0.7 } });
    const payload = about(failing.id)!;
    expect(payload).toMatchObject({
      event: "webhook.failing",
      data: {
        webhook: { id: failing.id, origin: new URL(failing.url).origin },
        successRate: 0.3,
        attempts: 10,
        failures: 7,
        threshold: 0.5,
        windowStart: new Date(t0 - HOUR).toISOString(),
        windowEnd: new Date(t0).toISOString(),
      },
    });

    // Still failing 10 minutes later: no second alert within the hour.
    await attempts(org, failing.id, t0 + 5 * 60_000, 10, 0);
    expect(await alertFailingWebhooks(env, t0 + 10 * 60_000)).toEqual([]);
    // An hour after the first: again.
    await attempts(org, failing.id, t0 + 50 * 60_000, 10, 0);
    const again = await alertFailingWebhooks(env, t0 + HOUR);
    expect(again).toHaveLength(1);
    await waitForRequests(watcher.name, 3);

    const logged = await eventsOf(org, `type=webhook.failing&resourceId=${failing.id}`);
    expect(logged.map((e) => [e.resourceType, e.resourceId])).toEqual([
      ["webhook", failing.id],
      ["webhook", failing.id],
    ]);
    expect((await eventsOf(org, "type=webhook.failing")).map((e) => e.resourceId).sort()).toEqual(
      [failing.id, failing.id, strict.id].sort(),
    );
    // The failing webhook ("*") is sent the other webhook's alert, nothing about itself.
    const aboutWhom = await env.DB.prepare(
      `SELECT e.resource_id AS about FROM deliveries d JOIN events e ON e.id = d.event_id
       WHERE d.webhook_id = ? AND d.event_type = 'webhook.failing'`,
    )
      .bind(failing.id)
      .all<{ about: string }>();
    expect(aboutWhom.results.map((r) => r.about)).toEqual([strict.id]);
    expect(await eventsOf(await createOrg(), "type=webhook.failing")).toEqual([]);
  });
});

describe("alerts: the failure alert threshold", () => {
  it("is a fraction from 0 to 1 or null; anything else is a 400 naming the field and changes nothing", async () => {
    const org = await createOrg();
    const hook = await createWebhook(org, { url: receiverEndpoint("threshold").url, events: ["task.created"] });
    for (const bad of [1.5, -0.1, "half", true]) {
      const patch = await call("PATCH", `/v1/webhooks/${hook.id}`, {
        key: org.keys.admin,
        body: { failureAlertThreshold: bad },
      });
      expectError(patch, 400, "VALIDATION_ERROR", "failureAlertThreshold");
      const create = await call("POST", "/v1/webhooks", {
        key: org.keys.admin,
        body: { url: HOOK_URL, events: ["task.created"], failureAlertThreshold: bad },
      });
      expectError(create, 400, "VALIDATION_ERROR", "failureAlertThreshold");
    }
    expect((await call<Webhook>("GET", `/v1/webhooks/${hook.id}`, { key: org.keys.admin })).body).toMatchObject({
      failureAlertThreshold: null,
    });
    const set = await call<Webhook>("PATCH", `/v1/webhooks/${hook.id}`, {
      key: org.keys.admin,
      body: { failureAlertThreshold: 0.25 },
    });
    expect(set.body.failureAlertThreshold).toBe(0.25);
    const cleared = await call<Webhook>("PATCH", `/v1/webhooks/${hook.id}`, {
      key: org.keys.admin,
      body: { failureAlertThreshold: null },
    });
    expect(cleared.body.failureAlertThreshold).toBeNull();
  });
});
