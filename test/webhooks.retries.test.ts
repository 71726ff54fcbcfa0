import { describe, expect, it } from "vitest";
import { parseRetryAfter, retryDelaySeconds } from "../src/webhooks/deliver";
import type { DeliveryDetail, Webhook } from "./api-types";
import { call, createOrg } from "./harness";
import {
  addMember,
  createWebhook,
  receivedBy,
  receiverEndpoint,
  scriptReceiver,
  settledDelivery,
  verifyInNode,
  waitFor,
  waitForRequests,
} from "./webhook-helpers";
import {
  attemptsOf,
  deliver,
  deliveryRow,
  insertDelivery,
  insertEvent,
  pendingDelivery,
  runQueue,
  webhookOf,
} from "./webhook-queue";

// Real deliveries: the API commits an event, the local queue runs the Worker's own
// consumer, which POSTs to a Node HTTP server on 127.0.0.1 (test/webhook-receiver.setup.mjs).

// Each event crosses the local queue twice (fan-out, then delivery), ~1 s batch wait each.
describe("webhooks: real signed deliveries", { timeout: 40_000 }, () => {
  it("retries a failing receiver on the schedule with one delivery id and one body, and logs each attempt", async () => {
    const org = await createOrg();
    const { name, url } = receiverEndpoint("flaky");
    await scriptReceiver(name, [
      { status: 500, body: "database down" },
      { status: 503, body: "still down" },
    ]);
    const hook = await createWebhook(org, { url, events: ["member.added"] });
    await addMember(org);

    // Schedule "1,2,3" (vitest.config.ts): attempt 2 after ~1 s, attempt 3 after ~2 s more.
    const requests = await waitForRequests(name, 3, 30_000);
    expect(new Set(requests.map((r) => r.headers["x-verk-delivery"])).size).toBe(1);
    expect(new Set(requests.map((r) => r.body)).size).toBe(1);
    for (const r of requests)
      expect(await verifyInNode(r.body, r.headers, hook.secret)).toEqual({ seed: true, standard: true });
    const gaps = [requests[1]!.receivedAt - requests[0]!.receivedAt, requests[2]!.receivedAt - requests[1]!.receivedAt];
    expect(gaps[0]).toBeGreaterThanOrEqual(800);
    expect(gaps[1]).toBeGreaterThanOrEqual(1700);

    const delivery = await settledDelivery(org, hook.id, "succeeded");
    const detail = await call<DeliveryDetail>("GET", `/v1/webhooks/${hook.id}/deliveries/${delivery.id}`, {
      key: org.keys.admin,
    });
    expect(detail.body.attemptCount).toBe(3);
    expect(detail.body.attempts.map((a) => a.statusCode)).toEqual([500, 503, 200]);
    expect(detail.body.attempts[0]!.error).toBe("HTTP 500: database down");
    expect(detail.body.attempts[1]!.error).toBe("HTTP 503: still down");
    expect(detail.body.attempts[2]!.error).toBeNull();
    const [first, second, third] = detail.body.attempts;
    expect(Date.parse(first!.nextAttemptAt!) - Date.parse(first!.attemptedAt)).toBe(1000);
    expect(Date.parse(second!.nextAttemptAt!) - Date.parse(second!.attemptedAt)).toBe(2000);
    expect(third!.nextAttemptAt).toBeNull();
    const after = await call<Webhook>("GET", `/v1/webhooks/${hook.id}`, { key: org.keys.admin });
    expect(after.body).toMatchObject({ consecutiveFailures: 0, deliverySuccessRate: 1 });
  });

  it("redelivers a delivery on request, with the same id and body", async () => {
    const org = await createOrg();
    const { name, url } = receiverEndpoint("redeliver");
    const hook = await createWebhook(org, { url, events: ["member.added"] });
    await addMember(org);
    const [original] = await waitForRequests(name, 1);
    const delivery = await settledDelivery(org, hook.id, "succeeded");

    const res = await call("POST", `/v1/webhooks/${hook.id}/deliveries/${delivery.id}/redeliver`, {
      key: org.keys.admin,
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ id: delivery.id, status: "pending" });
    const requests = await waitForRequests(name, 2);
    expect(requests[1]!.headers["x-verk-delivery"]).toBe(delivery.id);
    expect(requests[1]!.body).toBe(original!.body);
    await waitFor(async () => {
      const detail = await call<DeliveryDetail>("GET", `/v1/webhooks/${hook.id}/deliveries/${delivery.id}`, {
        key: org.keys.admin,
      });
      return detail.body.status === "succeeded" && detail.body.attemptCount === 2 ? detail : undefined;
    }, "the redelivery to settle");
    const after = await call<Webhook>("GET", `/v1/webhooks/${hook.id}`, { key: org.keys.admin });
    expect(after.body.deliverySuccessRate).toBe(1);
  });
});

