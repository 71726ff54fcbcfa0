import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it, vi } from "vitest";
import { AppError } from "../src/core/errors";
import type { Env, EventsQueueMessage } from "../src/env";
import { keyRecordsOf } from "../src/identity/key-cache";
import { redeliver } from "../src/webhooks/deliveries";
import type { CreatedApiKey } from "./api-types";
import { type ApiResponse, call, createOrg, errorOf } from "./harness";
import { createWebhook, receivedBy, receiverEndpoint, scriptReceiver, waitFor } from "./webhook-helpers";

const CALLERS = 10;

/** An org, a webhook at a fresh receiver endpoint, and one `failed` delivery of an event (counted as failed). */
async function failedDelivery(label: string) {
  const org = await createOrg();
  const endpoint = receiverEndpoint(label);
  const hook = await createWebhook(org, { url: endpoint.url, events: ["member.added"] });
  const suffix = crypto.randomUUID().replaceAll("-", "").slice(0, 20);
  const eventId = `evt_${suffix}`;
  const deliveryId = `del_${suffix}`;
  const at = new Date(Date.now() - 600_000).toISOString();
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO events (id, org_id, type, resource_type, resource_id, data, created_at, enqueued_at)
       VALUES (?, ?, 'member.added', 'member', ?, ?, ?, ?)`,
    ).bind(eventId, org.id, org.member.id, JSON.stringify({ id: org.member.id, name: "Max Member" }), at, at),
    env.DB.prepare(
      `INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, status, attempt_count, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'member.added', 'failed', 0, ?, ?)`,
    ).bind(deliveryId, org.id, hook.id, eventId, at, at),
    env.DB.prepare("UPDATE webhooks SET failed_count = 1 WHERE id = ?").bind(hook.id),
  ]);
  return { org, endpoint, hook, deliveryId };
}

async function deliveryRow(id: string) {
  return env.DB.prepare("SELECT status, attempt_count FROM deliveries WHERE id = ?")
    .bind(id)
    .first<{ status: string; attempt_count: number }>();
}

async function attemptCount(deliveryId: string) {
  return env.DB.prepare("SELECT COUNT(*) AS n FROM delivery_attempts WHERE delivery_id = ?")
    .bind(deliveryId)
    .first<number>("n");
}

describe("redeliver: concurrent requests on one delivery", { timeout: 30_000 }, () => {
  it("sends exactly one queue message; the other callers get 409 CONFLICT", async () => {
    const { org, hook, deliveryId } = await failedDelivery("race-domain");
    const sent: EventsQueueMessage[] = [];
    // Counts what would go to the queue and sends nothing: the delivery stays pending.
    const countingEnv = {
      ...env,
      EVENTS_QUEUE: {
        send: async (body: EventsQueueMessage) => {
          sent.push(body);
        },
        sendBatch: async () => {
          throw new Error("redeliver sends one message");
        },
      },
    } as unknown as Env;
    const scope = {
      db: drizzle(env.DB),
      orgId: org.id,
      actor: { userId: org.owner.id, apiKeyId: org.keyIds.admin, role: "owner" as const },
      afterCommit: () => {},
      keys: keyRecordsOf(env),
      now: () => new Date().toISOString(),
      plan: "enterprise" as const,
      env: countingEnv,
    };

    const outcomes = await Promise.allSettled(
      Array.from({ length: CALLERS }, () => redeliver(scope, { webhookId: hook.id, deliveryId })),
    );

    expect(sent).toEqual([{ kind: "delivery", deliveryId }]);
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
    expect(refused).toHaveLength(CALLERS - 1);
    for (const { reason } of refused) {
      expect(reason).toBeInstanceOf(AppError);
      expect((reason as AppError).code).toBe("CONFLICT");
    }
    expect(await deliveryRow(deliveryId)).toMatchObject({ status: "pending" });
    // The failed count moved out exactly once (not below zero, not left behind).
    const counts = await env.DB.prepare("SELECT delivered_count, failed_count FROM webhooks WHERE id = ?")
      .bind(hook.id)
      .first();
    expect(counts).toEqual({ delivered_count: 0, failed_count: 0 });
  });

  it("over HTTP: one 202, the rest 409, one queue message, and the receiver gets only that chain's attempts", async () => {
    const { org, endpoint, hook, deliveryId } = await failedDelivery("race-http");
    // A slow answer keeps the one attempt in flight while the callers race.
    await scriptReceiver(endpoint.name, [{ status: 200, delayMs: 300 }]);
    // One key per caller: each key has its own rate limiter, so no caller waits for another's.
    const keys = await Promise.all(
      Array.from({ length: CALLERS }, async (_, i) => {
        const res = await call<CreatedApiKey>("POST", "/v1/api-keys", {
          key: org.keys.admin,
          body: { name: `racer ${i}`, scope: "admin" },
        });
        return res.body.key;
      }),
    );
    // The Worker's env is this env: count the messages the handlers send, and let them through.
    const send = vi.spyOn(env.EVENTS_QUEUE, "send");
    let responses: ApiResponse[];
    try {
      responses = await Promise.all(
        keys.map((key) => call("POST", `/v1/webhooks/${hook.id}/deliveries/${deliveryId}/redeliver`, { key })),
      );
      expect(send.mock.calls.filter(([body]) => JSON.stringify(body).includes(deliveryId))).toHaveLength(1);
    } finally {
      send.mockRestore();
    }

    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([202, ...Array(CALLERS - 1).fill(409)]);
    for (const r of responses.filter((r) => r.status === 409)) expect(errorOf(r).code).toBe("CONFLICT");

    await waitFor(async () => ((await deliveryRow(deliveryId))?.status === "succeeded" ? true : undefined), "success");
    // Longer than the local queue's batch timeout (1 s): a second chain would have sent by now.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    // Every request the receiver saw is an attempt of the one chain (normally exactly one;
    // a local network hiccup makes that chain retry, never start another).
    const received = await receivedBy(endpoint.name);
    expect(received.length).toBeGreaterThanOrEqual(1);
    expect(await attemptCount(deliveryId)).toBe(received.length);
    expect(await deliveryRow(deliveryId)).toEqual({ status: "succeeded", attempt_count: received.length });
    const webhook = await call("GET", `/v1/webhooks/${hook.id}`, { key: org.keys.admin });
    expect(webhook.body).toMatchObject({ deliverySuccessRate: 1 });
  });
});

describe("redeliver: with an Idempotency-Key", () => {
  it("a retry replays the first 202 (stored with the move to pending) instead of a 409", async () => {
    const { org, hook, deliveryId } = await failedDelivery("idempotent-redeliver");
    const path = `/v1/webhooks/${hook.id}/deliveries/${deliveryId}/redeliver`;
    const headers = { "Idempotency-Key": `redeliver-${deliveryId}` };
    const first = await call("POST", path, { key: org.keys.admin, body: {}, headers });
    expect(first.status).toBe(202);
    const retry = await call("POST", path, { key: org.keys.admin, body: {}, headers });
    expect(retry.status).toBe(202);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(retry.body).toEqual(first.body);
  });
});
