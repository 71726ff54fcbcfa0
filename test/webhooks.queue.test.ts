import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it, vi } from "vitest";
import type { Env, EventsQueueMessage } from "../src/env";
import { enqueueEvents } from "../src/events/outbox";
import { sweepUnsentEvents } from "../src/events/sweep";
import { addUser } from "../src/identity/users";
import worker from "../src/index";
import { parseRetryAfter, retryDelaySeconds } from "../src/webhooks/deliver";
import { fanOutEvent, webhookMatches } from "../src/webhooks/fanout";
import { pruneDeliveryLog } from "../src/webhooks/retention";
import { resendStalledDeliveries } from "../src/webhooks/stalled";
import { call, createOrg, type TestOrg } from "./harness";
import {
  createWebhook,
  receivedBy,
  receiverEndpoint,
  scriptReceiver,
  waitFor,
  waitForRequests,
} from "./webhook-helpers";

// The consumer called directly with built batches (createMessageBatch/getQueueResult).
// Events and deliveries here are written straight to D1 and never enqueued, so the
// local queue's own consumer (which also runs in these tests) does not touch them.

let seq = 0;
function messageId(): string {
  seq += 1;
  return `msg-${seq}-${crypto.randomUUID()}`;
}

/**
 * Runs the Worker's queue handler on a built batch. getQueueResult() reports which
 * messages were retried but (vitest-plugin 1.5) drops their delaySeconds, so each
 * message's retry() is spied on to read the delay it was given.
 */
async function runQueue(queue: string, bodies: EventsQueueMessage[], attempts = 1) {
  const batch = createMessageBatch<EventsQueueMessage>(
    queue,
    bodies.map((body) => ({ id: messageId(), timestamp: new Date(), attempts, body })),
  );
  const delays = new Map<string, number | undefined>();
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    vi.spyOn(message, "retry").mockImplementation((options?: QueueRetryOptions) => {
      delays.set(message.id, options?.delaySeconds);
      retry(options);
    });
  }
  const ctx = createExecutionContext();
  await worker.queue(batch, env as Env, ctx);
  const result = await getQueueResult(batch, ctx);
  result.retryMessages = result.retryMessages.map((m) => ({ ...m, delaySeconds: delays.get(m.msgId) }));
  return { result, ids: batch.messages.map((m) => m.id) };
}

const deliver = (deliveryId: string, attempts = 1) =>
  runQueue("verk-events", [{ kind: "delivery", deliveryId }], attempts);

