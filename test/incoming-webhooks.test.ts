import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { cidrContains, ipAllowed, parseCidr, parseIp } from "../src/incoming-webhooks/cidr";
import type { CreatedIncomingWebhook, IncomingWebhook, Page } from "./api-types";
import { call, createOrg, expectError } from "./harness";

describe("CIDR allowlists", () => {
  it("parse IPv4 and IPv6 addresses and ranges, refusing malformed ones", () => {
    for (const good of [
      "10.0.0.0/8",
      "203.0.113.7",
      "0.0.0.0/0",
      "2001:db8::/32",
      "::1",
      "::/0",
      "fe80::1%eth0".split("%")[0]!,
      "::ffff:192.0.2.1/128",
      "2001:db8:0:0:0:0:0:1",
    ]) {
      expect(parseCidr(good), good).not.toBeNull();
    }
    for (const bad of [
      "10.0.0.0/33",
      "256.1.1.1",
      "10.0.0",
      "1.2.3.4/",
      "01.2.3.4",
      "2001:db8::/129",
      "2001:::1",
      "1:2:3:4:5:6:7:8:9",
      "gggg::",
      "10.0.0.0/8/8",
      "",
      "example.com",
    ]) {
      expect(parseCidr(bad), bad).toBeNull();
    }
  });

  it("match addresses inside a range only", () => {
    expect(cidrContains(parseCidr("203.0.113.0/24")!, parseIp("203.0.113.200")!)).toBe(true);
    expect(cidrContains(parseCidr("203.0.113.0/24")!, parseIp("203.0.114.1")!)).toBe(false);
    expect(cidrContains(parseCidr("2001:db8::/32")!, parseIp("2001:db8:ffff::1")!)).toBe(true);
    expect(cidrContains(parseCidr("2001:db8::/32")!, parseIp("2001:db9::1")!)).toBe(false);
    expect(cidrContains(parseCidr("10.1.2.3/20")!, parseIp("10.1.15.255")!)).toBe(true);
    expect(ipAllowed("::ffff:203.0.113.9", ["203.0.113.0/24"])).toBe(true);
    expect(ipAllowed("203.0.113.9", ["2001:db8::/32"])).toBe(false);
    expect(ipAllowed("anything", [])).toBe(true);
    expect(ipAllowed("unknown", ["0.0.0.0/0"])).toBe(false);
  });
});

