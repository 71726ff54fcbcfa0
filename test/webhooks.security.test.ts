import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Page, Webhook } from "./api-types";
import { call, createOrg, errorOf, expectError, type TestOrg } from "./harness";
import { createWebhook, HOOK_URL } from "./webhook-helpers";

describe("webhooks: security", () => {
  /** Every webhook operation, for a webhook and delivery id that exist. */
  function operations(webhookId: string, deliveryId: string): [string, string, unknown?][] {
    return [
      ["GET", "/v1/webhooks"],
      ["POST", "/v1/webhooks", { url: HOOK_URL, events: ["*"] }],
      ["GET", `/v1/webhooks/${webhookId}`],
      ["PATCH", `/v1/webhooks/${webhookId}`, { description: "x" }],
      ["DELETE", `/v1/webhooks/${webhookId}`],
      ["POST", `/v1/webhooks/${webhookId}/rotate-secret`, {}],
      ["POST", `/v1/webhooks/${webhookId}/test`, {}],
      ["GET", `/v1/webhooks/${webhookId}/deliveries`],
      ["GET", `/v1/webhooks/${webhookId}/deliveries/${deliveryId}`],
      ["POST", `/v1/webhooks/${webhookId}/deliveries/${deliveryId}/redeliver`, {}],
    ];
  }

  async function withDelivery(org: TestOrg) {
    const hook = await createWebhook(org, { url: HOOK_URL, events: ["*"] });
    const deliveryId = `del_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
    const now = new Date().toISOString();
    await env.DB.prepare(
      "INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, status, created_at, updated_at) VALUES (?, ?, ?, 'evt_none', 'task.created', 'failed', ?, ?)",
    )
      .bind(deliveryId, org.id, hook.id, now, now)
      .run();
    return { hook, deliveryId };
  }

  it("answers 401 without a key and 403 to read and write keys, changing nothing", async () => {
    const org = await createOrg();
    const { hook, deliveryId } = await withDelivery(org);
    for (const [method, path, body] of operations(hook.id, deliveryId)) {
      expectError(await call(method, path, { body }), 401, "UNAUTHORIZED");
      expectError(await call(method, path, { key: org.keys.read, body }), 403, "FORBIDDEN");
      expectError(await call(method, path, { key: org.keys.write, body }), 403, "FORBIDDEN");
      expectError(await call(method, path, { key: org.member.key, body }), 403, "FORBIDDEN");
    }
    const still = await call<Webhook>("GET", `/v1/webhooks/${hook.id}`, { key: org.keys.admin });
    expect(still.status).toBe(200);
    expect(still.body.description).toBeNull();
  });

  it("answers 404 for another organization's webhook and delivery, changing nothing", async () => {
    const owner = await createOrg();
    const intruder = await createOrg();
    const { hook, deliveryId } = await withDelivery(owner);
    for (const [method, path, body] of operations(hook.id, deliveryId).slice(2)) {
      expectError(await call(method, path, { key: intruder.keys.admin, body }), 404, "NOT_FOUND");
    }
    const intruderList = await call<Page<Webhook>>("GET", "/v1/webhooks", { key: intruder.keys.admin });
    expect(intruderList.body.data).toEqual([]);
    const still = await call<Webhook>("GET", `/v1/webhooks/${hook.id}`, { key: owner.keys.admin });
    expect(still.body).toMatchObject({ description: null, url: HOOK_URL });
    // A delivery id of another webhook, even of the same organization, is not found under this one.
    const sibling = await createWebhook(owner, { url: HOOK_URL, events: ["*"] });
    expectError(
      await call("GET", `/v1/webhooks/${sibling.id}/deliveries/${deliveryId}`, { key: owner.keys.admin }),
      404,
      "NOT_FOUND",
    );
  });

  it("answers 404 for unknown ids and never takes /webhooks/incoming… for a webhook id", async () => {
    const org = await createOrg();
    expectError(await call("GET", "/v1/webhooks/wh_doesnotexist0000000", { key: org.keys.admin }), 404, "NOT_FOUND");
    expectError(await call("GET", "/v1/webhooks/not-a-webhook-id", { key: org.keys.admin }), 404, "NOT_FOUND");
    // Those paths belong to the incoming-webhooks router (its own credentials), not to a webhook id.
    for (const [method, path] of [
      ["GET", "/v1/webhooks/incoming"],
      ["PATCH", "/v1/webhooks/incoming"],
      ["DELETE", "/v1/webhooks/incoming"],
      ["POST", "/v1/webhooks/incoming/test"],
      ["POST", "/v1/webhooks/incoming/rotate-secret"],
      ["GET", "/v1/webhooks/incoming/deliveries"],
    ]) {
      const res = await call(method!, path!, { key: org.keys.admin, body: method === "GET" ? undefined : {} });
      expect([401, 404, 405]).toContain(res.status);
      expect(errorOf(res).message).not.toContain("Webhook not found");
    }
  });

  it("never returns the secret outside create and rotate", async () => {
    const org = await createOrg();
    const hook = await createWebhook(org, { url: HOOK_URL, events: ["*"] });
    const responses = [
      await call("GET", "/v1/webhooks", { key: org.keys.admin }),
      await call("GET", `/v1/webhooks/${hook.id}`, { key: org.keys.admin }),
      await call("PATCH", `/v1/webhooks/${hook.id}`, { key: org.keys.admin, body: { description: "d" } }),
    ];
    for (const res of responses) expect(JSON.stringify(res.body)).not.toContain(hook.secret);
  });
});
