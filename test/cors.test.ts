import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../src/env";
import worker from "../src/index";
import { type ApiResponse, call, createOrg, expectError } from "./harness";

const APP = "https://app.example.com";

let ipCounter = 0;
/** An address no other test uses. */
function ownIp(): string {
  ipCounter += 1;
  return `203.0.113.${ipCounter}`;
}

const unknownKey = () => `vk_live_${crypto.randomUUID().replaceAll("-", "")}xyz`;

/** What a browser sends before a cross-origin PATCH with a key and a JSON body. */
const preflightHeaders = (origin: string) => ({
  Origin: origin,
  "Access-Control-Request-Method": "PATCH",
  "Access-Control-Request-Headers": "authorization, content-type, if-match",
});

/** A comma-separated header as lower-case names, for comparisons that ignore case and order. */
function names(value: string | null): string[] {
  return (value ?? "").split(",").map((name) => name.trim().toLowerCase());
}

const EXPOSED = [
  "X-RateLimit-Limit",
  "X-RateLimit-Remaining",
  "X-RateLimit-Reset",
  "RateLimit",
  "RateLimit-Policy",
  "Retry-After",
  "X-Request-Id",
  "ETag",
  "Location",
  "Link",
  "X-Verk-Bookmark",
  "Idempotent-Replayed",
  "Preference-Applied",
  "X-Verk-Permissions",
];

function expectReadableBy(response: ApiResponse | Response, origin: string): void {
  expect(response.headers.get("Access-Control-Allow-Origin")).toBe(origin);
  expect(names(response.headers.get("Access-Control-Expose-Headers"))).toEqual(
    expect.arrayContaining(EXPOSED.map((name) => name.toLowerCase())),
  );
  expect(response.headers.get("Access-Control-Allow-Credentials")).toBeNull();
}

/** Tables the address's failed-authentication Durable Object has stored: 0 when it was never counted. */
async function ipLimiterTables(ip: string): Promise<number> {
  const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`ip:${ip}`));
  return runInDurableObject(stub, (_instance, state: DurableObjectState) => {
    return state.storage.sql
      .exec<{ n: number }>(
        "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'",
      )
      .one().n;
  });
}

/** Failures are counted in minute windows: a test that throttles an address must not straddle a minute's end. */
async function awayFromMinuteEnd(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 15_000) await new Promise((resolve) => setTimeout(resolve, left + 100));
}