describe("managing incoming-webhook credentials", () => {
  const create = (key: string, body: unknown) =>
    call<CreatedIncomingWebhook>("POST", "/v1/incoming-webhooks", { key, body });

  it("create shows the key once; only its hash is stored; list and get never show it", async () => {
    const org = await createOrg();
    const res = await create(org.keys.admin, {
      name: "n8n",
      permissions: ["tasks:create", "tasks:update"],
      ipAllowlist: ["203.0.113.0/24", "2001:db8::/32"],
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("Location")).toBe(`/v1/incoming-webhooks/${res.body.id}`);
    expect(res.body).toMatchObject({
      name: "n8n",
      permissions: ["tasks:create", "tasks:update"],
      ipAllowlist: ["203.0.113.0/24", "2001:db8::/32"],
      enabled: true,
      createdBy: org.owner.id,
      lastUsedAt: null,
    });
    expect(res.body.id).toMatch(/^iwh_/);
    expect(res.body.key).toMatch(/^ik_live_[0-9A-Za-z]{40}$/);
    expect(res.body.key.startsWith(res.body.prefix)).toBe(true);

    const row = await env.DB.prepare("SELECT * FROM incoming_webhooks WHERE id = ?").bind(res.body.id).first();
    expect(JSON.stringify(row)).not.toContain(res.body.key);
    const list = await call<Page<IncomingWebhook>>("GET", "/v1/incoming-webhooks", { key: org.keys.admin });
    expect(list.body.pagination.total).toBe(1);
    expect(JSON.stringify(list.body)).not.toContain(res.body.key);
    const one = await call("GET", `/v1/incoming-webhooks/${res.body.id}`, { key: org.keys.admin });
    expect(one.body).not.toHaveProperty("key");
    expect(one.headers.get("ETag")).toMatch(/^".+"$/);
    const again = await call("GET", `/v1/incoming-webhooks/${res.body.id}`, {
      key: org.keys.admin,
      headers: { "If-None-Match": one.headers.get("ETag")! },
    });
    expect(again.status).toBe(304);
  });

  it("refuse bad permissions, CIDRs and fields by name", async () => {
    const org = await createOrg();
    const cases = [
      [{ permissions: ["tasks:create"] }, "name"],
      [{ name: "x" }, "permissions"],
      [{ name: "x", permissions: [] }, "permissions"],
      [{ name: "x", permissions: ["tasks:delete"] }, "permissions.0"],
      [{ name: "x", permissions: ["tasks:create"], ipAllowlist: ["10.0.0.0/8", "10.0.0.300"] }, "ipAllowlist.1"],
      [{ name: "x", permissions: ["tasks:create"], ipAllowlist: "10.0.0.0/8" }, "ipAllowlist"],
      [{ name: "x", permissions: ["tasks:create"], secret: "x" }, "secret"],
    ] as const;
    for (const [body, field] of cases) expectError(await create(org.keys.admin, body), 400, "VALIDATION_ERROR", field);
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM incoming_webhooks WHERE org_id = ?")
      .bind(org.id)
      .first("n");
    expect(count).toBe(0);
  });

  it("update, honour If-Match, rotate and delete", async () => {
    const org = await createOrg();
    const created = await create(org.keys.admin, { name: "zap", permissions: ["projects:create"] });
    const id = created.body.id;
    const patched = await call("PATCH", `/v1/incoming-webhooks/${id}`, {
      key: org.keys.admin,
      body: { enabled: false, ipAllowlist: ["198.51.100.0/24"], permissions: ["projects:create", "comments:create"] },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ enabled: false, ipAllowlist: ["198.51.100.0/24"] });
    const stale = await call("PATCH", `/v1/incoming-webhooks/${id}`, {
      key: org.keys.admin,
      body: { name: "renamed" },
      headers: { "If-Match": '"not-the-etag"' },
    });
    expectError(stale, 412, "PRECONDITION_FAILED");
    const fresh = await call<IncomingWebhook>("PATCH", `/v1/incoming-webhooks/${id}`, {
      key: org.keys.admin,
      body: { name: "renamed" },
      headers: { "If-Match": patched.headers.get("ETag")! },
    });
    expect(fresh.body.name).toBe("renamed");
    expectError(
      await call("PATCH", `/v1/incoming-webhooks/${id}`, { key: org.keys.admin, body: { ipAllowlist: ["nope"] } }),
      400,
      "VALIDATION_ERROR",
      "ipAllowlist.0",
    );

    const rotated = await call<CreatedIncomingWebhook>("POST", `/v1/incoming-webhooks/${id}/rotate`, {
      key: org.keys.admin,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.key).toMatch(/^ik_live_/);
    expect(rotated.body.key).not.toBe(created.body.key);

    expect((await call("DELETE", `/v1/incoming-webhooks/${id}`, { key: org.keys.admin })).status).toBe(200);
    expectError(await call("GET", `/v1/incoming-webhooks/${id}`, { key: org.keys.admin }), 404, "NOT_FOUND");
  });

  it("security: admin scope only; other organizations get 404", async () => {
    const org = await createOrg();
    const other = await createOrg();
    const created = await create(org.keys.admin, { name: "x", permissions: ["tasks:create"] });
    expectError(await create(org.keys.write, { name: "x", permissions: ["tasks:create"] }), 403, "FORBIDDEN");
    expectError(await call("GET", "/v1/incoming-webhooks", { key: org.keys.read }), 403, "FORBIDDEN");
    expectError(await call("GET", "/v1/incoming-webhooks"), 401, "UNAUTHORIZED");
    for (const [method, path, body] of [
      ["GET", `/v1/incoming-webhooks/${created.body.id}`],
      ["PATCH", `/v1/incoming-webhooks/${created.body.id}`, { enabled: false }],
      ["DELETE", `/v1/incoming-webhooks/${created.body.id}`],
      ["POST", `/v1/incoming-webhooks/${created.body.id}/rotate`],
    ] as const) {
      expectError(await call(method, path, { key: other.keys.admin, body }), 404, "NOT_FOUND");
    }
    const list = await call<Page<IncomingWebhook>>("GET", "/v1/incoming-webhooks", { key: other.keys.admin });
    expect(list.body.data).toEqual([]);
  });
});
