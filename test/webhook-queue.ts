import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import type { Env, EventsQueueMessage } from "../src/env";
import worker from "../src/index";
import type { Webhook } from "./api-types";
import { call, createOrg, type TestOrg } from "./harness";
import { createWebhook, receiverEndpoint } from "./webhook-helpers";

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
export async function runQueue(queue: string, bodies: EventsQueueMessage[], attempts = 1) {
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

export const deliver = (deliveryId: string, attempts = 1) =>
  runQueue("verk-events", [{ kind: "delivery", deliveryId }], attempts);

export async function insertEvent(
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

export async function insertDelivery(
  org: TestOrg,
  webhookId: string,
  eventId: string,
  status = "pending",
): Promise<string> {
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
export async function pendingDelivery(label: string, hookBody: Record<string, unknown> = {}) {
  const org = await createOrg();
  const endpoint = receiverEndpoint(label);
  const hook = await createWebhook(org, { url: endpoint.url, events: ["member.added"], ...hookBody });
  const eventId = await insertEvent(org, "member.added", { id: org.member.id, name: "Max Member" });
  const deliveryId = await insertDelivery(org, hook.id, eventId);
  return { org, endpoint, hook, eventId, deliveryId };
}

export async function deliveryRow(id: string) {
  return env.DB.prepare("SELECT * FROM deliveries WHERE id = ?").bind(id).first<{
    status: string;
    attempt_count: number;
    next_attempt_at: string | null;
    last_status_code: number | null;
  }>();
}

export async function attemptsOf(deliveryId: string) {
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

export async function webhookOf(org: TestOrg, id: string): Promise<Webhook> {
  return (await call<Webhook>("GET", `/v1/webhooks/${id}`, { key: org.keys.admin })).body;
}
