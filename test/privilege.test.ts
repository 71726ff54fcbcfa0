import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { CreatedApiKey, Project, User } from "./api-types";
import { call, createOrg, expectError, type TestOrg } from "./harness";

/** An org whose owner added an admin (with an admin key) beside the plain member. */
async function orgWithAdmin(): Promise<TestOrg & { admin: { id: string; key: string; keyId: string } }> {
  const org = await createOrg();
  const added = await call<User>("POST", "/v1/users", {
    key: org.keys.admin,
    body: { name: "Ada Admin", email: `ada-${crypto.randomUUID()}@example.com`, role: "admin" },
  });
  expect(added.status).toBe(201);
  const key = await call<CreatedApiKey>("POST", "/v1/api-keys", {
    key: org.keys.admin,
    body: { name: "ada", scope: "admin", userId: added.body.id },
  });
  expect(key.status).toBe(201);
  return { ...org, admin: { id: added.body.id, key: key.body.key, keyId: key.body.id } };
}

async function roleOf(userId: string): Promise<string | undefined> {
  const row = await env.DB.prepare("SELECT role FROM users WHERE id = ?").bind(userId).first<{ role: string }>();
  return row?.role;
}

describe("privilege: keys", () => {
  it("an admin cannot create, revoke or rotate the owner's keys; the owner's key keeps working", async () => {
    const org = await orgWithAdmin();
    const create = await call("POST", "/v1/api-keys", {
      key: org.admin.key,
      body: { name: "takeover", scope: "admin", userId: org.owner.id },
    });
    expectError(create, 403, "FORBIDDEN");
    expectError(await call("DELETE", `/v1/api-keys/${org.keyIds.admin}`, { key: org.admin.key }), 403, "FORBIDDEN");
    expectError(
      await call("POST", `/v1/api-keys/${org.keyIds.admin}/rotate`, { key: org.admin.key, body: {} }),
      403,
      "FORBIDDEN",
    );
    const ownerKeys = await env.DB.prepare(
      "SELECT count(*) AS n FROM api_keys WHERE user_id = ? AND revoked_at IS NULL",
    )
      .bind(org.owner.id)
      .first<{ n: number }>();
    expect(ownerKeys?.n).toBe(3);
    expect((await call("GET", "/v1/users/me", { key: org.keys.admin })).status).toBe(200);
  });

  it("an admin cannot manage another admin's keys, but manages their own and a member's", async () => {
    const org = await orgWithAdmin();
    const other = await call<User>("POST", "/v1/users", {
      key: org.keys.admin,
      body: { name: "Other Admin", email: `oa-${crypto.randomUUID()}@example.com`, role: "admin" },
    });
    const forOther = await call("POST", "/v1/api-keys", {
      key: org.admin.key,
      body: { name: "x", scope: "read", userId: other.body.id },
    });
    expectError(forOther, 403, "FORBIDDEN");
    const own = await call<CreatedApiKey>("POST", "/v1/api-keys", {
      key: org.admin.key,
      body: { name: "mine", scope: "read" },
    });
    expect(own.status).toBe(201);
    const forMember = await call<CreatedApiKey>("POST", "/v1/api-keys", {
      key: org.admin.key,
      body: { name: "m", scope: "write", userId: org.member.id },
    });
    expect(forMember.status).toBe(201);
    expect((await call("DELETE", `/v1/api-keys/${forMember.body.id}`, { key: org.admin.key })).status).toBe(200);
    const rotated = await call("POST", `/v1/api-keys/${own.body.id}/rotate`, { key: org.admin.key, body: {} });
    expect(rotated.status).toBe(201);
  });

  it("a key's scope never exceeds its member's role", async () => {
    const org = await orgWithAdmin();
    const res = await call("POST", "/v1/api-keys", {
      key: org.admin.key,
      body: { name: "too wide", scope: "admin", userId: org.member.id },
    });
    expectError(res, 400, "VALIDATION_ERROR", "scope");
  });

  it("concurrent rotations of one key: exactly one succeeds, the rest 409, one live successor", async () => {
    const org = await createOrg();
    const key = await call<CreatedApiKey>("POST", "/v1/api-keys", {
      key: org.keys.admin,
      body: { name: "raced", scope: "read" },
    });
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        call("POST", `/v1/api-keys/${key.body.id}/rotate`, { key: org.keys.admin, body: { gracePeriodSeconds: 60 } }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409, 409]);
    for (const refused of results.filter((r) => r.status === 409)) expectError(refused, 409, "CONFLICT");
    const live = await env.DB.prepare(
      "SELECT count(*) AS n FROM api_keys WHERE org_id = ? AND name = 'raced' AND revoked_at IS NULL",
    )
      .bind(org.id)
      .first<{ n: number }>();
    expect(live?.n).toBe(1);
  });
});