async function insertEvent(
  org: TestOrg,
  type: string,
  data: Record<string, unknown>,
  options: { changes?: unknown; createdAt?: string; enqueued?: boolean } = {},
): Promise<string> {
  const id = `evt_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
  const createdAt = options.createdAt ?? new Date().toISOString();
  await env.DB.prepare(
    `INSERT INTO events (id, org_id, type, resource_type, resource_id, data, changes, actor_user_id, actor_api_key_id, created_at, enqueued_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(
      id,
      org.id,
      type,
      type.split(".")[0],
      String(data.id ?? "x"),
      JSON.stringify(data),
      options.changes ? JSON.stringify(options.changes) : null,
      org.owner.id,
      org.keyIds.admin,
      createdAt,
      options.enqueued === false ? null : createdAt,
    )
    .run();
  return id;
}

async function insertDelivery(org: TestOrg, webhookId: string, eventId: string, status = "pending"): Promise<string> {
  const id = `del_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
  const now = new Date().toISOString();
  await env.DB.prepare(
    "INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, status, created_at, updated_at) VALUES (?, ?, ?, ?, 'member.added', ?, ?, ?)",
  )
    .bind(id, org.id, webhookId, eventId, status, now, now)
    .run();
  return id;
}

/** An org, a webhook at a fresh receiver endpoint, an event and a pending delivery of it. */
async function pendingDelivery(label: string, hookBody: Record<string, unknown> = {}) {
  const org = await createOrg();
  const endpoint = receiverEndpoint(label);
  const hook = await createWebhook(org, { url: endpoint.url, events: ["member.added"], ...hookBody });
  const eventId = await insertEvent(org, "member.added", { id: org.member.id, name: "Max Member" });
  const deliveryId = await insertDelivery(org, hook.id, eventId);
  return { org, endpoint, hook, eventId, deliveryId };
}

async function deliveryRow(id: string) {
  return env.DB.prepare("SELECT * FROM deliveries WHERE id = ?").bind(id).first<{
    status: string;
    attempt_count: number;
    next_attempt_at: string | null;
    last_status_code: number | null;
  }>();
}

async function attemptsOf(deliveryId: string) {
  const rows = await env.DB.prepare(
    "SELECT attempt_number, status_code, error, next_attempt_at, attempted_at FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt_number",
  )
    .bind(deliveryId)
    .all<{
      attempt_number: number;
      status_code: number | null;
      error: string | null;
      next_attempt_at: string | null;
      attempted_at: string;
    }>();
  return rows.results;
}

async function webhookOf(org: TestOrg, id: string) {
  return (await call("GET", `/v1/webhooks/${id}`, { key: org.keys.admin })).body;
}

describe("webhooks queue: fan-out", () => {
  it("creates one delivery per webhook whose events and filters match, disabled ones included, and acks", async () => {
    const org = await createOrg();
    const url = receiverEndpoint("fanout").url;
    const exact = await createWebhook(org, { url, events: ["task.created"] });
    const wildcard = await createWebhook(org, { url, events: ["*"] });
    const otherType = await createWebhook(org, { url, events: ["task.deleted"] });
    const disabled = await createWebhook(org, { url, events: ["*"], enabled: false });
    const projectMatch = await createWebhook(org, { url, events: ["*"] });
    const projectMiss = await createWebhook(org, { url, events: ["*"] });
    const assigneeMatch = await createWebhook(org, { url, events: ["*"] });
    // Filters by ids that need not exist for matching; set them directly.
    await env.DB.batch([
      env.DB.prepare("UPDATE webhooks SET filter_project_id = 'proj_A' WHERE id = ?").bind(projectMatch.id),
      env.DB.prepare("UPDATE webhooks SET filter_project_id = 'proj_B' WHERE id = ?").bind(projectMiss.id),
      env.DB.prepare("UPDATE webhooks SET filter_assignee_id = 'user_A' WHERE id = ?").bind(assigneeMatch.id),
    ]);
    const eventId = await insertEvent(org, "task.created", { id: "task_1", projectId: "proj_A", assigneeId: "user_A" });

    const { result, ids } = await runQueue("verk-events", [{ kind: "event", eventId }]);
    expect(result.explicitAcks).toEqual(ids);
    expect(result.retryMessages).toEqual([]);

    const rows = await env.DB.prepare("SELECT webhook_id, status, attempt_count FROM deliveries WHERE event_id = ?")
      .bind(eventId)
      .all<{ webhook_id: string; status: string; attempt_count: number }>();
    expect(rows.results.map((r) => r.webhook_id).sort()).toEqual(
      [exact.id, wildcard.id, disabled.id, projectMatch.id, assigneeMatch.id].sort(),
    );
    expect(rows.results.every((r) => r.status === "pending" && r.attempt_count === 0)).toBe(true);
    for (const skipped of [otherType, projectMiss]) {
      expect(rows.results.map((r) => r.webhook_id)).not.toContain(skipped.id);
    }
  });

  it("never duplicates a delivery for a repeated event message, and re-sends only unattempted ones", async () => {
    const org = await createOrg();
    const url = receiverEndpoint("dup").url;
    await createWebhook(org, { url, events: ["*"] });
    await createWebhook(org, { url, events: ["*"] });
    const eventId = await insertEvent(org, "member.added", { id: "user_x" });

    const first = await fanOutEvent(env as Env, eventId);
    expect(first).toHaveLength(2);
    // A crash after the insert: the message comes again (or twice at once).
    const [again, concurrent] = await Promise.all([fanOutEvent(env as Env, eventId), fanOutEvent(env as Env, eventId)]);
    expect(again!.sort()).toEqual([...first].sort());
    expect(concurrent!.sort()).toEqual([...first].sort());
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM deliveries WHERE event_id = ?")
      .bind(eventId)
      .first<{ n: number }>();
    expect(count!.n).toBe(2);

    // Once a delivery has been attempted, a repeated event message leaves it to its own message.
    await env.DB.prepare("UPDATE deliveries SET attempt_count = 1 WHERE id = ?").bind(first[0]).run();
    expect(await fanOutEvent(env as Env, eventId)).toEqual([first[1]]);
    const { result, ids } = await runQueue("verk-events", [{ kind: "event", eventId }]);
    expect(result.explicitAcks).toEqual(ids);
    const after = await env.DB.prepare("SELECT COUNT(*) AS n FROM deliveries WHERE event_id = ?")
      .bind(eventId)
      .first<{ n: number }>();
    expect(after!.n).toBe(2);
  });

  it("acks an event that no longer exists, and events older than the webhook reach nothing", async () => {
    const org = await createOrg();
    const { ids, result } = await runQueue("verk-events", [{ kind: "event", eventId: "evt_gone" }]);
    expect(result.explicitAcks).toEqual(ids);
    const old = await insertEvent(org, "member.added", { id: "user_y" }, { createdAt: "2020-01-01T00:00:00.000Z" });
    await createWebhook(org, { url: receiverEndpoint("late").url, events: ["*"] });
    expect(await fanOutEvent(env as Env, old)).toEqual([]);
  });

  it("matches filters by data, the project itself, and the previous value of a change", () => {
    const hook = (events: string[], projectId: string | null, assigneeId: string | null) => ({
      events: JSON.stringify(events),
      filterProjectId: projectId,
      filterAssigneeId: assigneeId,
    });
    const event = (type: string, data: unknown, changes?: unknown) => ({
      type,
      data: JSON.stringify(data),
      changes: changes ? JSON.stringify(changes) : null,
    });
    expect(webhookMatches(hook(["*"], "p1", null), event("project.updated", { id: "p1" }))).toBe(true);
    expect(webhookMatches(hook(["*"], "p1", null), event("project.updated", { id: "p2" }))).toBe(false);
    expect(webhookMatches(hook(["*"], "p1", null), event("comment.created", { id: "c", projectId: "p1" }))).toBe(true);
    expect(webhookMatches(hook(["*"], "p1", null), event("member.added", { id: "u" }))).toBe(false);
    expect(webhookMatches(hook(["*"], null, "u1"), event("comment.created", { id: "c", projectId: "p1" }))).toBe(false);
    // Moved out of the watched project / reassigned away from the watched member: still news for them.
    expect(
      webhookMatches(
        hook(["task.updated"], "p1", null),
        event("task.updated", { projectId: "p2" }, { projectId: { from: "p1", to: "p2" } }),
      ),
    ).toBe(true);
    expect(
      webhookMatches(
        hook(["task.assigned"], null, "u1"),
        event("task.assigned", { assigneeId: "u2" }, { assigneeId: { from: "u1", to: "u2" } }),
      ),
    ).toBe(true);
    expect(webhookMatches(hook(["task.created"], "p1", "u1"), event("task.created", { projectId: "p1" }))).toBe(false);
    expect(webhookMatches(hook(["task.created"], null, null), event("task.deleted", { projectId: "p1" }))).toBe(false);
  });
});

describe("webhooks queue: delivery attempts", { timeout: 30_000 }, () => {
  it("retries failures on the schedule, its last step repeated, until the queue gives up", async () => {
    const { org, endpoint, hook, deliveryId } = await pendingDelivery("schedule");
    await scriptReceiver(endpoint.name, [], { status: 500, body: "nope" });

    // Schedule "1,2,3" (vitest.config.ts), ±10% jitter rounds away at this size.
    const delays: (number | undefined)[] = [];
    for (let attempt = 1; attempt <= 7; attempt += 1) {
      const { result } = await deliver(deliveryId, attempt);
      expect(result.explicitAcks).toEqual([]);
      expect(result.retryMessages).toHaveLength(1);
      delays.push(result.retryMessages[0]!.delaySeconds);
    }
    expect(delays).toEqual([1, 2, 3, 3, 3, 3, 3]);
    expect(await receivedBy(endpoint.name)).toHaveLength(7);

    const attempts = await attemptsOf(deliveryId);
    expect(attempts.map((a) => a.attempt_number)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(attempts.every((a) => a.status_code === 500 && a.error === "HTTP 500: nope")).toBe(true);
    const gaps = attempts.map((a) =>
      a.next_attempt_at ? Date.parse(a.next_attempt_at) - Date.parse(a.attempted_at) : null,
    );
    // The 7th attempt is past max_retries (6): the queue dead-letters it, nothing is scheduled.
    expect(gaps).toEqual([1000, 2000, 3000, 3000, 3000, 3000, null]);
    expect(await deliveryRow(deliveryId)).toMatchObject({ status: "pending", attempt_count: 7, last_status_code: 500 });
    expect(await webhookOf(org, hook.id)).toMatchObject({ consecutiveFailures: 7, enabled: true });
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

  it("disables the webhook at once on 410 Gone and ends the delivery failed", async () => {
    const { org, endpoint, hook, deliveryId } = await pendingDelivery("gone");
    await scriptReceiver(endpoint.name, [{ status: 410, body: "unsubscribed" }]);
    const { result, ids } = await deliver(deliveryId);
    expect(result.explicitAcks).toEqual(ids);
    expect(result.retryMessages).toEqual([]);
    expect(await deliveryRow(deliveryId)).toMatchObject({ status: "failed", attempt_count: 1, last_status_code: 410 });
    const webhook = await webhookOf(org, hook.id);
    expect(webhook).toMatchObject({ enabled: false, consecutiveFailures: 1, deliverySuccessRate: 0 });
    expect(webhook.disabledReason).toContain("410 Gone");
  });

  it("disables the webhook after the configured number of consecutive failures", async () => {
    const { org, endpoint, hook, deliveryId } = await pendingDelivery("threshold");
    await scriptReceiver(endpoint.name, [], { status: 502 });
    await env.DB.prepare("UPDATE webhooks SET consecutive_failures = 98 WHERE id = ?").bind(hook.id).run();

    const first = await deliver(deliveryId, 1);
    expect(first.result.retryMessages).toHaveLength(1);
    expect(await webhookOf(org, hook.id)).toMatchObject({ enabled: true, consecutiveFailures: 99 });

    const hundredth = await deliver(deliveryId, 2);
    expect(hundredth.result.explicitAcks).toEqual(hundredth.ids);
    expect(hundredth.result.retryMessages).toEqual([]);
    const webhook = await webhookOf(org, hook.id);
    expect(webhook).toMatchObject({ enabled: false, consecutiveFailures: 100 });
    expect(webhook.disabledReason).toContain("100 consecutive failed attempts");
    expect(await deliveryRow(deliveryId)).toMatchObject({ status: "failed", next_attempt_at: null });
    expect((await attemptsOf(deliveryId)).at(-1)!.next_attempt_at).toBeNull();

    // Re-enabling resets the count; the failed delivery can then be redelivered.
    const enabled = await call("PATCH", `/v1/webhooks/${hook.id}`, { key: org.keys.admin, body: { enabled: true } });
    expect(enabled.body).toMatchObject({ enabled: true, consecutiveFailures: 0, disabledReason: null });
  });

  it("resets the failure count on a success", async () => {
    const { org, endpoint, hook, deliveryId } = await pendingDelivery("reset");
    await scriptReceiver(endpoint.name, [{ status: 500 }, { status: 204 }]);
    await deliver(deliveryId, 1);
    expect(await webhookOf(org, hook.id)).toMatchObject({ consecutiveFailures: 1 });
    const { result, ids } = await deliver(deliveryId, 2);
    expect(result.explicitAcks).toEqual(ids);
    expect(await webhookOf(org, hook.id)).toMatchObject({ consecutiveFailures: 0, deliverySuccessRate: 1 });
    expect(await deliveryRow(deliveryId)).toMatchObject({
      status: "succeeded",
      attempt_count: 2,
      last_status_code: 204,
    });
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

  it("acks without sending when the delivery is settled, unknown, or its webhook gone or disabled", async () => {
    const { org, endpoint, hook, eventId, deliveryId } = await pendingDelivery("skip");
    const settled = await insertDelivery(org, hook.id, `${eventId}-2`, "succeeded");
    for (const id of [settled, "del_unknown"]) {
      const { result, ids } = await deliver(id);
      expect(result.explicitAcks).toEqual(ids);
    }
    await call("PATCH", `/v1/webhooks/${hook.id}`, { key: org.keys.admin, body: { enabled: false } });
    const { result, ids } = await deliver(deliveryId);
    expect(result.explicitAcks).toEqual(ids);
    expect(await deliveryRow(deliveryId)).toMatchObject({ status: "failed" });
    expect((await attemptsOf(deliveryId))[0]!.error).toBe("Not sent: the webhook is disabled");
    expect(await receivedBy(endpoint.name)).toEqual([]);

    const gone = await pendingDelivery("deleted");
    await call("DELETE", `/v1/webhooks/${gone.hook.id}`, { key: gone.org.keys.admin });
    const afterDelete = await deliver(gone.deliveryId);
    expect(afterDelete.result.explicitAcks).toEqual(afterDelete.ids);
    expect(await receivedBy(gone.endpoint.name)).toEqual([]);
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
    const failedOnly = await call("GET", `/v1/webhooks/${hook.id}/deliveries?status=failed`, { key: org.keys.admin });
    expect(failedOnly.body.data.map((d: { id: string }) => d.id)).toEqual([deliveryId]);

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
    expect(res.body.error.code).toBe("CONFLICT");
    expect(await deliveryRow(deliveryId)).toMatchObject({ status: "pending", attempt_count: 0 });
  });

  it("refuses to redeliver through a disabled webhook", async () => {
    const { org, hook, deliveryId } = await pendingDelivery("dead-disabled");
    await call("PATCH", `/v1/webhooks/${hook.id}`, { key: org.keys.admin, body: { enabled: false } });
    const res = await call("POST", `/v1/webhooks/${hook.id}/deliveries/${deliveryId}/redeliver`, {
      key: org.keys.admin,
    });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("CONFLICT");
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

describe("webhooks: delivery log retention", () => {
  it("prunes settled deliveries past the retention, with their attempts; keeps pending and recent ones", async () => {
    const org = await createOrg();
    const hook = await createWebhook(org, { url: receiverEndpoint("retention").url, events: ["member.added"] });
    const make = async (status: string, ageDays: number) => {
      const eventId = await insertEvent(org, "member.added", { id: "user_r" });
      const id = await insertDelivery(org, hook.id, eventId, status);
      const at = new Date(Date.now() - ageDays * 86_400_000).toISOString();
      await env.DB.batch([
        env.DB.prepare("UPDATE deliveries SET updated_at = ?, created_at = ? WHERE id = ?").bind(at, at, id),
        env.DB.prepare(
          "INSERT INTO delivery_attempts (id, delivery_id, attempt_number, attempted_at, status_code) VALUES (?, ?, 1, ?, 500)",
        ).bind(`att_${id}`, id, at),
      ]);
      return id;
    };
    const oldFailed = await make("failed", 31);
    const oldSucceeded = await make("succeeded", 45);
    const oldPending = await make("pending", 40);
    const recent = await make("failed", 2);

    expect(await pruneDeliveryLog(env as Env)).toBe(2);
    const left = await env.DB.prepare("SELECT id FROM deliveries WHERE webhook_id = ?")
      .bind(hook.id)
      .all<{ id: string }>();
    expect(left.results.map((r) => r.id).sort()).toEqual([oldPending, recent].sort());
    const orphanAttempts = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM delivery_attempts WHERE delivery_id IN (?, ?)",
    )
      .bind(oldFailed, oldSucceeded)
      .first("n");
    expect(orphanAttempts).toBe(0);
    expect(await pruneDeliveryLog(env as Env)).toBe(0);
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
