import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, createOrg, expectError } from "./harness";

describe("operator endpoints", () => {
  it("create an organization with its owner and a working admin key shown once", async () => {
    const res = await call("POST", "/v1/admin/organizations", {
      key: ADMIN_TOKEN,
      body: { name: "Acme", plan: "pro", owner: { name: "Ada", email: "Ada@Example.com" } },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("Location")).toBe(`/v1/admin/organizations/${res.body.organization.id}`);
    expect(res.body.organization).toMatchObject({ name: "Acme", plan: "pro" });
    expect(res.body.organization.id).toMatch(/^org_/);
    expect(res.body.owner).toMatchObject({ role: "owner", email: "ada@example.com" });
    expect(res.body.apiKey.key).toMatch(/^vk_live_[0-9A-Za-z]{32,}$/);
    expect(res.body.apiKey.scope).toBe("admin");

    const me = await call("GET", "/v1/users/me", { key: res.body.apiKey.key });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(res.body.owner.id);

    // Only the hash is stored.
    const stored = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?").bind(res.body.apiKey.id).first();
    expect(JSON.stringify(stored)).not.toContain(res.body.apiKey.key);
    expect(stored?.key_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("refuse a missing or wrong operator token", async () => {
    const body = { name: "X", owner: { name: "Y", email: "y@example.com" } };
    expectError(await call("POST", "/v1/admin/organizations", { body }), 401, "UNAUTHORIZED");
    expectError(
      await call("POST", "/v1/admin/organizations", { key: "not-the-token-at-all", body }),
      401,
      "UNAUTHORIZED",
    );
    const org = await createOrg();
    // An organization's admin key is not the operator token.
    expectError(await call("POST", "/v1/admin/organizations", { key: org.keys.admin, body }), 401, "UNAUTHORIZED");
  });

  it("validate the organization body", async () => {
    const bad = [
      [{ owner: { name: "Y", email: "y@example.com" } }, "name"],
      [{ name: "X", owner: { name: "Y", email: "not-an-email" } }, "owner.email"],
      [{ name: "X", plan: "gold", owner: { name: "Y", email: "y@example.com" } }, "plan"],
      [{ name: "X", owner: { name: "Y", email: "y@example.com" }, extra: 1 }, "extra"],
    ] as const;
    for (const [body, field] of bad) {
      expectError(
        await call("POST", "/v1/admin/organizations", { key: ADMIN_TOKEN, body }),
        400,
        "VALIDATION_ERROR",
        field,
      );
    }
  });

  it("change the plan, and 404 for an unknown organization", async () => {
    const org = await createOrg({ plan: "free" });
    const res = await call("PATCH", `/v1/admin/organizations/${org.id}`, { key: ADMIN_TOKEN, body: { plan: "pro" } });
    expect(res.status).toBe(200);
    expect(res.body.plan).toBe("pro");
    expectError(
      await call("PATCH", "/v1/admin/organizations/org_missing", { key: ADMIN_TOKEN, body: { plan: "pro" } }),
      404,
      "NOT_FOUND",
    );
    expectError(
      await call("PATCH", `/v1/admin/organizations/${org.id}`, { key: ADMIN_TOKEN, body: { plan: "platinum" } }),
      400,
      "VALIDATION_ERROR",
      "plan",
    );
  });
});

describe("members", () => {
  it("list, get and /me for every scope", async () => {
    const org = await createOrg();
    const list = await call("GET", "/v1/users", { key: org.keys.read });
    expect(list.status).toBe(200);
    expect(list.body.pagination).toEqual({ total: 2, page: 1, limit: 50, totalPages: 1 });
    expect(list.body.data.map((u: { id: string }) => u.id).sort()).toEqual([org.owner.id, org.member.id].sort());
    const one = await call("GET", `/v1/users/${org.member.id}`, { key: org.keys.read });
    expect(one.body).toMatchObject({ id: org.member.id, role: "member" });
    const me = await call("GET", "/v1/users/me", { key: org.member.key });
    expect(me.body.id).toBe(org.member.id);
  });

  it("paginate and sort", async () => {
    const org = await createOrg();
    for (const name of ["Cleo", "Abe", "Bea"]) {
      await call("POST", "/v1/users", { key: org.keys.admin, body: { name, email: `${name}@example.com` } });
    }
    const page = await call("GET", "/v1/users?sortBy=name&order=asc&limit=2&page=1", { key: org.keys.read });
    expect(page.body.data.map((u: { name: string }) => u.name)).toEqual(["Abe", "Bea"]);
    expect(page.body.pagination).toEqual({ total: 5, page: 1, limit: 2, totalPages: 3 });
    const beyond = await call("GET", "/v1/users?page=9", { key: org.keys.read });
    expect(beyond.body.data).toEqual([]);
    expect(beyond.body.pagination.total).toBe(5);
    for (const query of ["limit=0", "limit=101", "limit=abc", "page=0", "sortBy=password", "order=up", "colour=red"]) {
      const res = await call("GET", `/v1/users?${query}`, { key: org.keys.read });
      expectError(res, 400, "VALIDATION_ERROR", query.split("=")[0]);
    }
  });

  it("add a member with a member.added event; duplicate email is a conflict", async () => {
    const org = await createOrg();
    const res = await call("POST", "/v1/users", {
      key: org.keys.admin,
      body: { name: "Nia", email: "nia@example.com", role: "admin" },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("Location")).toBe(`/v1/users/${res.body.id}`);
    expect(res.body).toMatchObject({ name: "Nia", email: "nia@example.com", role: "admin" });
    const event = await env.DB.prepare("SELECT * FROM events WHERE resource_id = ? AND type = 'member.added'")
      .bind(res.body.id)
      .first<{ data: string; actor_user_id: string; actor_api_key_id: string }>();
    expect(JSON.parse(event!.data)).toEqual(res.body);
    expect(event!.actor_user_id).toBe(org.owner.id);
    expect(event!.actor_api_key_id).toBe(org.keyIds.admin);

    const dup = await call("POST", "/v1/users", { key: org.keys.admin, body: { name: "N", email: "NIA@example.com" } });
    expectError(dup, 409, "CONFLICT", "email");
  });

  it("refuse invalid member input and the owner role", async () => {
    const org = await createOrg();
    const cases = [
      [{ email: "a@example.com" }, "name"],
      [{ name: "A" }, "email"],
      [{ name: "A", email: "a@example.com", role: "owner" }, "role"],
      [{ name: "", email: "a@example.com" }, "name"],
      [{ name: 42, email: "a@example.com" }, "name"],
    ] as const;
    for (const [body, field] of cases) {
      expectError(await call("POST", "/v1/users", { key: org.keys.admin, body }), 400, "VALIDATION_ERROR", field);
    }
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM users WHERE org_id = ?").bind(org.id).first("n");
    expect(count).toBe(2);
  });

  it("change a role (member.role_changed), never the owner's", async () => {
    const org = await createOrg();
    const res = await call("PATCH", `/v1/users/${org.member.id}`, { key: org.keys.admin, body: { role: "admin" } });
    expect(res.status).toBe(200);
    expect(res.body.role).toBe("admin");
    const event = await env.DB.prepare(
      "SELECT changes FROM events WHERE resource_id = ? AND type = 'member.role_changed'",
    )
      .bind(org.member.id)
      .first<{ changes: string }>();
    expect(JSON.parse(event!.changes)).toEqual({ role: { from: "member", to: "admin" } });
    const owner = await call("PATCH", `/v1/users/${org.owner.id}`, { key: org.keys.admin, body: { role: "member" } });
    expectError(owner, 409, "CONFLICT", "role");
  });

  it("a demoted admin's admin key loses admin powers at once", async () => {
    const org = await createOrg();
    const admin = await call("POST", "/v1/users", {
      key: org.keys.admin,
      body: { name: "Ade", email: "ade@example.com", role: "admin" },
    });
    const key = await call("POST", "/v1/api-keys", {
      key: org.keys.admin,
      body: { name: "ade", scope: "admin", userId: admin.body.id },
    });
    expect((await call("GET", "/v1/api-keys", { key: key.body.key })).status).toBe(200);
    await call("PATCH", `/v1/users/${admin.body.id}`, { key: org.keys.admin, body: { role: "member" } });
    expectError(await call("GET", "/v1/api-keys", { key: key.body.key }), 403, "FORBIDDEN");
    expect((await call("GET", "/v1/users/me", { key: key.body.key })).status).toBe(200);
  });

  it("remove a member: their keys stop working and member.removed is written", async () => {
    const org = await createOrg();
    const res = await call("DELETE", `/v1/users/${org.member.id}`, { key: org.keys.admin });
    expect(res.status).toBe(204);
    expectError(await call("GET", "/v1/users/me", { key: org.member.key }), 401, "UNAUTHORIZED");
    expectError(await call("GET", `/v1/users/${org.member.id}`, { key: org.keys.read }), 404, "NOT_FOUND");
    const event = await env.DB.prepare("SELECT type FROM events WHERE resource_id = ? AND type = 'member.removed'")
      .bind(org.member.id)
      .first("type");
    expect(event).toBe("member.removed");
    expectError(await call("DELETE", `/v1/users/${org.owner.id}`, { key: org.keys.admin }), 409, "CONFLICT");
  });

  it("security: scopes and tenant isolation", async () => {
    const org = await createOrg();
    const other = await createOrg();
    const body = { name: "Z", email: "z@example.com" };
    expectError(await call("POST", "/v1/users", { key: org.keys.write, body }), 403, "FORBIDDEN");
    expectError(await call("POST", "/v1/users", { key: org.keys.read, body }), 403, "FORBIDDEN");
    expectError(
      await call("PATCH", `/v1/users/${org.member.id}`, { key: org.keys.write, body: { role: "admin" } }),
      403,
      "FORBIDDEN",
    );
    expectError(await call("DELETE", `/v1/users/${org.member.id}`, { key: org.keys.write }), 403, "FORBIDDEN");
    for (const [method, body] of [["GET"], ["PATCH", { role: "admin" }], ["DELETE"]] as const) {
      const res = await call(method, `/v1/users/${org.member.id}`, { key: other.keys.admin, body });
      expectError(res, 404, "NOT_FOUND");
    }
    const theirs = await call("GET", "/v1/users", { key: other.keys.read });
    expect(theirs.body.data.map((u: { id: string }) => u.id)).not.toContain(org.member.id);
    expectError(await call("GET", "/v1/users"), 401, "UNAUTHORIZED");
  });
});

describe("API keys", () => {
  it("list prefixes, never secrets", async () => {
    const org = await createOrg();
    const res = await call("GET", "/v1/api-keys?sortBy=createdAt&order=asc", { key: org.keys.admin });
    expect(res.status).toBe(200);
    expect(res.body.pagination.total).toBe(4);
    const text = JSON.stringify(res.body);
    for (const key of Object.values(org.keys)) expect(text).not.toContain(key);
    expect(res.body.data[0]).toMatchObject({ id: org.keyIds.admin, scope: "admin", revokedAt: null });
    expect(org.keys.admin.startsWith(res.body.data[0].prefix)).toBe(true);
    expect(res.body.data[0]).not.toHaveProperty("key");
    expect(res.body.data[0]).not.toHaveProperty("keyHash");
  });

  it("record lastUsedAt", async () => {
    const org = await createOrg();
    await call("GET", "/v1/users/me", { key: org.keys.read });
    // lastUsedAt is written after the response (waitUntil); poll briefly.
    let lastUsedAt: unknown = null;
    for (let i = 0; i < 20 && !lastUsedAt; i++) {
      lastUsedAt = await env.DB.prepare("SELECT last_used_at FROM api_keys WHERE id = ?")
        .bind(org.keyIds.read)
        .first("last_used_at");
      if (!lastUsedAt) await new Promise((r) => setTimeout(r, 50));
    }
    expect(typeof lastUsedAt).toBe("string");
  });

  it("create with expiry; validate scope, expiry and owner", async () => {
    const org = await createOrg();
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const res = await call("POST", "/v1/api-keys", {
      key: org.keys.admin,
      body: { name: "CI", scope: "write", expiresAt },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: "CI", scope: "write", expiresAt, userId: org.owner.id });
    expect(res.headers.get("Location")).toBe(`/v1/api-keys/${res.body.id}`);
    const cases = [
      [{ name: "x", scope: "root" }, "scope"],
      [{ scope: "read" }, "name"],
      [{ name: "x", scope: "read", expiresAt: "tomorrow" }, "expiresAt"],
      [{ name: "x", scope: "read", expiresAt: "2001-01-01T00:00:00Z" }, "expiresAt"],
      [{ name: "x", scope: "admin", userId: org.member.id }, "scope"],
    ] as const;
    for (const [body, field] of cases) {
      expectError(await call("POST", "/v1/api-keys", { key: org.keys.admin, body }), 400, "VALIDATION_ERROR", field);
    }
    const other = await createOrg();
    expectError(
      await call("POST", "/v1/api-keys", {
        key: org.keys.admin,
        body: { name: "x", scope: "read", userId: other.owner.id },
      }),
      404,
      "NOT_FOUND",
    );
  });

  it("store expiry as UTC, whatever offset it was given in", async () => {
    const org = await createOrg();
    const hourAgo = new Date(Date.now() - 3600_000);
    // 10:00 UTC written as 20:00+10:00: an instant in the past, though its text sorts after "now".
    const pastWithOffset = new Date(hourAgo.getTime() + 10 * 3600_000).toISOString().replace("Z", "+10:00");
    expectError(
      await call("POST", "/v1/api-keys", {
        key: org.keys.admin,
        body: { name: "x", scope: "read", expiresAt: pastWithOffset },
      }),
      400,
      "VALIDATION_ERROR",
      "expiresAt",
    );
    const inAnHour = new Date(Date.now() + 3600_000);
    const futureWithOffset = new Date(inAnHour.getTime() - 10 * 3600_000).toISOString().replace("Z", "-10:00");
    const res = await call("POST", "/v1/api-keys", {
      key: org.keys.admin,
      body: { name: "x", scope: "read", expiresAt: futureWithOffset },
    });
    expect(res.status).toBe(201);
    expect(res.body.expiresAt).toBe(inAnHour.toISOString());
    expect((await call("GET", "/v1/users/me", { key: res.body.key })).status).toBe(200);
  });

  it("revoke: the key fails at once", async () => {
    const org = await createOrg();
    expect((await call("GET", "/v1/users/me", { key: org.keys.read })).status).toBe(200);
    expect((await call("DELETE", `/v1/api-keys/${org.keyIds.read}`, { key: org.keys.admin })).status).toBe(204);
    const res = await call("GET", "/v1/users/me", { key: org.keys.read });
    expectError(res, 401, "UNAUTHORIZED");
    expect(res.body.error.message).toContain("revoked");
    const listed = await call("GET", "/v1/api-keys", { key: org.keys.admin });
    expect(listed.body.data.find((k: { id: string }) => k.id === org.keyIds.read).revokedAt).not.toBeNull();
  });

  it("rotate without grace: new key works, old fails at once", async () => {
    const org = await createOrg();
    const res = await call("POST", `/v1/api-keys/${org.keyIds.write}/rotate`, { key: org.keys.admin });
    expect(res.status).toBe(201);
    expect(res.body.key).not.toBe(org.keys.write);
    expect(res.body.scope).toBe("write");
    expectError(await call("GET", "/v1/users/me", { key: org.keys.write }), 401, "UNAUTHORIZED");
    expect((await call("GET", "/v1/users/me", { key: res.body.key })).status).toBe(200);
    expectError(
      await call("POST", `/v1/api-keys/${org.keyIds.write}/rotate`, { key: org.keys.admin }),
      409,
      "CONFLICT",
    );
  });

  it("rotate with a grace period: both keys work until it ends", async () => {
    const org = await createOrg();
    const res = await call("POST", `/v1/api-keys/${org.keyIds.read}/rotate`, {
      key: org.keys.admin,
      body: { gracePeriodSeconds: 3600 },
    });
    expect(res.status).toBe(201);
    expect(Date.parse(res.body.previousKey.revokedAt)).toBeGreaterThan(Date.now() + 3500_000);
    expect((await call("GET", "/v1/users/me", { key: org.keys.read })).status).toBe(200);
    expect((await call("GET", "/v1/users/me", { key: res.body.key })).status).toBe(200);
    // Rotating the old key again would mint a third live key and stretch its grace: refused.
    const again = await call("POST", `/v1/api-keys/${org.keyIds.read}/rotate`, {
      key: org.keys.admin,
      body: { gracePeriodSeconds: 30 * 24 * 3600 },
    });
    expectError(again, 409, "CONFLICT");
    const listed = await call("GET", "/v1/api-keys", { key: org.keys.admin });
    const old = listed.body.data.find((k: { id: string }) => k.id === org.keyIds.read);
    expect(old.revokedAt).toBe(res.body.previousKey.revokedAt);
    expectError(
      await call("POST", `/v1/api-keys/${res.body.id}/rotate`, {
        key: org.keys.admin,
        body: { gracePeriodSeconds: -1 },
      }),
      400,
      "VALIDATION_ERROR",
      "gracePeriodSeconds",
    );
  });

  it("security: admin scope only, other organizations 404", async () => {
    const org = await createOrg();
    const other = await createOrg();
    expectError(await call("GET", "/v1/api-keys", { key: org.keys.write }), 403, "FORBIDDEN");
    expectError(
      await call("POST", "/v1/api-keys", { key: org.keys.write, body: { name: "x", scope: "read" } }),
      403,
      "FORBIDDEN",
    );
    expectError(await call("DELETE", `/v1/api-keys/${org.keyIds.read}`, { key: org.keys.read }), 403, "FORBIDDEN");
    expectError(await call("DELETE", `/v1/api-keys/${org.keyIds.read}`, { key: other.keys.admin }), 404, "NOT_FOUND");
    expectError(
      await call("POST", `/v1/api-keys/${org.keyIds.read}/rotate`, { key: other.keys.admin }),
      404,
      "NOT_FOUND",
    );
    expect((await call("GET", "/v1/users/me", { key: org.keys.read })).status).toBe(200);
  });
});

describe("member versions", () => {
  it("ETag, If-None-Match 304 and If-Match 412 on members", async () => {
    const org = await createOrg();
    const got = await call("GET", `/v1/users/${org.member.id}`, { key: org.keys.read });
    const etag = got.headers.get("ETag")!;
    expect(etag).toMatch(/^".+"$/);
    const cached = await call("GET", `/v1/users/${org.member.id}`, {
      key: org.keys.read,
      headers: { "If-None-Match": etag },
    });
    expect(cached.status).toBe(304);
    const renamed = await call("PATCH", `/v1/users/${org.member.id}`, {
      key: org.keys.admin,
      body: { name: "Maxine" },
      headers: { "If-Match": etag },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.headers.get("ETag")).not.toBe(etag);
    const stale = await call("PATCH", `/v1/users/${org.member.id}`, {
      key: org.keys.admin,
      body: { role: "admin" },
      headers: { "If-Match": etag },
    });
    expectError(stale, 412, "PRECONDITION_FAILED");
    expectError(
      await call("DELETE", `/v1/users/${org.member.id}`, { key: org.keys.admin, headers: { "If-Match": etag } }),
      412,
      "PRECONDITION_FAILED",
    );
    const still = await call("GET", `/v1/users/${org.member.id}`, { key: org.keys.read });
    expect(still.body).toMatchObject({ name: "Maxine", role: "member" });
  });
});

describe("dates at the edges", () => {
  it("refuse instants that leave four-digit UTC years", async () => {
    const org = await createOrg();
    for (const expiresAt of ["9999-12-31T23:59:59-23:59", "0000-01-01T00:00:00+00:01"]) {
      expectError(
        await call("POST", "/v1/api-keys", { key: org.keys.admin, body: { name: "x", scope: "read", expiresAt } }),
        400,
        "VALIDATION_ERROR",
        "expiresAt",
      );
    }
    const project = await call("POST", "/v1/projects", { key: org.keys.write, body: { name: "P" } });
    expectError(
      await call("POST", "/v1/tasks", {
        key: org.keys.write,
        body: { title: "far", projectId: project.body.id, dueDate: "9999-12-31T23:59:59-23:59" },
      }),
      400,
      "VALIDATION_ERROR",
      "dueDate",
    );
  });
});
