import { createMiddleware } from "hono/factory";
import { configFrom } from "../config";
import { sha256Hex } from "../core/crypto";
import { AppError } from "../core/errors";
import type { Env } from "../env";
import { isWellFormedApiKey } from "../identity/api-key-format";
import { touchApiKey } from "../identity/api-keys";
import { keyLimiter } from "../identity/key-cache";
import type { KeyPermission } from "../identity/principal";
import type { Decision } from "../ratelimit/windows";
import type { AppEnv } from "./context";
import { rateLimitHeaders } from "./rate-limit-headers";

/** IPs over their failed-authentication budget, remembered by this isolate until the window ends. */
const throttledIps = new Map<string, number>();
/** Beyond this many remembered addresses, expired ones are dropped (a scan from many addresses cannot fill memory). */
const MAX_REMEMBERED_IPS = 10_000;

export function clientIp(headers: { header(name: string): string | undefined }): string {
  return headers.header("CF-Connecting-IP") ?? "unknown";
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

/** CORS preflights carry no credentials: they are never authenticated, so never a failed authentication. */
export function isPreflight(method: string): boolean {
  return method === "OPTIONS";
}

/**
 * Authenticates `Authorization: Bearer vk_live_…` and counts the request in the key's
 * Durable Object (one round trip). Sets `c.var.principal` and the rate-limit headers;
 * over a limit the request stops here with 429. Runs before the body is read.
 *
 * From an address throttled for failed authentications, a valid key keeps working: a
 * key carries ~238 random bits, so guessing one is hopeless and the throttle exists to
 * bound what a scan costs, not to stop guessing. Malformed keys are refused by shape,
 * and unknown ones by their (empty) Durable Object without a D1 lookup.
 */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  if (isPreflight(c.req.method)) return next();
  const ip = clientIp(c.req);
  const key = bearerToken(c.req.header("Authorization"));
  if (!key) return failAuthentication(c.env, ip, "Missing API key: send Authorization: Bearer <key>");
  if (!isWellFormedApiKey(key)) return failAuthentication(c.env, ip, "Invalid API key");

  const keyHash = await sha256Hex(key);
  const outcome = await keyLimiter(c.env, keyHash).authenticate(keyHash, throttledFor(ip) > 0);
  if (!outcome.ok) {
    const message = outcome.reason === "unknown" ? "Invalid API key" : `API key is ${outcome.reason}`;
    return failAuthentication(c.env, ip, message);
  }

  const headers = { ...rateLimitHeaders(outcome.decision), ...permissionsHeader(outcome.principal.permissions) };
  if (!outcome.decision.allowed) throw rateLimited(outcome.decision, headers);
  c.set("principal", outcome.principal);
  if (outcome.touch) c.executionCtx.waitUntil(touchApiKey(c.env.DB, outcome.principal.apiKeyId));
  await next();
  for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
});

/**
 * What the key may do at this moment (its permissions within its member's role, the set
 * `requirePermission` checks), in catalog order, on every answer once the key is known,
 * refusals included, as GitHub's `X-OAuth-Scopes` (README "Identity and keys").
 */
export const PERMISSIONS_HEADER = "X-Verk-Permissions";

function permissionsHeader(permissions: readonly KeyPermission[]): Record<string, string> {
  return { [PERMISSIONS_HEADER]: permissions.join(",") };
}

/** Seconds this isolate still refuses failed authentications from `ip` without asking anyone; 0 if none. */
function throttledFor(ip: string): number {
  const until = throttledIps.get(ip);
  if (until === undefined) return 0;
  if (until > Date.now()) return Math.ceil((until - Date.now()) / 1000);
  throttledIps.delete(ip);
  return 0;
}

function rememberThrottled(ip: string, retryAfterSeconds: number): void {
  if (throttledIps.size >= MAX_REMEMBERED_IPS) {
    const now = Date.now();
    for (const [known, until] of throttledIps) if (until <= now) throttledIps.delete(known);
    if (throttledIps.size >= MAX_REMEMBERED_IPS) throttledIps.clear();
  }
  throttledIps.set(ip, Date.now() + retryAfterSeconds * 1000);
}

/** Route middleware: 403 naming the permission unless the key holds `needed` (a scope holds its set). */
export function requirePermission(needed: KeyPermission) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (!c.get("principal").permissions.includes(needed)) {
      throw new AppError(
        "FORBIDDEN",
        `This action needs a key with the '${needed}' permission, which this key does not hold (within its member's role)`,
      );
    }
    await next();
  });
}

export function rateLimited(decision: Decision, headers: Record<string, string>): AppError {
  return new AppError("RATE_LIMITED", "Rate limit exceeded; retry after the time in Retry-After", {
    headers: { ...headers, "Retry-After": String(decision.retryAfterSeconds) },
  });
}

function tooManyFailures(retryAfterSeconds: number): AppError {
  return new AppError("RATE_LIMITED", "Too many failed authentications from this address", {
    headers: { "Retry-After": String(Math.max(1, retryAfterSeconds)) },
  });
}

function failurePolicies(env: Env) {
  return [{ name: "auth_failures", limit: configFrom(env).authFailuresPerMinute, windowSeconds: 60 }];
}

function ipLimiter(env: Env, ip: string) {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`ip:${ip}`));
}

/**
 * 429 when `ip` is throttled, asking its Durable Object when this isolate does not
 * know: for the operator's token, whose check must not tell a throttled guesser
 * whether it guessed right, so every token from a throttled address gets 429.
 */
export async function refuseThrottledIp(env: Env, ip: string): Promise<void> {
  refuseKnownThrottled(ip);
  refuseOverBudget(ip, await ipLimiter(env, ip).peek(failurePolicies(env)));
}

/**
 * Counts a failed authentication against the client IP: 401, or 429 once the IP is
 * over its budget. An address this isolate already knows to be throttled gets 429 at
 * once, without another round trip.
 */
export async function failAuthentication(env: Env, ip: string, message: string): Promise<never> {
  refuseKnownThrottled(ip);
  refuseOverBudget(ip, await ipLimiter(env, ip).hit(failurePolicies(env)));
  throw new AppError("UNAUTHORIZED", message);
}

/** 429 at once for an address this isolate already knows to be throttled. */
function refuseKnownThrottled(ip: string): void {
  const known = throttledFor(ip);
  if (known > 0) throw tooManyFailures(known);
}

/** 429 when the address's Durable Object found it over its budget, remembered by this isolate. */
function refuseOverBudget(ip: string, decision: Decision): void {
  if (decision.allowed) return;
  rememberThrottled(ip, decision.retryAfterSeconds);
  throw tooManyFailures(decision.retryAfterSeconds);
}
