import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Delivery, Page } from "./api-types";
import { call, createOrg, expectError, type TestOrg } from "./harness";
import {
  createWebhook,
  deliveriesOf,
  receivedBy,
  receiverEndpoint,
  scriptReceiver,
  waitFor,
  waitForRequests,
} from "./webhook-helpers";
import { attemptsOf, deliver, deliveryRow, insertDelivery, insertEvent, webhookOf } from "./webhook-queue";

// POST /v1/webhooks/{id}/recover after a simulated outage: deliveries driven to `failed`
// through the Worker's own consumer (test/webhook-queue.ts) while the receiver answers 500,
// then recovered through the API; the local queue's consumer makes the new attempts.

interface Recovery {
  webhookId: string;
  queued: number;
  remaining: number;
  since: string;
  until: string;
}

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

function recover(org: TestOrg, webhookId: string, body: unknown, headers?: Record<string, string>) {
  return call<Recovery>("POST", `/v1/webhooks/${webhookId}/recover`, { key: org.keys.admin, body, headers });
}

/** An org and a webhook at a receiver that fails, with `count` deliveries that ended failed after their last attempt. */
async function outage(label: string, count: number) {
  const org = await createOrg();
  const endpoint = receiverEndpoint(label);
  const hook = await createWebhook(org, { url: endpoint.url, events: ["member.added"] });
  await scriptReceiver(endpoint.name, [], { status: 503, body: "down" });
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const eventId = await insertEvent(org, "member.added", { id: org.member.id, name: `Member ${i}` });
    const deliveryId = await insertDelivery(org, hook.id, eventId);
    // The queue's 7th try is the chain's last attempt: it fails, and the delivery ends failed.
    await deliver(deliveryId, 7);
    expect(await deliveryRow(deliveryId)).toMatchObject({ status: "failed", attempt_count: 1 });
    ids.push(deliveryId);
  }
  await scriptReceiver(endpoint.name, [], { status: 200, body: "ok" });
  return { org, endpoint, hook, ids };
}

