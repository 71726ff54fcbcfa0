import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call } from "./harness";
import { receivedBy, scriptReceiver } from "./webhook-helpers";
import { attemptsOf, deliver, deliveryRow, insertDelivery, pendingDelivery, webhookOf } from "./webhook-queue";

// A webhook is disabled by its receiver (410 Gone) or by consecutive failures; a disabled
// webhook is sent nothing. The consumer called directly with built batches (test/webhook-queue.ts): events and
// deliveries written straight to D1, never enqueued, so the local queue's own consumer leaves them alone.

describe("webhooks queue: delivery attempts", { timeout: 30_000 }, () => {
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
});
