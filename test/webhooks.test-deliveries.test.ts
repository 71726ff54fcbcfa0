import { describe, expect, it } from "vitest";
import type { Webhook, WebhookTestResult } from "./api-types";
import { eventCount } from "./fixtures";
import { call, createOrg } from "./harness";
import {
  createWebhook,
  deliveriesOf,
  payloadOf,
  receivedBy,
  receiverEndpoint,
  scriptReceiver,
  verifyInNode,
} from "./webhook-helpers";

// POST /v1/webhooks/{id}/test: a signed sample sent at once, outside the event and delivery logs.

describe("webhooks: test deliveries", { timeout: 30_000 }, () => {
  it("sends a signed sample of the chosen type now, outside the event and delivery logs", async () => {
    const org = await createOrg();
    const { name, url } = receiverEndpoint("test-send");
    const hook = await createWebhook(org, { url, events: ["task.created"] });
    const eventsBefore = await eventCount(org.id);

    const res = await call<WebhookTestResult>("POST", `/v1/webhooks/${hook.id}/test`, {
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

    const defaulted = await call<WebhookTestResult>("POST", `/v1/webhooks/${hook.id}/test`, { key: org.keys.admin });
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

    const failed = await call<WebhookTestResult>("POST", `/v1/webhooks/${hook.id}/test`, {
      key: org.keys.admin,
      body: {},
    });
    expect(failed.body).toMatchObject({ success: false, statusCode: 500, error: "HTTP 500: boom" });
    const slow = await call<WebhookTestResult>("POST", `/v1/webhooks/${hook.id}/test`, {
      key: org.keys.admin,
      body: { eventType: "comment.created" },
    });
    expect(slow.body).toMatchObject({ success: false, statusCode: null, error: "Timed out after 2000 ms" });
    expect(slow.body.responseTimeMs).toBeGreaterThanOrEqual(1900);

    const after = await call<Webhook>("GET", `/v1/webhooks/${hook.id}`, { key: org.keys.admin });
    expect(after.body).toMatchObject({ enabled: true, consecutiveFailures: 0, deliverySuccessRate: null });
  });

  it("sends a sample of every catalog type", async () => {
    const org = await createOrg();
    const { name, url } = receiverEndpoint("samples");
    const hook = await createWebhook(org, { url, events: ["*"] });
    const { EVENT_TYPES } = await import("../src/events/catalog");
    for (const eventType of EVENT_TYPES) {
      const res = await call<WebhookTestResult>("POST", `/v1/webhooks/${hook.id}/test`, {
        key: org.keys.admin,
        body: { eventType },
      });
      expect(res.body.success).toBe(true);
      expect(res.body.payload.event).toBe(eventType);
      // webhook.* alerts are about a webhook: its id is data.webhook.id (README "Alerts").
      const data = res.body.payload.data as { id?: string; webhook?: { id: string } };
      expect(data.id ?? data.webhook?.id).toEqual(expect.any(String));
    }
    expect(await receivedBy(name)).toHaveLength(EVENT_TYPES.length);
  });
});
