import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ApiKey, CreatedApiKey, Page, Project, RotatedApiKey } from "./api-types";
import { call, createOrg, expectError } from "./harness";

describe("API keys", () => {
  it("list prefixes, never secrets", async () => {
    const org = await createOrg();
    const res = await call<Page<ApiKey>>("GET", "/v1/api-keys?sortBy=createdAt&order=asc", { key: org.keys.admin });
    expect(res.status).toBe(200);
    expect(res.body.pagination.total).toBe(4);
    const text = JSON.stringify(res.body);
    for (const key of Object.values(org.keys)) expect(text).not.toContain(key);
    expect(res.body.data[0]).toMatchObject({ id: org.keyIds.admin, scope: "admin", revokedAt: null });
    expect(org.keys.admin.startsWith(res.body.data[0]!.prefix)).toBe(true);
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
    const res = await call<CreatedApiKey>("POST", "/v1/api-keys", {
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
    const res = await call<CreatedApiKey>("POST", "/v1/api-keys", {
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
    expect((await call("DELETE", `/v1/api-keys/${org.keyIds.read}`, { key: org.keys.admin })).status).toBe(200);
    const res = await call("GET", "/v1/users/me", { key: org.keys.read });
    expectError(res, 401, "UNAUTHORIZED");
    expect(res.body.error.message).toContain("revoked");
    const listed = await call<Page<ApiKey>>("GET", "/v1/api-keys", { key: org.keys.admin });
    expect(listed.body.data.find((k) => k.id === org.keyIds.read)!.revokedAt).not.toBeNull();
  });

  it("rotate without grace: new key works, old fails at once", async () => {
    const org = await createOrg();
    const res = await call<RotatedApiKey>("POST", `/v1/api-keys/${org.keyIds.write}/rotate`, { key: org.keys.admin });
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
    const res = await call<RotatedApiKey>("POST", `/v1/api-keys/${org.keyIds.read}/rotate`, {
      key: org.keys.admin,
      body: { gracePeriodSeconds: 3600 },
    });
    expect(res.status).toBe(201);
    expect(Date.parse(res.body.previousKey.revokedAt!)).toBeGreaterThan(Date.now() + 3500_000);
    expect((await call("GET", "/v1/users/me", { key: org.keys.read })).status).toBe(200);
    expect((await call("GET", "/v1/users/me", { key: res.body.key })).status).toBe(200);
    // Rotating the old key again would mint a third live key and stretch its grace: refused.
    const again = await call("POST", `/v1/api-keys/${org.keyIds.read}/rotate`, {
      key: org.keys.admin,
      body: { gracePeriodSeconds: 30 * 24 * 3600 },
    });
    expectError(again, 409, "CONFLICT");
    const listed = await call<Page<ApiKey>>("GET", "/v1/api-keys", { key: org.keys.admin });
    const old = listed.body.data.find((k) => k.id === org.keyIds.read)!;
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
    const project = await call<Project>("POST", "/v1/projects", { key: org.keys.write, body: { name: "P" } });
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
