import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { decryptSecret } from "../src/webhooks/secrets";
import type { OpenApiDocument, Page, Webhook, WebhookWithSecret } from "./api-types";
import { call, createOrg, errorOf, expectError, type TestOrg } from "./harness";
import { createWebhook, HOOK_URL } from "./webhook-helpers";

async function insertProject(org: TestOrg): Promise<string> {
  const id = `proj_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
  const now = new Date().toISOString();
  await env.DB.prepare(
    "INSERT INTO projects (id, org_id, name, archived, created_by, etag, created_at, updated_at) VALUES (?, ?, 'P', 0, ?, 'e', ?, ?)",
  )
    .bind(id, org.id, org.owner.id, now, now)
    .run();
  return id;
}

describe("webhooks: managing (happy paths)", () => {
  it("creates a webhook with a generated whsec_ secret, shown only on create and stored encrypted", async () => {
    const org = await createOrg();
    const res = await call<WebhookWithSecret>("POST", "/v1/webhooks", {
      key: org.keys.admin,
      body: { url: HOOK_URL, events: ["task.created", "task.completed", "task.created"], description: "CI" },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("Location")).toBe(`/v1/webhooks/${res.body.id}`);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^wh_/),
      url: HOOK_URL,
      events: ["task.completed", "task.created"],
      filters: { projectId: null, assigneeId: null },
      description: "CI",
      enabled: true,
      disabledReason: null,
      consecutiveFailures: 0,
      lastTriggeredAt: null,
      deliverySuccessRate: null,
      previousSecretExpiresAt: null,
    });
    const secret: string = res.body.secret;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(secret.slice(6)).length).toBe(32);

    const row = await env.DB.prepare("SELECT secret_ciphertext FROM webhooks WHERE id = ?")
      .bind(res.body.id)
      .first<{ secret_ciphertext: string }>();
    expect(row!.secret_ciphertext).not.toContain(secret.slice(6, 20));
    expect(await decryptSecret(env, row!.secret_ciphertext, { webhookId: res.body.id, slot: "current" })).toBe(secret);

    const got = await call("GET", `/v1/webhooks/${res.body.id}`, { key: org.keys.admin });
    expect(got.status).toBe(200);
    expect(got.body).not.toHaveProperty("secret");
    const { secret: _omitted, ...withoutSecret } = res.body;
    expect(got.body).toEqual(withoutSecret);
    const list = await call<Page<Webhook>>("GET", "/v1/webhooks", { key: org.keys.admin });
    expect(list.body.data).toEqual([withoutSecret]);
    expect(list.body.pagination).toEqual({ total: 1, page: 1, limit: 50, totalPages: 1, nextCursor: null });
  });

  it("accepts a secret of the customer's own and the wildcard subscription", async () => {
    const org = await createOrg();
    const res = await call<WebhookWithSecret>("POST", "/v1/webhooks", {
      key: org.keys.admin,
      body: { url: HOOK_URL, events: ["*"], secret: "your_webhook_secret_12345", enabled: false },
    });
    expect(res.status).toBe(201);
    expect(res.body.secret).toBe("your_webhook_secret_12345");
    expect(res.body.events).toEqual(["*"]);
    expect(res.body.enabled).toBe(false);
  });

  it("filters by a project and an assignee of the organization; PATCH merges and clears them", async () => {
    const org = await createOrg();
    const projectId = await insertProject(org);
    const hook = await createWebhook(org, {
      url: HOOK_URL,
      events: ["task.created"],
      filters: { projectId, assigneeId: org.member.id },
    });
    expect(hook.filters).toEqual({ projectId, assigneeId: org.member.id });

    const merged = await call<Webhook>("PATCH", `/v1/webhooks/${hook.id}`, {
      key: org.keys.admin,
      body: { filters: { assigneeId: null } },
    });
    expect(merged.status).toBe(200);
    expect(merged.body.filters).toEqual({ projectId, assigneeId: null });
    const cleared = await call<Webhook>("PATCH", `/v1/webhooks/${hook.id}`, {
      key: org.keys.admin,
      body: { filters: null },
    });
    expect(cleared.body.filters).toEqual({ projectId: null, assigneeId: null });
  });

  it("updates url, events and description, and changes updatedAt", async () => {
    const org = await createOrg();
    const hook = await createWebhook(org, { url: HOOK_URL, events: ["task.created"] });
    const res = await call<Webhook>("PATCH", `/v1/webhooks/${hook.id}`, {
      key: org.keys.admin,
      body: { url: "https://other.example.com/in", events: ["project.created"], description: "moved" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      url: "https://other.example.com/in",
      events: ["project.created"],
      description: "moved",
    });
    expect(res.body.updatedAt >= hook.updatedAt).toBe(true);
    const unchanged = await call("PATCH", `/v1/webhooks/${hook.id}`, { key: org.keys.admin, body: {} });
    expect(unchanged.body).toEqual(res.body);
  });

  it('re-enables a disabled webhook with {"enabled": true}, resetting failures and the reason', async () => {
    const org = await createOrg();
    const hook = await createWebhook(org, { url: HOOK_URL, events: ["task.created"] });
    await env.DB.prepare(
      "UPDATE webhooks SET enabled = 0, consecutive_failures = 100, disabled_reason = 'Disabled after 100' WHERE id = ?",
    )
      .bind(hook.id)
      .run();
    const disabled = await call("GET", `/v1/webhooks/${hook.id}`, { key: org.keys.admin });
    expect(disabled.body).toMatchObject({
      enabled: false,
      consecutiveFailures: 100,
      disabledReason: "Disabled after 100",
    });

    const res = await call("PATCH", `/v1/webhooks/${hook.id}`, { key: org.keys.admin, body: { enabled: true } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ enabled: true, consecutiveFailures: 0, disabledReason: null });

    const paused = await call("PATCH", `/v1/webhooks/${hook.id}`, { key: org.keys.admin, body: { enabled: false } });
    expect(paused.body).toMatchObject({ enabled: false, disabledReason: null });
    const onlyEnabled = await call<Page<Webhook>>("GET", "/v1/webhooks?enabled=true", { key: org.keys.admin });
    expect(onlyEnabled.body.data).toEqual([]);
    const onlyDisabled = await call<Page<Webhook>>("GET", "/v1/webhooks?enabled=false", { key: org.keys.admin });
    expect(onlyDisabled.body.data.map((w) => w.id)).toEqual([hook.id]);
  });

  it("rotates the secret: a new one is shown once and the old one signs until the grace period ends", async () => {
    const org = await createOrg();
    const hook = await createWebhook(org, { url: HOOK_URL, events: ["task.created"] });
    const before = Date.now();
    const res = await call<WebhookWithSecret>("POST", `/v1/webhooks/${hook.id}/rotate-secret`, { key: org.keys.admin });
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.body.secret).toMatch(/^whsec_/);
    expect(res.body.secret).not.toBe(hook.secret);
    const graceEnds = Date.parse(res.body.previousSecretExpiresAt!);
    expect(graceEnds - before).toBeGreaterThan(86_390_000);
    expect(graceEnds - before).toBeLessThan(86_410_000);

    const row = await env.DB.prepare("SELECT secret_ciphertext, previous_secret_ciphertext FROM webhooks WHERE id = ?")
      .bind(hook.id)
      .first<{ secret_ciphertext: string; previous_secret_ciphertext: string }>();
    expect(await decryptSecret(env, row!.secret_ciphertext, { webhookId: hook.id, slot: "current" })).toBe(
      res.body.secret,
    );
    expect(await decryptSecret(env, row!.previous_secret_ciphertext, { webhookId: hook.id, slot: "previous" })).toBe(
      hook.secret,
    );

    const given = await call<WebhookWithSecret>("POST", `/v1/webhooks/${hook.id}/rotate-secret`, {
      key: org.keys.admin,
      body: { secret: "my-own-rotated-secret-0001" },
    });
    expect(given.body.secret).toBe("my-own-rotated-secret-0001");
  });

  it("replays a create or rotation under the same Idempotency-Key once, without the secret", async () => {
    const org = await createOrg();
    const headers = { "Idempotency-Key": `create-${crypto.randomUUID()}` };
    const body = { url: HOOK_URL, events: ["task.created"] };
    const first = await call<WebhookWithSecret>("POST", "/v1/webhooks", { key: org.keys.admin, body, headers });
    const replay = await call<Webhook>("POST", "/v1/webhooks", { key: org.keys.admin, body, headers });
    expect(first.status).toBe(201);
    expect(replay.status).toBe(201);
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expect(replay.body.id).toBe(first.body.id);
    expect(first.body.secret).toMatch(/^whsec_/);
    expect(replay.body).not.toHaveProperty("secret");
    const list = await call<Page<Webhook>>("GET", "/v1/webhooks", { key: org.keys.admin });
    expect(list.body.pagination.total).toBe(1);
    const stored = await env.DB.prepare("SELECT response_body FROM idempotency_keys WHERE org_id = ?")
      .bind(org.id)
      .all<{ response_body: string }>();
    for (const row of stored.results) expect(row.response_body).not.toContain(first.body.secret);

    const rotateHeaders = { "Idempotency-Key": `rotate-${crypto.randomUUID()}` };
    const path = `/v1/webhooks/${first.body.id}/rotate-secret`;
    const rotated = await call<WebhookWithSecret>("POST", path, { key: org.keys.admin, headers: rotateHeaders });
    const rotatedAgain = await call("POST", path, { key: org.keys.admin, headers: rotateHeaders });
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotatedAgain.body).not.toHaveProperty("secret");
    const row = await env.DB.prepare("SELECT secret_ciphertext FROM webhooks WHERE id = ?")
      .bind(first.body.id)
      .first<{ secret_ciphertext: string }>();
    // Rotated once: the replay did not rotate again.
    expect(await decryptSecret(env, row!.secret_ciphertext, { webhookId: first.body.id, slot: "current" })).toBe(
      rotated.body.secret,
    );
  });

  it("deletes a webhook with its delivery log", async () => {
    const org = await createOrg();
    const hook = await createWebhook(org, { url: HOOK_URL, events: ["task.created"] });
    const now = new Date().toISOString();
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, status, created_at, updated_at) VALUES ('del_x1', ?, ?, 'evt_x1', 'task.created', 'failed', ?, ?)",
      ).bind(org.id, hook.id, now, now),
      env.DB.prepare(
        "INSERT INTO delivery_attempts (id, delivery_id, attempt_number, attempted_at) VALUES ('att_x1', 'del_x1', 1, ?)",
      ).bind(now),
    ]);
    const res = await call("DELETE", `/v1/webhooks/${hook.id}`, { key: org.keys.admin });
    expect(res.status).toBe(204);
    expectError(await call("GET", `/v1/webhooks/${hook.id}`, { key: org.keys.admin }), 404, "NOT_FOUND");
    const left = await env.DB.prepare(
      "SELECT (SELECT COUNT(*) FROM deliveries WHERE id = 'del_x1') + (SELECT COUNT(*) FROM delivery_attempts WHERE id = 'att_x1') AS n",
    ).first<{ n: number }>();
    expect(left!.n).toBe(0);
  });

  it("lists with pagination and sorting", async () => {
    const org = await createOrg();
    const ids: string[] = [];
    for (const path of ["c", "a", "b"])
      ids.push((await createWebhook(org, { url: `${HOOK_URL}/${path}`, events: ["*"] })).id);
    const page = await call<Page<Webhook>>("GET", "/v1/webhooks?limit=2&page=2&sortBy=createdAt&order=asc", {
      key: org.keys.admin,
    });
    expect(page.status).toBe(200);
    expect(page.body.data.map((w) => w.id)).toEqual([ids[2]]);
    expect(page.body.pagination).toEqual({ total: 3, page: 2, limit: 2, totalPages: 2, nextCursor: null });
    const byUrl = await call<Page<Webhook>>("GET", "/v1/webhooks?sortBy=url&order=asc", { key: org.keys.admin });
    expect(byUrl.body.data.map((w) => w.url.slice(-1))).toEqual(["a", "b", "c"]);
  });

  it("documents every webhook operation in the OpenAPI document", async () => {
    const doc = await call<OpenApiDocument>("GET", "/openapi.json");
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        "/v1/webhooks",
        "/v1/webhooks/{id}",
        "/v1/webhooks/{id}/rotate-secret",
        "/v1/webhooks/{id}/test",
        "/v1/webhooks/{id}/deliveries",
        "/v1/webhooks/{id}/deliveries/{deliveryId}",
        "/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver",
      ]),
    );
    expect(doc.body.components.schemas.CreateWebhook!.required).toEqual(expect.arrayContaining(["url", "events"]));
  });
});

describe("webhooks: plan limits", () => {
  it("refuses a third webhook on the free plan with PLAN_LIMIT, and admits one after a deletion", async () => {
    const org = await createOrg({ plan: "free" });
    const first = await createWebhook(org, { url: HOOK_URL, events: ["*"] });
    await createWebhook(org, { url: HOOK_URL, events: ["*"] });
    const third = await call("POST", "/v1/webhooks", { key: org.keys.admin, body: { url: HOOK_URL, events: ["*"] } });
    expectError(third, 403, "PLAN_LIMIT");
    expect(third.body.error.message).toContain("free plan allows 2 webhooks");
    await call("DELETE", `/v1/webhooks/${first.id}`, { key: org.keys.admin });
    await createWebhook(org, { url: HOOK_URL, events: ["*"] });
  });

  it("holds the limit under concurrent creations", async () => {
    const org = await createOrg({ plan: "free" });
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        call("POST", "/v1/webhooks", { key: org.keys.admin, body: { url: HOOK_URL, events: ["*"] } }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(2);
    expect(results.filter((r) => r.status === 403 && errorOf(r).code === "PLAN_LIMIT")).toHaveLength(4);
    const list = await call<Page<Webhook>>("GET", "/v1/webhooks", { key: org.keys.admin });
    expect(list.body.pagination.total).toBe(2);
  });

  it("lets pro organizations go past two", async () => {
    const org = await createOrg({ plan: "pro" });
    for (let i = 0; i < 3; i += 1) await createWebhook(org, { url: HOOK_URL, events: ["*"] });
  });
});
