import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { eventCount, makeProject, makeTask } from "./fixtures";
import { call, createOrg, type TestOrg } from "./harness";
import {
  createWebhook,
  type ReceivedRequest,
  receivedBy,
  receiverEndpoint,
  scriptReceiver,
  verifyInNode,
  waitFor,
  waitForRequests,
} from "./webhook-helpers";

// Real deliveries: the API commits an event, the local queue runs the Worker's own
// consumer, which POSTs to a Node HTTP server on 127.0.0.1 (test/webhook-receiver.setup.mjs).

async function addMember(org: TestOrg, name = "Ada") {
  const res = await call("POST", "/v1/users", {
    key: org.keys.admin,
    body: { name, email: `${name.toLowerCase()}-${crypto.randomUUID()}@example.com` },
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; name: string; email: string };
}

function payloadOf(request: ReceivedRequest) {
  return JSON.parse(request.body);
}

async function deliveriesOf(org: TestOrg, webhookId: string, query = "") {
  const res = await call("GET", `/v1/webhooks/${webhookId}/deliveries${query}`, { key: org.keys.admin });
  expect(res.status).toBe(200);
  return res.body.data as Array<Record<string, any>>;
}

/** Waits until the webhook's delivery log holds a delivery in `status` (the log is written after the POST). */
function settledDelivery(org: TestOrg, webhookId: string, status: string) {
  return waitFor(async () => (await deliveriesOf(org, webhookId, `?status=${status}`))[0], `a ${status} delivery`);
}

// Each event crosses the local queue twice (fan-out, then delivery), ~1 s batch wait each.
describe("webhooks: real signed deliveries", { timeout: 40_000 }, () => {
  it("delivers a committed event with the SPEC payload and headers, verifiable three ways", async () => {
    const org = await createOrg();
    const { name, url } = receiverEndpoint("signed");
    const hook = await createWebhook(org, { url, events: ["member.added"] });
    const member = await addMember(org);

    const [request] = await waitForRequests(name, 1);
    const { headers, body } = request!;
    const payload = payloadOf(request!);

    expect(headers["content-type"]).toBe("application/json");
    expect(headers["user-agent"]).toBe("Verk-Webhooks/1.0");
    expect(headers["x-verk-event"]).toBe("member.added");
    expect(headers["x-verk-delivery"]).toMatch(/^del_/);
    expect(headers["webhook-id"]).toBe(headers["x-verk-delivery"]);
    expect(Math.abs(Number(headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
    expect(headers["x-verk-signature"]).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);

    const events = await call("GET", `/v1/events?resourceId=${member.id}`, { key: org.keys.admin });
    const event = events.body.data[0];
    expect(Object.keys(payload)).toEqual([
      "id",
      "event",
      "timestamp",
      "webhookId",
      "deliveryId",
      "data",
      "organization",
      "actor",
    ]);
    expect(payload).toEqual({
      id: event.id,
      event: "member.added",
      timestamp: event.createdAt,
      webhookId: hook.id,
      deliveryId: headers["x-verk-delivery"],
      data: member,
      organization: { id: org.id, name: org.name },
      actor: { userId: org.owner.id, apiKeyId: org.keyIds.admin },
    });

    // 1. The seeds' own Node code (HMAC-SHA256 hex of the raw body, timing-safe compare),
    // 2. the standardwebhooks package, both run in Node on the bytes as received.
    expect(await verifyInNode(body, headers, hook.secret)).toEqual({ seed: true, standard: true });
    // The package verifies inside the Workers runtime too.
    expect(new Webhook(hook.secret).verify(body, headers)).toEqual(payload);

    // 3. A tampered body, or the wrong secret, fails both.
    const tampered = body.replace(member.name, "Mallory");
    expect(tampered).not.toBe(body);
    expect(await verifyInNode(tampered, headers, hook.secret)).toEqual({ seed: false, standard: false });
    expect(() => new Webhook(hook.secret).verify(tampered, headers)).toThrow();
    const other = await createWebhook(org, { url, events: ["task.created"] });
    expect(await verifyInNode(body, headers, other.secret)).toEqual({ seed: false, standard: false });

    const delivery = await settledDelivery(org, hook.id, "succeeded");
    expect(delivery).toMatchObject({
      id: headers["x-verk-delivery"],
      webhookId: hook.id,
      eventId: event.id,
      event: "member.added",
      attemptCount: 1,
      lastStatusCode: 200,
      nextAttemptAt: null,
    });
    const detail = await call("GET", `/v1/webhooks/${hook.id}/deliveries/${delivery.id}`, { key: org.keys.admin });
    expect(detail.status).toBe(200);
    expect(detail.body.payload).toEqual(payload);
    expect(detail.body.attempts).toEqual([
      {
        attemptNumber: 1,
        attemptedAt: expect.any(String),
        statusCode: 200,
        responseTimeMs: expect.any(Number),
        error: null,
        nextAttemptAt: null,
      },
    ]);
    const after = await call("GET", `/v1/webhooks/${hook.id}`, { key: org.keys.admin });
    expect(after.body).toMatchObject({ consecutiveFailures: 0, deliverySuccessRate: 1 });
    expect(after.body.lastTriggeredAt).toEqual(detail.body.attempts[0].attemptedAt);
  });

  it("fans task events out by subscription and filters, with changes on updates", async () => {
    const org = await createOrg();
    const watched = await makeProject(org, { name: "Watched" });
    const other = await makeProject(org, { name: "Other" });
    const all = receiverEndpoint("all");
    const byProject = receiverEndpoint("by-project");
    const byAssignee = receiverEndpoint("by-assignee");
    const completions = receiverEndpoint("completions");
    const allHook = await createWebhook(org, { url: all.url, events: ["*"] });
    const projectHook = await createWebhook(org, {
      url: byProject.url,
      events: ["*"],
      filters: { projectId: watched.id },
    });
    const assigneeHook = await createWebhook(org, {
      url: byAssignee.url,
      events: ["task.created", "task.updated", "task.assigned"],
      filters: { assigneeId: org.member.id },
    });
    await createWebhook(org, { url: completions.url, events: ["task.completed"] });

    const mine = await makeTask(org, watched.id, { title: "Mine", assigneeId: org.member.id });
    const theirs = await makeTask(org, other.id, { title: "Theirs" });
    const patched = await call("PATCH", `/v1/tasks/${mine.id}`, { key: org.keys.write, body: { title: "Mine!" } });
    expect(patched.status).toBe(200);
    for (const project of [watched, other]) {
      const renamed = await call("PATCH", `/v1/projects/${project.id}`, {
        key: org.keys.write,
        body: { name: "Renamed" },
      });
      expect(renamed.status).toBe(200);
    }

    // task.created ×2, task.assigned, task.updated, project.updated ×2. The projects'
    // project.created came before the webhooks existed: a webhook hears only of later events.
    const received = await waitForRequests(all.name, 6);
    const types = received.map((r) => `${r.headers["x-verk-event"]}:${payloadOf(r).data.id}`).sort();
    expect(types).toEqual(
      [
        `project.updated:${other.id}`,
        `project.updated:${watched.id}`,
        `task.assigned:${mine.id}`,
        `task.created:${mine.id}`,
        `task.created:${theirs.id}`,
        `task.updated:${mine.id}`,
      ].sort(),
    );
    const update = received.map(payloadOf).find((p) => p.event === "task.updated");
    expect(update.changes).toMatchObject({ title: { from: "Mine", to: "Mine!" } });
    expect(update.data).toMatchObject({ id: mine.id, title: "Mine!", assigneeId: org.member.id });

    // Fan-out writes every delivery of an event at once, so the other logs are final now.
    const projectLog = await deliveriesOf(org, projectHook.id, "?limit=100");
    // A project filter matches the project's own events too (data.id), not the other project's.
    expect(projectLog.map((d) => d.event).sort()).toEqual([
      "project.updated",
      "task.assigned",
      "task.created",
      "task.updated",
    ]);
    const assigneeLog = await deliveriesOf(org, assigneeHook.id, "?limit=100");
    expect(assigneeLog.map((d) => d.event).sort()).toEqual(["task.assigned", "task.created", "task.updated"].sort());
    const filteredByEvent = await deliveriesOf(org, allHook.id, "?event=task.created");
    expect(filteredByEvent.map((d) => d.event)).toEqual(["task.created", "task.created"]);
    await waitForRequests(byProject.name, 4);
    await waitForRequests(byAssignee.name, 3);
    expect(await receivedBy(completions.name)).toEqual([]);
  });

  it("signs with both secrets during a rotation's grace period", async () => {
    const org = await createOrg();
    const { name, url } = receiverEndpoint("rotation");
    const hook = await createWebhook(org, { url, events: ["member.added"] });
    const rotated = await call("POST", `/v1/webhooks/${hook.id}/rotate-secret`, { key: org.keys.admin });
    const newSecret: string = rotated.body.secret;
    await addMember(org);

    const [request] = await waitForRequests(name, 1);
    const { headers, body } = request!;
    expect(headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    // A receiver still holding the old secret verifies with the standard header; the
    // X-Verk-Signature (one secret only) is the new one's.
    expect(await verifyInNode(body, headers, hook.secret)).toEqual({ seed: false, standard: true });
    expect(await verifyInNode(body, headers, newSecret)).toEqual({ seed: true, standard: true });
  });

  it("signs with a customer's own secret, verifiable in the standardwebhooks raw format", async () => {
    const org = await createOrg();
    const { name, url } = receiverEndpoint("own-secret");
    const secret = "your_webhook_secret_12345";
    await createWebhook(org, { url, events: ["member.added"], secret });
    await addMember(org);
    const [request] = await waitForRequests(name, 1);
    expect(await verifyInNode(request!.body, request!.headers, secret)).toEqual({ seed: true, standard: true });
    expect(() => new Webhook(secret, { format: "raw" }).verify(request!.body, request!.headers)).not.toThrow();
  });

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
    const detail = await call("GET", `/v1/webhooks/${hook.id}/deliveries/${delivery.id}`, { key: org.keys.admin });
    expect(detail.body.attemptCount).toBe(3);
    expect(detail.body.attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([500, 503, 200]);
    expect(detail.body.attempts[0].error).toBe("HTTP 500: database down");
    expect(detail.body.attempts[1].error).toBe("HTTP 503: still down");
    expect(detail.body.attempts[2].error).toBeNull();
    const [first, second, third] = detail.body.attempts;
    expect(Date.parse(first.nextAttemptAt) - Date.parse(first.attemptedAt)).toBe(1000);
    expect(Date.parse(second.nextAttemptAt) - Date.parse(second.attemptedAt)).toBe(2000);
    expect(third.nextAttemptAt).toBeNull();
    const after = await call("GET", `/v1/webhooks/${hook.id}`, { key: org.keys.admin });
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
      const detail = await call("GET", `/v1/webhooks/${hook.id}/deliveries/${delivery.id}`, { key: org.keys.admin });
      return detail.body.status === "succeeded" && detail.body.attemptCount === 2 ? detail : undefined;
    }, "the redelivery to settle");
    const after = await call("GET", `/v1/webhooks/${hook.id}`, { key: org.keys.admin });
    expect(after.body.deliverySuccessRate).toBe(1);
  });
});

describe("webhooks: test deliveries", { timeout: 30_000 }, () => {
  it("sends a signed sample of the chosen type now, outside the event and delivery logs", async () => {
    const org = await createOrg();
    const { name, url } = receiverEndpoint("test-send");
    const hook = await createWebhook(org, { url, events: ["task.created"] });
    const eventsBefore = await eventCount(org.id);

    const res = await call("POST", `/v1/webhooks/${hook.id}/test`, {
      key: org.keys.admin,
      body: { eventType: "task.completed" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      success: true,
      statusCode: 200,
      error: null,
      deliveryId: expect.stringMatching(/^del_/),
    });
    const [request] = await receivedBy(name);
    expect(request!.headers["x-verk-event"]).toBe("task.completed");
    expect(request!.headers["x-verk-test"]).toBe("true");
    expect(request!.headers["x-verk-delivery"]).toBe(res.body.deliveryId);
    expect(payloadOf(request!)).toEqual(res.body.payload);
    expect(res.body.payload).toMatchObject({
      event: "task.completed",
      webhookId: hook.id,
      organization: { id: org.id, name: org.name },
      actor: { userId: org.owner.id, apiKeyId: org.keyIds.admin },
      data: { status: "done", completedAt: expect.any(String) },
      changes: { status: { from: "in_progress", to: "done" } },
    });
    expect(await verifyInNode(request!.body, request!.headers, hook.secret)).toEqual({ seed: true, standard: true });

    expect(await eventCount(org.id)).toBe(eventsBefore);
    expect(await deliveriesOf(org, hook.id)).toEqual([]);

    const defaulted = await call("POST", `/v1/webhooks/${hook.id}/test`, { key: org.keys.admin });
    expect(defaulted.body.payload.event).toBe("task.created");
  });

  it("reports a failing or slow endpoint without counting it against the webhook", async () => {
    const org = await createOrg();
    const { name, url } = receiverEndpoint("test-fail");
    const hook = await createWebhook(org, { url, events: ["*"] });
    await scriptReceiver(name, [
      { status: 500, body: "boom" },
      { status: 200, delayMs: 3000 },
    ]);

    const failed = await call("POST", `/v1/webhooks/${hook.id}/test`, { key: org.keys.admin, body: {} });
    expect(failed.body).toMatchObject({ success: false, statusCode: 500, error: "HTTP 500: boom" });
    const slow = await call("POST", `/v1/webhooks/${hook.id}/test`, {
      key: org.keys.admin,
      body: { eventType: "comment.created" },
    });
    expect(slow.body).toMatchObject({ success: false, statusCode: null, error: "Timed out after 2000 ms" });
    expect(slow.body.responseTimeMs).toBeGreaterThanOrEqual(1900);

    const after = await call("GET", `/v1/webhooks/${hook.id}`, { key: org.keys.admin });
    expect(after.body).toMatchObject({ enabled: true, consecutiveFailures: 0, deliverySuccessRate: null });
  });

  it("sends a sample of every catalog type", async () => {
    const org = await createOrg();
    const { name, url } = receiverEndpoint("samples");
    const hook = await createWebhook(org, { url, events: ["*"] });
    const { EVENT_TYPES } = await import("../src/events/catalog");
    for (const eventType of EVENT_TYPES) {
      const res = await call("POST", `/v1/webhooks/${hook.id}/test`, { key: org.keys.admin, body: { eventType } });
      expect(res.body.success).toBe(true);
      expect(res.body.payload.event).toBe(eventType);
      expect(res.body.payload.data.id).toEqual(expect.any(String));
    }
    expect(await receivedBy(name)).toHaveLength(EVENT_TYPES.length);
  });
});
