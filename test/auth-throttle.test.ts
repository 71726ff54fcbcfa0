import {
  createExecutionContext,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../src/core/crypto";
import worker from "../src/index";
import type { CreatedApiKey } from "./api-types";
import { ADMIN_TOKEN, call, createOrg, expectError } from "./harness";

let ipCounter = 0;
/** An address no other test uses. */
function ownIp(): string {
  ipCounter += 1;
  return `192.0.2.${ipCounter}`;
}

const unknownKey = () => `vk_live_${crypto.randomUUID().replaceAll("-", "")}xyz`;

/**
 * Failures are counted in windows aligned to the clock's minute: a test that throttles an
 * address and then checks it must not straddle a minute's end, or its address is free again.
 */
async function awayFromMinuteEnd(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 15_000) await new Promise((resolve) => setTimeout(resolve, left + 100));
}

/** Spends the address's failed-authentication budget (20 a minute); the next failure is 429. */
async function throttle(ip: string): Promise<void> {
  await awayFromMinuteEnd();
  for (let i = 0; i < 20; i++) {
    expectError(await call("GET", "/v1/users/me", { key: unknownKey(), ip }), 401, "UNAUTHORIZED");
  }
  expectError(await call("GET", "/v1/users/me", { key: unknownKey(), ip }), 429, "RATE_LIMITED");
}

const ipLimiter = (ip: string) => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`ip:${ip}`));
const keyLimiter = (hash: string) => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`key:${hash}`));

/** Tables the Durable Object has stored, i.e. whether it left anything behind. */
async function storedTables(stub: DurableObjectStub): Promise<number> {
  return runInDurableObject(stub, (_instance, state: DurableObjectState) => {
    const row = state.storage.sql
      .exec<{ n: number }>(
        "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'",
      )
      .one();
    return row.n;
  });
}

describe("failed-authentication throttle: no lockout", () => {
  it("valid keys keep working from a throttled address; unknown and malformed ones get 429", async () => {
    const org = await createOrg();
    const ip = ownIp();
    await throttle(ip);
    expect((await call("GET", "/v1/users/me", { key: org.keys.read, ip })).status).toBe(200);
    // A key created a moment ago and never used is recognised too.
    const fresh = await call<CreatedApiKey>("POST", "/v1/api-keys", {
      key: org.keys.admin,
      ip,
      body: { name: "new", scope: "read" },
    });
    expect(fresh.status).toBe(201);
    expect((await call("GET", "/v1/users/me", { key: fresh.body.key, ip })).status).toBe(200);
    expectError(await call("GET", "/v1/users/me", { key: unknownKey(), ip }), 429, "RATE_LIMITED");
    expectError(await call("GET", "/v1/users/me", { key: "vk_live_short", ip }), 429, "RATE_LIMITED");
    expectError(await call("GET", "/v1/users/me", { ip }), 429, "RATE_LIMITED");
  });

  it("from a throttled address an unknown key is refused without a D1 lookup", async () => {
    const org = await createOrg();
    // A key row that exists in D1 only: its Durable Object has never seen it.
    const key = unknownKey();
    const hash = await sha256Hex(key);
    await env.DB.prepare(
      "INSERT INTO api_keys (id, org_id, user_id, name, scope, key_hash, prefix, created_at) VALUES (?, ?, ?, 'direct', 'read', ?, 'vk_live_xx', ?)",
    )
      .bind(`key_direct${crypto.randomUUID().slice(0, 8)}`, org.id, org.owner.id, hash, new Date().toISOString())
      .run();
    const ip = ownIp();
    await throttle(ip);
    expectError(await call("GET", "/v1/users/me", { key, ip }), 429, "RATE_LIMITED");
    // From an address in good standing the same key is looked up, and works.
    expect((await call("GET", "/v1/users/me", { key, ip: ownIp() })).status).toBe(200);
  });
});