// The consumer called directly with built batches (test/webhook-queue.ts): events and
// deliveries written straight to D1, never enqueued, so the local queue's own consumer leaves them alone.

describe("webhooks queue: delivery attempts", { timeout: 30_000 }, () => {
  it("retries failures on the schedule, its last step repeated, and ends the delivery failed after the last retry", async () => {
    const { org, endpoint, hook, deliveryId } = await pendingDelivery("schedule");
    await scriptReceiver(endpoint.name, [], { status: 500, body: "nope" });

    // Schedule "1,2,3" (vitest.config.ts), ±10% jitter rounds away at this size.
    const delays: (number | undefined)[] = [];
    for (let attempt = 1; attempt <= 6; attempt += 1) {
      const { result } = await deliver(deliveryId, attempt);
      expect(result.explicitAcks).toEqual([]);
      expect(result.retryMessages).toHaveLength(1);
      delays.push(result.retryMessages[0]!.delaySeconds);
    }
    expect(delays).toEqual([1, 2, 3, 3, 3, 3]);
    // The 7th attempt is the last (max_retries 6): it fails, and the delivery ends failed at once.
    const { result: last, ids } = await deliver(deliveryId, 7);
    expect(last.explicitAcks).toEqual(ids);
    expect(last.retryMessages).toEqual([]);
    expect(await receivedBy(endpoint.name)).toHaveLength(7);

    const attempts = await attemptsOf(deliveryId);
    expect(attempts.map((a) => a.attempt_number)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(attempts.every((a) => a.status_code === 500 && a.error === "HTTP 500: nope")).toBe(true);
    const gaps = attempts.map((a) =>
      a.next_attempt_at ? Date.parse(a.next_attempt_at) - Date.parse(a.attempted_at) : null,
    );
    expect(gaps).toEqual([1000, 2000, 3000, 3000, 3000, 3000, null]);
    expect(await deliveryRow(deliveryId)).toMatchObject({
      status: "failed",
      attempt_count: 7,
      last_status_code: 500,
      next_attempt_at: null,
    });
    expect(await webhookOf(org, hook.id)).toMatchObject({
      consecutiveFailures: 7,
      enabled: true,
      deliverySuccessRate: 0,
    });
  });

  it("continues the schedule of a chain whose first attempt was made before its message", async () => {
    const { endpoint, deliveryId } = await pendingDelivery("after");
    await scriptReceiver(endpoint.name, [], { status: 500, body: "nope" });
    // `after: 1`: the first attempt was made straight after the commit; this message makes the second.
    const second = await runQueue("verk-events", [{ kind: "delivery", deliveryId, after: 1 }], 1);
    expect(second.result.retryMessages.map((m) => m.delaySeconds)).toEqual([2]);
    // Its 6th try is the chain's 7th attempt, the last one.
    const last = await runQueue("verk-events", [{ kind: "delivery", deliveryId, after: 1 }], 6);
    expect(last.result.explicitAcks).toEqual(last.ids);
    expect(await deliveryRow(deliveryId)).toMatchObject({ status: "failed", next_attempt_at: null });
  });

  it("honours Retry-After on 429, in seconds or as a date, capped at 12 hours", async () => {
    const { endpoint, deliveryId } = await pendingDelivery("retry-after");
    const inTwentySeconds = new Date(Date.now() + 20_000).toUTCString();
    await scriptReceiver(endpoint.name, [
      { status: 429, headers: { "Retry-After": "7" } },
      { status: 429, headers: { "Retry-After": inTwentySeconds } },
      { status: 429, headers: { "Retry-After": "999999" } },
      { status: 429 },
    ]);
    const delays: (number | undefined)[] = [];
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      delays.push((await deliver(deliveryId, attempt)).result.retryMessages[0]?.delaySeconds);
    }
    expect(delays[0]).toBe(7);
    expect(delays[1]).toBeGreaterThanOrEqual(18);
    expect(delays[1]).toBeLessThanOrEqual(21);
    expect(delays[2]).toBe(43_200);
    // Without Retry-After, the schedule (step 4 → the last, 3 s).
    expect(delays[3]).toBe(3);
  });

  it("counts network errors, timeouts and redirects as failures to retry", async () => {
    const org = await createOrg();
    const eventId = await insertEvent(org, "member.added", { id: "user_n" });
    const unreachable = await createWebhook(org, { url: "http://127.0.0.1:1/closed", events: ["*"] });
    const slow = receiverEndpoint("slow");
    const slowHook = await createWebhook(org, { url: slow.url, events: ["*"] });
    await scriptReceiver(slow.name, [{ status: 200, delayMs: 3000 }]);
    const moved = receiverEndpoint("moved");
    const movedHook = await createWebhook(org, { url: moved.url, events: ["*"] });
    await scriptReceiver(moved.name, [{ status: 301, headers: { Location: "https://elsewhere.example.com/" } }]);

    const cases: [string, RegExp][] = [
      [unreachable.id, /^Request failed: /],
      [slowHook.id, /^Timed out after 2000 ms$/],
      [movedHook.id, /^Redirect \(HTTP 301\) not followed to https:\/\/elsewhere\.example\.com\//],
    ];
    for (const [webhookId, error] of cases) {
      const deliveryId = await insertDelivery(org, webhookId, eventId);
      const { result } = await deliver(deliveryId);
      expect(result.retryMessages).toHaveLength(1);
      const [attempt] = await attemptsOf(deliveryId);
      expect(attempt!.error).toMatch(error);
    }
    // The redirect target was never requested.
    expect(await receivedBy(moved.name)).toHaveLength(1);
  });

  it("processes a batch's messages independently", async () => {
    const ok = await pendingDelivery("batch-ok");
    const bad = await pendingDelivery("batch-bad");
    await scriptReceiver(bad.endpoint.name, [{ status: 500 }]);
    const { result, ids } = await runQueue("verk-events", [
      { kind: "delivery", deliveryId: ok.deliveryId },
      { kind: "delivery", deliveryId: bad.deliveryId },
      { kind: "nonsense" } as never,
    ]);
    expect(result.explicitAcks.sort()).toEqual([ids[0], ids[2]].sort());
    expect(result.retryMessages.map((m) => m.msgId)).toEqual([ids[1]]);
  });
});

describe("webhooks queue: delay arithmetic", () => {
  it("jitters schedule steps by ±10% and repeats the last step", () => {
    const schedule = [60, 300, 900, 3600, 10800, 21600];
    expect(retryDelaySeconds(schedule, 1, () => 0)).toBe(54);
    expect(retryDelaySeconds(schedule, 1, () => 0.5)).toBe(60);
    expect(retryDelaySeconds(schedule, 1, () => 0.999999)).toBe(66);
    expect(retryDelaySeconds(schedule, 6, () => 0.5)).toBe(21600);
    expect(retryDelaySeconds(schedule, 9, () => 0.5)).toBe(21600);
    expect(retryDelaySeconds([43200], 1, () => 0.999)).toBe(43200);
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("120", now)).toBe(120);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:01:00 GMT", now)).toBe(60);
    expect(parseRetryAfter("Wed, 31 Dec 2025 23:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("86400", now)).toBe(43200);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
