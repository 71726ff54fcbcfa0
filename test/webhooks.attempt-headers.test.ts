import { describe, expect, it } from "vitest";
import type { DeliveryDetail } from "./api-types";
import { call, createOrg } from "./harness";
import {
  addMember,
  createWebhook,
  receivedBy,
  receiverEndpoint,
  scriptReceiver,
  settledDelivery,
  verifyInNode,
} from "./webhook-helpers";
import { deliver, pendingDelivery } from "./webhook-queue";

// The delivery detail shows the headers each attempt sent, so a receiver's engineer can
// check a signature by hand against the payload and the webhook's secret.

const SIGNING_HEADERS = [
  "X-Verk-Event",
  "X-Verk-Delivery",
  "X-Verk-Signature",
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
] as const;

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

describe("webhooks: the headers each attempt sent", { timeout: 40_000 }, () => {
  it("keeps each attempt's own headers (first after the commit, the retry from the queue), and they verify", async () => {
    const org = await createOrg();
    const { name, url } = receiverEndpoint("attempt-headers");
    await scriptReceiver(name, [{ status: 500, body: "warming up" }]);
    const hook = await createWebhook(org, { url, events: ["member.added"] });
    await addMember(org);

    const delivery = await settledDelivery(org, hook.id, "succeeded");
    const detail = await call<DeliveryDetail>("GET", `/v1/webhooks/${hook.id}/deliveries/${delivery.id}`, {
      key: org.keys.admin,
    });
    expect(detail.status).toBe(200);
    const received = await receivedBy(name);
    expect(detail.body.attempts.map((a) => a.statusCode)).toEqual([500, 200]);
    expect(received).toHaveLength(2);

    const stored = detail.body.attempts.map((a) => a.requestHeaders!);
    for (const [i, headers] of stored.entries()) {
      expect(headers).not.toBeNull();
      expect(headers).toMatchObject({
        "Content-Type": "application/json",
        "User-Agent": "Verk-Webhooks/1.0",
        "X-Verk-Event": "member.added",
        "X-Verk-Delivery": delivery.id,
        "webhook-id": delivery.id,
      });
      // Exactly what the receiver got, and it verifies against the payload with the webhook's secret.
      const got = received[i]!;
      for (const header of SIGNING_HEADERS) expect(got.headers[header.toLowerCase()]).toBe(headers[header]);
      expect(await verifyInNode(got.body, headers, hook.secret)).toEqual({ seed: true, standard: true });
      expect(await verifyInNode(JSON.stringify(detail.body.payload), headers, hook.secret)).toEqual({
        seed: true,
        standard: true,
      });
      expect(Object.values(headers).join(" ")).not.toContain(hook.secret);
    }
    // The retry was signed anew: its own timestamp, so its own Standard Webhooks signature.
    expect(Number(stored[1]!["webhook-timestamp"])).toBeGreaterThan(Number(stored[0]!["webhook-timestamp"]));
    expect(stored[1]!["webhook-signature"]).not.toBe(stored[0]!["webhook-signature"]);
    expect(stored[1]!["X-Verk-Signature"]).toBe(stored[0]!["X-Verk-Signature"]);
  });

  it("keeps the headers of an attempt made from the queue, and none for an attempt never sent", async () => {
    const { org, endpoint, hook, deliveryId } = await pendingDelivery("attempt-headers-queue");
    await deliver(deliveryId);
    const [got] = await receivedBy(endpoint.name);
    const detail = await call<DeliveryDetail>("GET", `/v1/webhooks/${hook.id}/deliveries/${deliveryId}`, {
      key: org.keys.admin,
    });
    const [attempt] = detail.body.attempts;
    expect(attempt!.statusCode).toBe(200);
    expect(lowerCased(attempt!.requestHeaders!)).toMatchObject({
      "x-verk-signature": got!.headers["x-verk-signature"],
      "webhook-timestamp": got!.headers["webhook-timestamp"],
      "webhook-signature": got!.headers["webhook-signature"],
    });
    expect(await verifyInNode(got!.body, attempt!.requestHeaders!, hook.secret)).toEqual({
      seed: true,
      standard: true,
    });

    const disabled = await pendingDelivery("attempt-headers-disabled");
    const patched = await call("PATCH", `/v1/webhooks/${disabled.hook.id}`, {
      key: disabled.org.keys.admin,
      body: { enabled: false },
    });
    expect(patched.status).toBe(200);
    await deliver(disabled.deliveryId);
    const notSent = await call<DeliveryDetail>(
      "GET",
      `/v1/webhooks/${disabled.hook.id}/deliveries/${disabled.deliveryId}`,
      { key: disabled.org.keys.admin },
    );
    expect(notSent.body.attempts).toHaveLength(1);
    expect(notSent.body.attempts[0]).toMatchObject({ statusCode: null, requestHeaders: null });
    expect(await receivedBy(disabled.endpoint.name)).toHaveLength(0);
  });

  it("does not show another organization an attempt's headers", async () => {
    const { org, hook, deliveryId } = await pendingDelivery("attempt-headers-other-org");
    await deliver(deliveryId);
    const other = await createOrg();
    const res = await call("GET", `/v1/webhooks/${hook.id}/deliveries/${deliveryId}`, { key: other.keys.admin });
    expect(res.status).toBe(404);
    expect(JSON.stringify(res.body)).not.toContain("webhook-signature");
    const own = await call<DeliveryDetail>("GET", `/v1/webhooks/${hook.id}/deliveries/${deliveryId}`, {
      key: org.keys.admin,
    });
    expect(own.body.attempts[0]!.requestHeaders!["webhook-signature"]).toMatch(/^v1,/);
  });
});