describe("failed-authentication throttle: no oracle for the operator token", () => {
  it("a throttled address gets 429 for the right token as for a wrong one", async () => {
    await awayFromMinuteEnd();
    const ip = ownIp();
    for (let i = 0; i < 20; i++) {
      expectError(
        await call("PATCH", "/v1/admin/organizations/org_x", { key: "wrong", ip, body: { plan: "pro" } }),
        401,
        "UNAUTHORIZED",
      );
    }
    const wrong = await call("PATCH", "/v1/admin/organizations/org_x", { key: "wrong", ip, body: { plan: "pro" } });
    const right = await call("PATCH", "/v1/admin/organizations/org_x", { key: ADMIN_TOKEN, ip, body: { plan: "pro" } });
    expectError(wrong, 429, "RATE_LIMITED");
    expectError(right, 429, "RATE_LIMITED");
  });

  it("the address's Durable Object decides when this isolate has not seen the failures", async () => {
    await awayFromMinuteEnd();
    const ip = ownIp();
    const policies = [{ name: "auth_failures", limit: 20, windowSeconds: 60 }];
    for (let i = 0; i < 20; i++) await ipLimiter(ip).hit(policies);
    const right = await call("PATCH", "/v1/admin/organizations/org_x", { key: ADMIN_TOKEN, ip, body: { plan: "pro" } });
    expectError(right, 429, "RATE_LIMITED");
    // Another address with the right token reaches the endpoint (404: no such organization).
    expectError(
      await call("PATCH", "/v1/admin/organizations/org_x", { key: ADMIN_TOKEN, ip: ownIp(), body: { plan: "pro" } }),
      404,
      "NOT_FOUND",
    );
  });

  it("an ADMIN_TOKEN shorter than 32 characters disables the operator endpoints", async () => {
    const shortToken = "short-but-16-chars!";
    const ctx = createExecutionContext();
    const response = await worker.fetch(
      new Request("https://verk.test/v1/admin/organizations", {
        method: "POST",
        headers: {
          Authorization: `Bearer ${shortToken}`,
          "Content-Type": "application/json",
          "CF-Connecting-IP": ownIp(),
        },
        body: JSON.stringify({ name: "X", owner: { name: "Y", email: "y@example.com" } }),
      }),
      { ...env, ADMIN_TOKEN: shortToken },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(403);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("FORBIDDEN");
    expect(body.error.message).toContain("at least 32 characters");
  });
});

describe("failed-authentication throttle: what is counted and what is kept", () => {
  it("CORS preflights never count as failed authentications", async () => {
    await awayFromMinuteEnd();
    const ip = ownIp();
    for (let i = 0; i < 30; i++) {
      const res = await call("OPTIONS", "/v1/projects", { ip, headers: { Origin: "https://app.example.com" } });
      expect(res.status).not.toBe(401);
      expect(res.status).not.toBe(429);
    }
    expectError(await call("GET", "/v1/users/me", { key: unknownKey(), ip }), 401, "UNAUTHORIZED");
    expect(await storedTables(ipLimiter(ip))).toBe(1);
  });

  it("an unknown key leaves its Durable Object empty; an address's counters delete themselves", async () => {
    const ip = ownIp();
    const key = unknownKey();
    expectError(await call("GET", "/v1/users/me", { key, ip }), 401, "UNAUTHORIZED");
    expect(await storedTables(keyLimiter(await sha256Hex(key)))).toBe(0);

    const limiter = ipLimiter(ip);
    expect(await storedTables(limiter)).toBe(1);
    expect(await runDurableObjectAlarm(limiter)).toBe(true);
    expect(await storedTables(limiter)).toBe(0);
  });

  it("an unauthenticated body is never read: 1 MiB of broken JSON gets 401", async () => {
    const res = await call("POST", "/v1/projects", {
      rawBody: `{${"x".repeat(1024 * 1024)}`,
      headers: { "Content-Type": "application/json" },
    });
    expectError(res, 401, "UNAUTHORIZED");
  });

  it("invalid JSON from a valid key counts against its rate limit like any request", async () => {
    await awayFromMinuteEnd();
    const org = await createOrg({ plan: "free" });
    // The free plan allows 20 a minute; createOrg spent some of them with the admin key.
    let refused: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 25 && !refused; i++) {
      const res = await call("POST", "/v1/projects", {
        key: org.keys.write,
        rawBody: "{not json",
        headers: { "Content-Type": "application/json" },
      });
      if (res.status === 429) refused = res;
      else expectError(res, 400, "INVALID_JSON");
    }
    expect(refused).toBeDefined();
    expectError(await call("GET", "/v1/projects", { key: org.keys.write }), 429, "RATE_LIMITED");
  });
});
