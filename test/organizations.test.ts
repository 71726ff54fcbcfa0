import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { CreatedOrganization, Organization, User } from "./api-types";
import { ADMIN_TOKEN, call, createOrg, expectError } from "./harness";

describe("operator endpoints", () => {
  it("create an organization with its owner and a working admin key shown once", async () => {
    const res = await call<CreatedOrganization>("POST", "/v1/admin/organizations", {
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

    const me = await call<User>("GET", "/v1/users/me", { key: res.body.apiKey.key });
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
    const res = await call<Organization>("PATCH", `/v1/admin/organizations/${org.id}`, {
      key: ADMIN_TOKEN,
      body: { plan: "pro" },
    });
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
