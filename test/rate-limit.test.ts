import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../src/core/crypto";
import type { RateLimiter } from "../src/ratelimit/rate-limiter";
import { decide, tightest } from "../src/ratelimit/windows";
import type { CreatedApiKey } from "./api-types";
import { ADMIN_TOKEN, call, createOrg, expectError } from "./harness";

async function limiterFor(key: string) {
  const hash = await sha256Hex(key);
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`key:${hash}`));
}

/** Fixed windows reset on the minute: start burst tests well inside one. */
async function awayFromMinuteBoundary() {
  const intoMinute = (Date.now() / 1000) % 60;
  if (intoMinute > 55) await new Promise((r) => setTimeout(r, (61 - intoMinute) * 1000));
}

describe("fixed-window algorithm", () => {
  const policies = [
    { name: "hour", limit: 5, windowSeconds: 3600 },
    { name: "burst", limit: 2, windowSeconds: 60 },
  ];

  it("admits up to the tightest limit and does not count refusals", () => {
    let counts = new Map();
    const now = Date.UTC(2026, 0, 1, 10, 0, 10);
    const outcomes: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      const { decision, updated } = decide(policies, counts, now);
      outcomes.push(decision.allowed);
      if (decision.allowed) counts = updated;
    }
    expect(outcomes).toEqual([true, true, false, false]);
    expect(counts.get("hour").count).toBe(2);
    const { decision } = decide(policies, counts, now);
    expect(decision.retryAfterSeconds).toBe(50);
    expect(tightest(decision.statuses)).toMatchObject({ name: "burst", remaining: 0, resetAt: now / 1000 + 50 });
  });

  it("report the hour window when it binds tighter than the burst", () => {
    const hourly = [
      { name: "hour", limit: 3, windowSeconds: 3600 },
      { name: "burst", limit: 10, windowSeconds: 60 },
    ];
    const now = Date.UTC(2026, 0, 1, 10, 30, 0);
    let counts = new Map();
    for (let i = 0; i < 3; i++) counts = decide(hourly, counts, now + i * 61_000).updated;
    const { decision } = decide(hourly, counts, now + 3 * 61_000);
    expect(decision.allowed).toBe(false);
    const binding = tightest(decision.statuses);
    expect(binding).toMatchObject({ name: "hour", remaining: 0, resetAt: Date.UTC(2026, 0, 1, 11) / 1000 });
    // Retry-After waits for the hour, though the minute window has room.
    expect(decision.retryAfterSeconds).toBe(Date.UTC(2026, 0, 1, 11) / 1000 - Math.floor((now + 183_000) / 1000));
  });

  it("starts a new window at the boundary", () => {
    const now = Date.UTC(2026, 0, 1, 10, 0, 59);
    let counts = new Map();
    for (let i = 0; i < 2; i++) counts = decide(policies, counts, now).updated;
    expect(decide(policies, counts, now).decision.allowed).toBe(false);
    expect(decide(policies, counts, now + 1000).decision.allowed).toBe(true);
  });
});