/** One request into the Worker with `vars` replacing the deployment's. */
async function fetchWith(vars: Partial<Env>, path: string, init: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const headers = new Headers(init.headers);
  headers.set("CF-Connecting-IP", ownIp());
  const response = await worker.fetch(
    new Request(`https://verk.test${path}`, { ...init, headers }),
    { ...env, ...vars },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

describe("CORS: preflights", () => {
  it("a preflight is 204 without a key, allowing the API's methods and the headers clients send", async () => {
    const res = await call("OPTIONS", "/v1/tasks/task_x", { headers: preflightHeaders(APP) });
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(names(res.headers.get("Access-Control-Allow-Methods"))).toEqual(
      expect.arrayContaining(["get", "head", "post", "patch", "delete"]),
    );
    expect(names(res.headers.get("Access-Control-Allow-Headers"))).toEqual(
      expect.arrayContaining([
        "authorization",
        "content-type",
        "idempotency-key",
        "if-match",
        "if-none-match",
        "prefer",
        "x-request-id",
        "x-verk-bookmark",
      ]),
    );
    expect(res.headers.get("Access-Control-Max-Age")).toBe("600");
    expect(res.headers.get("Access-Control-Allow-Credentials")).toBeNull();
    // Not counted as a request of any key: no rate-limit headers.
    expect(res.headers.get("X-RateLimit-Limit")).toBeNull();
  });

  it("25 preflights from one address are never throttled nor counted: its Durable Object is untouched", async () => {
    await awayFromMinuteEnd();
    const org = await createOrg();
    const ip = ownIp();
    for (let i = 0; i < 25; i++) {
      const res = await call("OPTIONS", i % 2 ? "/v1/projects" : "/v1/admin/organizations", {
        ip,
        headers: preflightHeaders(APP),
      });
      expect(res.status).toBe(204);
    }
    expect(await ipLimiterTables(ip)).toBe(0);
    const valid = await call("GET", "/v1/users/me", { key: org.keys.read, ip, headers: { Origin: APP } });
    expect(valid.status).toBe(200);
    expectReadableBy(valid, "*");
    // The address's whole failed-authentication budget is still there: 20 failures are 401, the 21st 429.
    for (let i = 0; i < 20; i++) {
      expectError(await call("GET", "/v1/users/me", { key: unknownKey(), ip }), 401, "UNAUTHORIZED");
    }
    expectError(await call("GET", "/v1/users/me", { key: unknownKey(), ip }), 429, "RATE_LIMITED");
  });
});

describe("CORS: actual requests", () => {
  it("a GET with an Origin is readable: Allow-Origin, and the rate-limit and bookmark headers exposed", async () => {
    const org = await createOrg();
    const res = await call("GET", "/v1/projects", { key: org.keys.read, headers: { Origin: APP } });
    expect(res.status).toBe(200);
    expectReadableBy(res, "*");
    for (const name of ["X-RateLimit-Remaining", "RateLimit", "X-Request-Id", "X-Verk-Bookmark"]) {
      expect(res.headers.get(name), name).not.toBeNull();
    }
  });

  it("errors are readable too: 401 without a key, 404, and 429 with its Retry-After", async () => {
    await awayFromMinuteEnd();
    const org = await createOrg();
    const headers = { Origin: APP };
    const unauthenticated = await call("GET", "/v1/projects", { headers });
    expectError(unauthenticated, 401, "UNAUTHORIZED");
    expectReadableBy(unauthenticated, "*");

    const missing = await call("GET", "/v1/projects/proj_missing", { key: org.keys.read, headers });
    expectError(missing, 404, "NOT_FOUND");
    expectReadableBy(missing, "*");
    const noRoute = await call("GET", "/v1/nowhere", { key: org.keys.read, headers });
    expectError(noRoute, 404, "NOT_FOUND");
    expectReadableBy(noRoute, "*");

    const ip = ownIp();
    for (let i = 0; i < 20; i++) await call("GET", "/v1/projects", { key: unknownKey(), ip });
    const throttled = await call("GET", "/v1/projects", { key: unknownKey(), ip, headers });
    expectError(throttled, 429, "RATE_LIMITED");
    expectReadableBy(throttled, "*");
    expect(throttled.headers.get("Retry-After")).not.toBeNull();
  });

  it("a 500 is readable too", async () => {
    const brokenDb = {
      withSession() {
        throw new Error("D1 is unavailable");
      },
    } as unknown as D1Database;
    const res = await fetchWith({ DB: brokenDb }, "/health", { headers: { Origin: APP } });
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("INTERNAL_ERROR");
    expectReadableBy(res, "*");
  });
});

describe("CORS: a restricted CORS_ALLOWED_ORIGINS", () => {
  const restricted = { CORS_ALLOWED_ORIGINS: `${APP}, https://admin.example.com` };

  it("echoes an allowed origin, on preflights and on answers, and varies on Origin", async () => {
    const preflight = await fetchWith(restricted, "/v1/projects", {
      method: "OPTIONS",
      headers: preflightHeaders("https://admin.example.com"),
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBe("https://admin.example.com");
    expect(names(preflight.headers.get("Vary"))).toContain("origin");

    const answer = await fetchWith(restricted, "/v1/projects", { headers: { Origin: APP } });
    expect(answer.status).toBe(401);
    expectReadableBy(answer, APP);
    expect(names(answer.headers.get("Vary"))).toContain("origin");
  });

  it("gives another origin no Access-Control-Allow-Origin", async () => {
    for (const origin of ["https://evil.example.com", "https://app.example.com.evil.test", "null"]) {
      const preflight = await fetchWith(restricted, "/v1/projects", {
        method: "OPTIONS",
        headers: preflightHeaders(origin),
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("Access-Control-Allow-Origin"), origin).toBeNull();
      const answer = await fetchWith(restricted, "/v1/projects", { headers: { Origin: origin } });
      expect(answer.status).toBe(401);
      expect(answer.headers.get("Access-Control-Allow-Origin"), origin).toBeNull();
    }
  });
});
