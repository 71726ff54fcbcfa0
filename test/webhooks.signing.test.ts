import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import type { DeliveryDetail, Event, Page, Webhook as WebhookResource, WebhookWithSecret } from "./api-types";
import { call, createOrg } from "./harness";
import {
  addMember,
  createWebhook,
  payloadOf,
  receiverEndpoint,
  settledDelivery,
  verifyInNode,
  waitForRequests,
} from "./webhook-helpers";

// Real deliveries: the API commits an event, the local queue runs the Worker's own
// consumer, which POSTs to a Node HTTP server on 127.0.0.1 (test/webhook-receiver.setup.mjs).

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

    const events = await call<Page<Event>>("GET", `/v1/events?resourceId=${member.id}`, { key: org.keys.admin });
    const event = events.body.data[0]!;
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
    const detail = await call<DeliveryDetail>("GET", `/v1/webhooks/${hook.id}/deliveries/${delivery.id}`, {
      key: org.keys.admin,
    });
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
        // The very headers the receiver got: this attempt's timestamp and signatures.
        requestHeaders: expect.objectContaining({
          "X-Verk-Signature": headers["x-verk-signature"],
          "webhook-timestamp": headers["webhook-timestamp"],
          "webhook-signature": headers["webhook-signature"],
        }),
      },
    ]);
    const after = await call<WebhookResource>("GET", `/v1/webhooks/${hook.id}`, { key: org.keys.admin });
    expect(after.body).toMatchObject({ consecutiveFailures: 0, deliverySuccessRate: 1 });
    expect(after.body.lastTriggeredAt).toEqual(detail.body.attempts[0]!.attemptedAt);
  });

  it("signs with both secrets during a rotation's grace period", async () => {
    const org = await createOrg();
    const { name, url } = receiverEndpoint("rotation");
    const hook = await createWebhook(org, { url, events: ["member.added"] });
    const rotated = await call<WebhookWithSecret>("POST", `/v1/webhooks/${hook.id}/rotate-secret`, {
      key: org.keys.admin,
    });
    const newSecret = rotated.body.secret;
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
});