describe("privilege: roles and removals", () => {
  it("an admin cannot raise anyone to admin, nor touch the owner or another admin; demoting oneself is allowed", async () => {
    const org = await orgWithAdmin();
    expectError(
      await call("PATCH", `/v1/users/${org.member.id}`, { key: org.admin.key, body: { role: "admin" } }),
      403,
      "FORBIDDEN",
    );
    expectError(
      await call("POST", "/v1/users", {
        key: org.admin.key,
        body: { name: "New Admin", email: `na-${crypto.randomUUID()}@example.com`, role: "admin" },
      }),
      403,
      "FORBIDDEN",
    );
    expectError(
      await call("PATCH", `/v1/users/${org.owner.id}`, { key: org.admin.key, body: { role: "member" } }),
      403,
      "FORBIDDEN",
    );
    expectError(
      await call("PATCH", `/v1/users/${org.admin.id}`, { key: org.admin.key, body: { role: "owner" } }),
      403,
      "FORBIDDEN",
    );
    const other = await call<User>("POST", "/v1/users", {
      key: org.keys.admin,
      body: { name: "Other Admin", email: `oa-${crypto.randomUUID()}@example.com`, role: "admin" },
    });
    expectError(
      await call("PATCH", `/v1/users/${other.body.id}`, { key: org.admin.key, body: { role: "member" } }),
      403,
      "FORBIDDEN",
    );
    expectError(await call("DELETE", `/v1/users/${other.body.id}`, { key: org.admin.key }), 403, "FORBIDDEN");
    expect(await roleOf(org.owner.id)).toBe("owner");
    expect(await roleOf(other.body.id)).toBe("admin");

    const self = await call("PATCH", `/v1/users/${org.admin.id}`, { key: org.admin.key, body: { role: "member" } });
    expect(self.status).toBe(200);
    expect(await roleOf(org.admin.id)).toBe("member");
    // The demotion reached the admin's key at once: its scope is capped at write.
    expectError(await call("GET", "/v1/api-keys", { key: org.admin.key }), 403, "FORBIDDEN");
  });

  it("an admin removes a member but not the owner", async () => {
    const org = await orgWithAdmin();
    expect((await call("DELETE", `/v1/users/${org.member.id}`, { key: org.admin.key })).status).toBe(200);
    expectError(await call("DELETE", `/v1/users/${org.owner.id}`, { key: org.admin.key }), 409, "CONFLICT");
  });

  it("the owner hands the organization over: exactly one owner, both changes as events", async () => {
    const org = await orgWithAdmin();
    const res = await call<User>("PATCH", `/v1/users/${org.admin.id}`, {
      key: org.keys.admin,
      body: { role: "owner" },
    });
    expect(res.status).toBe(200);
    expect(res.body.role).toBe("owner");
    expect(await roleOf(org.owner.id)).toBe("admin");
    const owners = await env.DB.prepare("SELECT count(*) AS n FROM users WHERE org_id = ? AND role = 'owner'")
      .bind(org.id)
      .first<{ n: number }>();
    expect(owners?.n).toBe(1);
    const { results } = await env.DB.prepare(
      "SELECT resource_id, changes FROM events WHERE org_id = ? AND type = 'member.role_changed' ORDER BY resource_id",
    )
      .bind(org.id)
      .all<{ resource_id: string; changes: string }>();
    expect(Object.fromEntries(results.map((r) => [r.resource_id, JSON.parse(r.changes).role]))).toEqual({
      [org.admin.id]: { from: "admin", to: "owner" },
      [org.owner.id]: { from: "owner", to: "admin" },
    });
    // The former owner is now outranked: the new owner's keys are out of their reach.
    expectError(await call("DELETE", `/v1/api-keys/${org.admin.keyId}`, { key: org.keys.admin }), 403, "FORBIDDEN");
  });

  it("every event records the real actor: the calling member and key", async () => {
    const org = await orgWithAdmin();
    await call("PATCH", `/v1/users/${org.member.id}`, { key: org.admin.key, body: { name: "Renamed Max" } });
    const project = await call<Project>("POST", "/v1/projects", { key: org.admin.key, body: { name: "Audit" } });
    const event = await env.DB.prepare(
      "SELECT actor_user_id, actor_api_key_id FROM events WHERE resource_id = ? AND type = 'project.created'",
    )
      .bind(project.body.id)
      .first<{ actor_user_id: string; actor_api_key_id: string }>();
    expect(event).toEqual({ actor_user_id: org.admin.id, actor_api_key_id: org.admin.keyId });
  });
});

describe("privilege: cached key records", () => {
  it("a role change reaches every key of the member, past the inline batch, through the queue", async () => {
    const org = await orgWithAdmin();
    const keys: string[] = [org.admin.key];
    for (let i = 0; i < 24; i++) {
      const res = await call<CreatedApiKey>("POST", "/v1/api-keys", {
        key: org.keys.admin,
        body: { name: `k${i}`, scope: "admin", userId: org.admin.id },
      });
      keys.push(res.body.key);
    }
    // Each key's Durable Object caches the admin role.
    for (const key of keys) expect((await call("GET", "/v1/api-keys", { key })).status).toBe(200);
    await call("PATCH", `/v1/users/${org.admin.id}`, { key: org.keys.admin, body: { role: "member" } });

    const deadline = Date.now() + 15_000;
    let pending = keys;
    while (pending.length > 0 && Date.now() < deadline) {
      const statuses = await Promise.all(pending.map((key) => call("GET", "/v1/api-keys", { key })));
      pending = pending.filter((_, i) => statuses[i]?.status !== 403);
      if (pending.length > 0) await new Promise((r) => setTimeout(r, 250));
    }
    expect(pending).toHaveLength(0);
  });
});