describe("per-key rate limits", () => {
  it("send the seed's X-RateLimit-* and the IETF fields on every authenticated response", async () => {
    const org = await createOrg({ plan: "pro" });
    const res = await call("GET", "/v1/users/me", { key: org.keys.read });
    expect(res.status).toBe(200);
    expect(res.headers.get("X-RateLimit-Limit")).toBe("100");
    expect(res.headers.get("X-RateLimit-Remaining")).toBe("99");
    const reset = Number(res.headers.get("X-RateLimit-Reset"));
    expect(reset % 60).toBe(0);
    expect(reset).toBeGreaterThan(Date.now() / 1000);
    expect(res.headers.get("RateLimit-Policy")).toBe('"hour";q=1000;w=3600, "burst";q=100;w=60');
    expect(res.headers.get("RateLimit")).toMatch(/^"burst";r=99;t=\d+$/);
    // Errors after authentication carry them too.
    const missing = await call("GET", "/v1/users/user_nope", { key: org.keys.read });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("X-RateLimit-Remaining")).toBe("98");
  });

  it("admit exactly the limit under concurrency and refuse the rest with 429", async () => {
    await awayFromMinuteBoundary();
    const org = await createOrg({ plan: "free" });
    const responses = await Promise.all(
      Array.from({ length: 30 }, () => call("GET", "/v1/users/me", { key: org.keys.read })),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
    const refused = responses.find((r) => r.status === 429)!;
    expectError(refused, 429, "RATE_LIMITED");
    const retryAfter = Number(refused.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get("X-RateLimit-Remaining")).toBe("0");
  });

  it("do not run a refused request", async () => {
    await awayFromMinuteBoundary();
    const org = await createOrg({ plan: "free" });
    // The admin key spent 3 requests in createOrg; spend the rest of its burst.
    for (let i = 0; i < 17; i++) await call("GET", "/v1/users/me", { key: org.keys.admin });
    const refused = await call("POST", "/v1/users", {
      key: org.keys.admin,
      body: { name: "Late", email: "late@example.com" },
    });
    expectError(refused, 429, "RATE_LIMITED");
    const row = await env.DB.prepare("SELECT id FROM users WHERE email = 'late@example.com'").first();
    expect(row).toBeNull();
  });

  it("keep counts when the Durable Object is evicted", async () => {
    await awayFromMinuteBoundary();
    const org = await createOrg({ plan: "free" });
    for (let i = 0; i < 5; i++) await call("GET", "/v1/users/me", { key: org.keys.read });
    const stub = await limiterFor(org.keys.read);
    await evictDurableObject(stub);
    const after = await call("GET", "/v1/users/me", { key: org.keys.read });
    expect(after.headers.get("X-RateLimit-Remaining")).toBe("14");
    const stored = await runInDurableObject(stub, (_instance: RateLimiter, state) =>
      state.storage.sql.exec<{ count: number }>("SELECT count FROM counters WHERE name = 'burst'").one(),
    );
    expect(stored.count).toBe(6);
  });

  it("apply a plan change to the very next request", async () => {
    const org = await createOrg({ plan: "free" });
    const before = await call("GET", "/v1/users/me", { key: org.keys.read });
    expect(before.headers.get("X-RateLimit-Limit")).toBe("20");
    await call("PATCH", `/v1/admin/organizations/${org.id}`, { key: ADMIN_TOKEN, body: { plan: "enterprise" } });
    const after = await call("GET", "/v1/users/me", { key: org.keys.read });
    expect(after.headers.get("X-RateLimit-Limit")).toBe("500");
    expect(after.headers.get("RateLimit-Policy")).toBe('"hour";q=10000;w=3600, "burst";q=500;w=60');
  });

  it("count each key separately", async () => {
    await awayFromMinuteBoundary();
    const org = await createOrg({ plan: "free" });
    for (let i = 0; i < 20; i++) await call("GET", "/v1/users/me", { key: org.keys.read });
    expectError(await call("GET", "/v1/users/me", { key: org.keys.read }), 429, "RATE_LIMITED");
    expect((await call("GET", "/v1/users/me", { key: org.keys.write })).status).toBe(200);
  });
});

describe("authentication failures", () => {
  it("401 for a missing, malformed, unknown, revoked or expired key", async () => {
    const org = await createOrg();
    expectError(await call("GET", "/v1/users/me"), 401, "UNAUTHORIZED");
    expectError(await call("GET", "/v1/users/me", { headers: { Authorization: "Basic abc" } }), 401, "UNAUTHORIZED");
    expectError(await call("GET", "/v1/users/me", { key: "garbage" }), 401, "UNAUTHORIZED");
    expectError(await call("GET", "/v1/users/me", { key: `vk_live_${"x".repeat(40)}` }), 401, "UNAUTHORIZED");
    const lastChanged = `${org.keys.read.slice(0, -1)}${org.keys.read.endsWith("Z") ? "Y" : "Z"}`;
    expectError(await call("GET", "/v1/users/me", { key: lastChanged }), 401, "UNAUTHORIZED");

    await call("DELETE", `/v1/api-keys/${org.keyIds.read}`, { key: org.keys.admin });
    expectError(await call("GET", "/v1/users/me", { key: org.keys.read }), 401, "UNAUTHORIZED");

    const expiring = await call<CreatedApiKey>("POST", "/v1/api-keys", {
      key: org.keys.admin,
      body: { name: "short", scope: "read", expiresAt: new Date(Date.now() + 1500).toISOString() },
    });
    expect((await call("GET", "/v1/users/me", { key: expiring.body.key })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1600));
    const expired = await call("GET", "/v1/users/me", { key: expiring.body.key });
    expectError(expired, 401, "UNAUTHORIZED");
    expect(expired.body.error.message).toContain("expired");
  });

  it("throttle failed authentications per client IP", async () => {
    const org = await createOrg();
    const ip = "203.0.113.77";
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) {
      statuses.push((await call("GET", "/v1/users/me", { key: `vk_live_${"q".repeat(40)}`, ip })).status);
    }
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    const blocked = await call("GET", "/v1/users/me", { key: "vk_live_guess", ip });
    expectError(blocked, 429, "RATE_LIMITED");
    expect(Number(blocked.headers.get("Retry-After"))).toBeGreaterThan(0);
    // Other addresses are unaffected.
    expect((await call("GET", "/v1/users/me", { key: org.keys.read, ip: "203.0.113.78" })).status).toBe(200);
  });
});