/** `count` failed deliveries of one webhook, each with its event, seeded by two INSERT … SELECT statements. */
async function seedFailed(org: TestOrg, webhookId: string, count: number, endedAt: string) {
  const series = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?3)`;
  await env.DB.batch([
    env.DB.prepare(
      `${series} INSERT INTO events (id, org_id, type, resource_type, resource_id, data, created_at, enqueued_at)
       SELECT ?1 || '_evt_' || i, ?2, 'member.added', 'member', 'x', '{"id":"x","name":"Seeded"}', ?4, ?4 FROM n`,
    ).bind(webhookId, org.id, count, endedAt),
    env.DB.prepare(
      `${series} INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, status, attempt_count, created_at, updated_at)
       SELECT 'del_' || ?1 || '_' || i, ?2, ?1, ?1 || '_evt_' || i, 'member.added', 'failed', 1, ?4, ?4 FROM n`,
    ).bind(webhookId, org.id, count, endedAt),
  ]);
}

describe("webhooks: recovery after an outage", { timeout: 120_000 }, () => {
  it("re-sends each delivery that ended failed in the window, on its own id, as new attempts", async () => {
    const { org, endpoint, hook, ids } = await outage("recover", 3);
    // One more failed delivery, ended before the window: it is left alone.
    const eventId = await insertEvent(org, "member.added", { id: org.member.id, name: "Earlier" });
    const before = await insertDelivery(org, hook.id, eventId, "failed");
    await env.DB.prepare("UPDATE deliveries SET updated_at = ? WHERE id = ?").bind(minutesAgo(120), before).run();
    expect(await webhookOf(org, hook.id)).toMatchObject({ deliverySuccessRate: 0 });

    const since = minutesAgo(60);
    const res = await recover(org, hook.id, { since });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ webhookId: hook.id, queued: 3, remaining: 0, since });
    expect(Date.parse(res.body.until)).toBeGreaterThan(Date.parse(since));
    // The log shows them underway at once (README "Recovering after an outage": how a client
    // follows progress): the pending filter's total counts them, each changed at the answer's `until`.
    const underway = await call<Page<Delivery>>("GET", `/v1/webhooks/${hook.id}/deliveries?status=pending`, {
      key: org.keys.admin,
    });
    expect(underway.body.pagination.total).toBe(3);
    const listed = underway.body.data;
    expect(listed.map((d) => d.id).sort()).toEqual([...ids].sort());
    expect(listed.every((d) => d.updatedAt === res.body.until)).toBe(true);

    const received = await waitForRequests(endpoint.name, ids.length * 2);
    const resent = received.slice(ids.length).map((r) => r.headers["x-verk-delivery"]);
    expect(resent.sort()).toEqual([...ids].sort());
    for (const id of ids) {
      const row = await waitFor(async () => {
        const r = await deliveryRow(id);
        return r?.status === "succeeded" ? r : undefined;
      }, `delivery ${id} succeeded`);
      expect(row).toMatchObject({ attempt_count: 2, last_status_code: 200 });
      expect((await attemptsOf(id)).map((a) => [a.attempt_number, a.status_code])).toEqual([
        [1, 503],
        [2, 200],
      ]);
    }
    expect(await deliveryRow(before)).toMatchObject({ status: "failed", attempt_count: 0 });
    // The success rate counts each delivery once, in the state it is in now (the one
    // inserted as failed by hand was never counted): 3 succeeded, none failed.
    expect(await webhookOf(org, hook.id)).toMatchObject({ deliverySuccessRate: 1 });
  });

  it("re-sends nothing twice when called again, with or without the same Idempotency-Key", async () => {
    const { org, endpoint, hook, ids } = await outage("recover-twice", 2);
    const since = minutesAgo(10);
    const headers = { "Idempotency-Key": crypto.randomUUID() };
    const first = await recover(org, hook.id, { since }, headers);
    expect(first.body).toMatchObject({ queued: 2, remaining: 0 });
    // While they are pending: nothing to take.
    const again = await recover(org, hook.id, { since });
    expect(again.status).toBe(202);
    expect(again.body.queued).toBe(0);
    // The same key and body: the first answer replayed, nothing run.
    const replayed = await recover(org, hook.id, { since }, headers);
    expect(replayed.status).toBe(202);
    expect(replayed.headers.get("Idempotent-Replayed")).toBe("true");
    expect(replayed.body).toEqual(first.body);

    await waitFor(async () => {
      const log = await deliveriesOf(org, hook.id, "?status=succeeded");
      return log.length === ids.length ? log : undefined;
    }, "both deliveries succeeded");
    // Settled again: still nothing to take, and each was sent once more, not twice.
    expect((await recover(org, hook.id, { since })).body.queued).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await receivedBy(endpoint.name)).toHaveLength(ids.length * 2);
  });

  it("marks what failed again by the answer's until: a second call from it re-sends just those", async () => {
    const { org, endpoint, hook, ids } = await outage("recover-again", 1);
    const [again] = ids as [string];
    await scriptReceiver(endpoint.name, [], { status: 503, body: "still down" });
    const first = await recover(org, hook.id, { since: minutesAgo(60) });
    expect(first.body).toMatchObject({ queued: 1, remaining: 0 });
    const { until } = first.body;
    // Ended failed within the first window, after that call: not one the recovery re-sent.
    const eventId = await insertEvent(org, "member.added", { id: org.member.id, name: "Older" });
    const older = await insertDelivery(org, hook.id, eventId, "failed");
    await env.DB.prepare("UPDATE deliveries SET updated_at = ? WHERE id = ?").bind(minutesAgo(5), older).run();

    // The re-sent delivery runs its fresh retry schedule (1, 2, 3 s…) against the still-failing receiver.
    const failedAgain = await waitFor(
      async () => {
        const [latest] = await deliveriesOf(org, hook.id, "?status=failed&sortBy=updatedAt");
        return latest?.id === again ? latest : undefined;
      },
      "the re-sent delivery to end failed again",
      90_000,
    );
    expect(Date.parse(failedAgain.updatedAt)).toBeGreaterThan(Date.parse(until));
    expect(failedAgain.attemptCount).toBe(8);

    await scriptReceiver(endpoint.name, [], { status: 200, body: "ok" });
    const second = await recover(org, hook.id, { since: until });
    expect(second.body).toMatchObject({ queued: 1, remaining: 0, since: until });
    await waitFor(async () => {
      const r = await deliveryRow(again);
      return r?.status === "succeeded" ? r : undefined;
    }, "the second recovery to succeed");
    expect(await deliveryRow(older)).toMatchObject({ status: "failed" });
  });

  it("queues more than one page, and concurrent calls share the deliveries without sending one twice", async () => {
    const org = await createOrg();
    const endpoint = receiverEndpoint("recover-many");
    const hook = await createWebhook(org, { url: endpoint.url, events: ["member.added"] });
    await seedFailed(org, hook.id, 250, minutesAgo(5));

    const since = minutesAgo(30);
    const [a, b] = await Promise.all([recover(org, hook.id, { since }), recover(org, hook.id, { since })]);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(a.body.queued + b.body.queued).toBe(250);
    expect(a.body.remaining + b.body.remaining).toBe(0);

    const received = await waitForRequests(endpoint.name, 250, 50_000);
    const sentIds = received.map((r) => r.headers["x-verk-delivery"]);
    expect(new Set(sentIds).size).toBe(250);
    await waitFor(async () => {
      const left = await env.DB.prepare(
        "SELECT count(*) AS n FROM deliveries WHERE webhook_id = ? AND status != 'succeeded'",
      )
        .bind(hook.id)
        .first<{ n: number }>();
      return left?.n === 0 ? true : undefined;
    }, "all 250 succeeded");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await receivedBy(endpoint.name)).toHaveLength(250);
  });

  it("takes at most 1000 per request and counts the rest, which the next call with the same window takes", async () => {
    const org = await createOrg();
    const endpoint = receiverEndpoint("recover-bound");
    const hook = await createWebhook(org, { url: endpoint.url, events: ["member.added"] });
    await seedFailed(org, hook.id, 1001, minutesAgo(5));

    const first = await recover(org, hook.id, { since: minutesAgo(30) });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ queued: 1000, remaining: 1 });
    const { since, until } = first.body;
    const second = await recover(org, hook.id, { since, until });
    expect(second.body).toMatchObject({ queued: 1, remaining: 0, since, until });

    await waitFor(
      async () => {
        const left = await env.DB.prepare(
          "SELECT count(*) AS n FROM deliveries WHERE webhook_id = ? AND status != 'succeeded'",
        )
          .bind(hook.id)
          .first<{ n: number }>();
        return left?.n === 0 ? true : undefined;
      },
      "all 1001 succeeded",
      90_000,
    );
  });

  it("answers 404 for another organization's webhook and 409 for a disabled one", async () => {
    const { org, hook, ids } = await outage("recover-tenancy", 1);
    const other = await createOrg();
    expectError(await recover(other, hook.id, { since: minutesAgo(10) }), 404, "NOT_FOUND");
    expect(await deliveryRow(ids[0]!)).toMatchObject({ status: "failed" });

    await call("PATCH", `/v1/webhooks/${hook.id}`, { key: org.keys.admin, body: { enabled: false } });
    expectError(await recover(org, hook.id, { since: minutesAgo(10) }), 409, "CONFLICT");
    expect(await deliveryRow(ids[0]!)).toMatchObject({ status: "failed" });
  });

  it("refuses a bad window with 400 naming the field, and takes nothing", async () => {
    const org = await createOrg();
    const hook = await createWebhook(org, { url: receiverEndpoint("recover-bad").url, events: ["member.added"] });
    await seedFailed(org, hook.id, 2, minutesAgo(5));
    const cases: [unknown, string][] = [
      [{}, "since"],
      [{ since: "yesterday" }, "since"],
      [{ since: 1_700_000_000 }, "since"],
      [{ since: minutesAgo(10), until: "soon" }, "until"],
      [{ since: minutesAgo(10), until: minutesAgo(20) }, "until"],
      [{ since: minutesAgo(10), until: minutesAgo(10) }, "until"],
      [{ since: minutesAgo(31 * 24 * 60) }, "since"],
      [{ since: new Date(Date.now() + 60_000).toISOString() }, "since"],
      [{ since: minutesAgo(10), status: "failed" }, "status"],
    ];
    for (const [body, field] of cases) {
      expectError(await recover(org, hook.id, body), 400, "VALIDATION_ERROR", field);
    }
    const failed: Delivery[] = await deliveriesOf(org, hook.id, "?status=failed");
    expect(failed).toHaveLength(2);
  });

  it("takes offsets in the window as the instants they name", async () => {
    const org = await createOrg();
    const hook = await createWebhook(org, { url: receiverEndpoint("recover-offset").url, events: ["member.added"] });
    const endedAt = minutesAgo(5);
    await seedFailed(org, hook.id, 1, endedAt);
    // The same instant as `endedAt` in UTC+02:00: inclusive `since` takes the delivery.
    const plusTwo = new Date(Date.parse(endedAt) + 2 * 3_600_000).toISOString().replace("Z", "+02:00");
    const res = await recover(org, hook.id, { since: plusTwo });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ queued: 1, since: endedAt });
  });
});
