import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { CreatedApiKey, Page, User } from "./api-types";
import { call, createOrg, expectError } from "./harness";

describe("members", () => {
  it("list, get and /me for every scope", async () => {
    const org = await createOrg();
    const list = await call<Page<User>>("GET", "/v1/users", { key: org.keys.read });
    expect(list.status).toBe(200);
    expect(list.body.pagination).toEqual({ total: 2, page: 1, limit: 50, totalPages: 1, nextCursor: null });
    expect(list.body.data.map((u) => u.id).sort()).toEqual([org.owner.id, org.member.id].sort());
    const one = await call("GET", `/v1/users/${org.member.id}`, { key: org.keys.read });
    expect(one.body).toMatchObject({ id: org.member.id, role: "member" });
    const me = await call<User>("GET", "/v1/users/me", { key: org.member.key });
    expect(me.body.id).toBe(org.member.id);
  });

  it("paginate and sort", async () => {
    const org = await createOrg();
    for (const name of ["Cleo", "Abe", "Bea"]) {
      await call("POST", "/v1/users", { key: org.keys.admin, body: { name, email: `${name}@example.com` } });
    }
    const page = await call<Page<User>>("GET", "/v1/users?sortBy=name&order=asc&limit=2&page=1", {
      key: org.keys.read,
    });
    expect(page.body.data.map((u) => u.name)).toEqual(["Abe", "Bea"]);
    expect(page.body.pagination).toEqual({
      total: 5,
      page: 1,
      limit: 2,
      totalPages: 3,
      nextCursor: expect.any(String),
    });
    const beyond = await call<Page<User>>("GET", "/v1/users?page=9", { key: org.keys.read });
    expect(beyond.body.data).toEqual([]);
    expect(beyond.body.pagination.total).toBe(5);
    for (const query of ["limit=0", "limit=101", "limit=abc", "page=0", "sortBy=password", "order=up", "colour=red"]) {
      const res = await call("GET", `/v1/users?${query}`, { key: org.keys.read });
      expectError(res, 400, "VALIDATION_ERROR", query.split("=")[0]);
    }
  });

  it("add a member with a member.added event; duplicate email is a conflict", async () => {
    const org = await createOrg();
    const res = await call<User>("POST", "/v1/users", {
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
    const res = await call<User>("PATCH", `/v1/users/${org.member.id}`, {
      key: org.keys.admin,
      body: { role: "admin" },
    });
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
    const admin = await call<User>("POST", "/v1/users", {
      key: org.keys.admin,
      body: { name: "Ade", email: "ade@example.com", role: "admin" },
    });
    const key = await call<CreatedApiKey>("POST", "/v1/api-keys", {
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
    const theirs = await call<Page<User>>("GET", "/v1/users", { key: other.keys.read });
    expect(theirs.body.data.map((u) => u.id)).not.toContain(org.member.id);
    expectError(await call("GET", "/v1/users"), 401, "UNAUTHORIZED");
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
