import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../src/core/crypto";
import { KEY_PERMISSIONS } from "../src/core/enums";
import type { ApiKey, CreatedApiKey, Page, RotatedApiKey, User, Webhook, WebhookWithSecret } from "./api-types";
import { call, createOrg, errorOf, expectError, type TestOrg } from "./harness";
import { HOOK_URL } from "./webhook-helpers";

/** A key of the org's owner (or of `userId`) holding exactly `permissions`, made with the owner's admin key. */
async function keyWith(org: TestOrg, permissions: string[], userId?: string): Promise<CreatedApiKey> {
  const res = await call<CreatedApiKey>("POST", "/v1/api-keys", {
    key: org.keys.admin,
    body: { name: `only ${permissions.join(" ")}`, permissions, userId },
  });
  if (res.status !== 201) throw new Error(`key create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function addAdmin(org: TestOrg): Promise<User> {
  const res = await call<User>("POST", "/v1/users", {
    key: org.keys.admin,
    body: { name: "Ada Admin", email: `ada-${crypto.randomUUID()}@example.com`, role: "admin" },
  });
  expect(res.status).toBe(201);
  return res.body;
}

describe("API key permissions", () => {
  it("a webhooks:write key creates, updates and deletes webhooks, and can read neither tasks nor webhooks", async () => {
    const org = await createOrg();
    const { key, permissions, scope } = await keyWith(org, ["webhooks:write"]);
    expect({ scope, permissions }).toEqual({ scope: null, permissions: ["webhooks:write"] });

    const created = await call<WebhookWithSecret>("POST", "/v1/webhooks", {
      key,
      body: { url: HOOK_URL, events: ["task.created"] },
    });
    expect(created.status).toBe(201);
    const updated = await call<Webhook>("PATCH", `/v1/webhooks/${created.body.id}`, {
      key,
      body: { events: ["task.updated"] },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.events).toEqual(["task.updated"]);

    const tasks = await call("GET", "/v1/tasks", { key });
    expectError(tasks, 403, "FORBIDDEN");
    expect(errorOf(tasks).message).toContain("'tasks:read'");
    const read = await call("GET", `/v1/webhooks/${created.body.id}`, { key });
    expectError(read, 403, "FORBIDDEN");
    expect(errorOf(read).message).toContain("'webhooks:read'");

    expect((await call("DELETE", `/v1/webhooks/${created.body.id}`, { key })).status).toBe(200);
    const gone = await call("GET", `/v1/webhooks/${created.body.id}`, { key: org.keys.admin });
    expectError(gone, 404, "NOT_FOUND");
  });

  it("every key shows its permissions: a scope key its scope's set, a permission key its list with scope null", async () => {
    const org = await createOrg();
    const custom = await keyWith(org, ["tasks:write", "tasks:read", "tasks:read"]);
    // Stored once each, in catalog order.
    expect(custom.permissions).toEqual(["tasks:read", "tasks:write"]);
    const list = await call<Page<ApiKey>>("GET", "/v1/api-keys?limit=100", { key: org.keys.admin });
    const byId = new Map(list.body.data.map((k) => [k.id, k]));
    expect(byId.get(custom.id)).toMatchObject({ scope: null, permissions: ["tasks:read", "tasks:write"] });
    expect(byId.get(org.keyIds.read)).toMatchObject({
      scope: "read",
      permissions: ["tasks:read", "projects:read", "comments:read", "members:read", "events:read"],
    });
    expect(byId.get(org.keyIds.admin)?.permissions).toContain("keys:write");
  });

  it("a list equal to a scope's set stays a permission key (scope null)", async () => {
    const org = await createOrg();
    const readSet = ["tasks:read", "projects:read", "comments:read", "members:read", "events:read"];
    const key = await keyWith(org, readSet);
    expect(key).toMatchObject({ scope: null, permissions: readSet });
  });

  it("400 naming the field: an unknown or empty list, both scope and permissions, neither", async () => {
    const org = await createOrg();
    const cases = [
      [{ name: "x", permissions: ["tasks:delete"] }, "permissions.0"],
      [{ name: "x", permissions: ["tasks:read", "org:admin"] }, "permissions.1"],
      [{ name: "x", permissions: [] }, "permissions"],
      [{ name: "x", permissions: "tasks:read" }, "permissions"],
      [{ name: "x", scope: "read", permissions: ["tasks:read"] }, "permissions"],
      [{ name: "x" }, "scope"],
    ] as const;
    for (const [body, field] of cases) {
      expectError(await call("POST", "/v1/api-keys", { key: org.keys.admin, body }), 400, "VALIDATION_ERROR", field);
    }
  });

  it("a member's key cannot hold a permission their role does not allow", async () => {
    const org = await createOrg();
    const res = await call("POST", "/v1/api-keys", {
      key: org.keys.admin,
      body: { name: "too wide", permissions: ["tasks:read", "webhooks:write"], userId: org.member.id },
    });
    expectError(res, 400, "VALIDATION_ERROR", "permissions");
    expect(errorOf(res).message).toContain("'webhooks:write'");
    const allowed = await keyWith(org, ["tasks:write", "comments:write"], org.member.id);
    expect(allowed.permissions).toEqual(["tasks:write", "comments:write"]);
  });

  it("a key hands on only what it holds: creating or rotating a wider key is 403", async () => {
    const org = await createOrg();
    const keys = await keyWith(org, ["keys:write", "tasks:read"]);

    const wider = await call("POST", "/v1/api-keys", { key: keys.key, body: { name: "x", scope: "read" } });
    expectError(wider, 403, "FORBIDDEN");
    expect(errorOf(wider).message).toContain("'projects:read'");
    const narrower = await call<CreatedApiKey>("POST", "/v1/api-keys", {
      key: keys.key,
      body: { name: "reader", permissions: ["tasks:read"] },
    });
    expect(narrower.status).toBe(201);

    expectError(await call("POST", `/v1/api-keys/${org.keyIds.admin}/rotate`, { key: keys.key }), 403, "FORBIDDEN");
    // The owner's admin key still works: the refused rotation changed nothing.
    expect((await call("GET", "/v1/api-keys", { key: org.keys.admin })).status).toBe(200);
    const rotated = await call<RotatedApiKey>("POST", `/v1/api-keys/${narrower.body.id}/rotate`, { key: keys.key });
    expect(rotated.status).toBe(201);
  });

  it("rotation keeps the permissions", async () => {
    const org = await createOrg();
    const old = await keyWith(org, ["projects:read", "events:read"]);
    const rotated = await call<RotatedApiKey>("POST", `/v1/api-keys/${old.id}/rotate`, { key: org.keys.admin });
    expect(rotated.status).toBe(201);
    expect(rotated.body).toMatchObject({ scope: null, permissions: ["projects:read", "events:read"] });
    expect((await call("GET", "/v1/projects", { key: rotated.body.key })).status).toBe(200);
    expectError(await call("GET", "/v1/tasks", { key: rotated.body.key }), 403, "FORBIDDEN");
  });

  it("a demoted member's key loses the permissions their role no longer allows, at once; rotation re-issues the rest", async () => {
    const org = await createOrg();
    const admin = await addAdmin(org);
    const key = await keyWith(org, ["webhooks:write", "tasks:read"], admin.id);
    const hook = { url: HOOK_URL, events: ["task.created"] };
    expect((await call("POST", "/v1/webhooks", { key: key.key, body: hook })).status).toBe(201);

    const demoted = await call("PATCH", `/v1/users/${admin.id}`, { key: org.keys.admin, body: { role: "member" } });
    expect(demoted.status).toBe(200);
    const refused = await call("POST", "/v1/webhooks", { key: key.key, body: hook });
    expectError(refused, 403, "FORBIDDEN");
    expect(errorOf(refused).message).toContain("'webhooks:write'");
    expect((await call("GET", "/v1/tasks", { key: key.key })).status).toBe(200);

    const rotated = await call<RotatedApiKey>("POST", `/v1/api-keys/${key.id}/rotate`, { key: org.keys.admin });
    expect(rotated.status).toBe(201);
    expect(rotated.body).toMatchObject({ scope: null, permissions: ["tasks:read"] });
  });

  it("a key stored before permissions existed (scope only) authenticates with its scope's permissions", async () => {
    const org = await createOrg();
    const secret = `vk_live_Legacy${crypto.randomUUID().replaceAll("-", "")}`;
    await env.DB.prepare(
      "INSERT INTO api_keys (id, org_id, user_id, name, scope, key_hash, prefix, created_at) VALUES (?, ?, ?, 'legacy', 'write', ?, 'vk_live_bb', ?)",
    )
      .bind(
        `key_legacy${crypto.randomUUID().slice(0, 8)}`,
        org.id,
        org.owner.id,
        await sha256Hex(secret),
        new Date().toISOString(),
      )
      .run();
    expect((await call("GET", "/v1/tasks", { key: secret })).status).toBe(200);
    expectError(await call("GET", "/v1/webhooks", { key: secret }), 403, "FORBIDDEN");
  });
});

/** The key's permissions as the answer names them, or null when the header is absent. */
function permissionsHeader(res: { headers: Headers }): string[] | null {
  const value = res.headers.get("X-Verk-Permissions");
  return value === null ? null : value.split(",").filter(Boolean);
}

describe("X-Verk-Permissions: what the key may do, on every authenticated answer", () => {
  it("a scope key's answers list exactly its scope's permissions, in catalog order", async () => {
    const org = await createOrg();
    const res = await call("GET", "/v1/projects", { key: org.keys.read });
    expect(res.status).toBe(200);
    expect(permissionsHeader(res)).toEqual([
      "tasks:read",
      "projects:read",
      "comments:read",
      "members:read",
      "events:read",
    ]);
    const admin = await call("GET", "/v1/webhooks", { key: org.keys.admin });
    expect(permissionsHeader(admin)).toEqual([...KEY_PERMISSIONS]);
  });

  it("a permission-list key's answers list its list in catalog order, on a 403 too", async () => {
    const org = await createOrg();
    const { key } = await keyWith(org, ["webhooks:write", "events:read", "webhooks:read"]);
    const allowed = await call("GET", "/v1/webhooks", { key });
    expect(allowed.status).toBe(200);
    expect(permissionsHeader(allowed)).toEqual(["events:read", "webhooks:read", "webhooks:write"]);

    // A refusal still tells the client the key is valid and what it holds.
    const refused = await call("GET", "/v1/users/me", { key });
    expectError(refused, 403, "FORBIDDEN");
    expect(permissionsHeader(refused)).toEqual(["events:read", "webhooks:read", "webhooks:write"]);
    const missing = await call("GET", "/v1/webhooks/wh_missing", { key });
    expectError(missing, 404, "NOT_FOUND");
    expect(permissionsHeader(missing)).toEqual(["events:read", "webhooks:read", "webhooks:write"]);
  });

  it("after a member's demotion the header drops what the role no longer allows, at once", async () => {
    const org = await createOrg();
    const admin = await addAdmin(org);
    const key = await keyWith(org, ["tasks:read", "keys:read", "webhooks:read"], admin.id);
    const before = await call("GET", "/v1/tasks", { key: key.key });
    expect(permissionsHeader(before)).toEqual(["tasks:read", "keys:read", "webhooks:read"]);

    const demoted = await call("PATCH", `/v1/users/${admin.id}`, { key: org.keys.admin, body: { role: "member" } });
    expect(demoted.status).toBe(200);
    const after = await call("GET", "/v1/tasks", { key: key.key });
    expect(after.status).toBe(200);
    expect(permissionsHeader(after)).toEqual(["tasks:read"]);
    // The header and the check agree: what it no longer lists is refused.
    const webhooks = await call("GET", "/v1/webhooks", { key: key.key });
    expectError(webhooks, 403, "FORBIDDEN");
    expect(permissionsHeader(webhooks)).toEqual(["tasks:read"]);
  });

  it("is absent when the key is missing, malformed or unknown (401)", async () => {
    const none = await call("GET", "/v1/tasks");
    expectError(none, 401, "UNAUTHORIZED");
    expect(none.headers.get("X-Verk-Permissions")).toBeNull();
    const unknown = await call("GET", "/v1/tasks", { key: `vk_live_${"x".repeat(40)}` });
    expectError(unknown, 401, "UNAUTHORIZED");
    expect(unknown.headers.get("X-Verk-Permissions")).toBeNull();
  });
});
