import { createMiddleware } from "hono/factory";
import { configFrom } from "../config";
import type { Env } from "../env";
import { isWellFormedApiKey } from "../identity/api-key-format";
import { touchApiKey } from "../identity/api-keys";
import { keyLimiter } from "../identity/key-cache";
import { type Scope, scopeCovers } from "../identity/principal";
import { sha256Hex } from "../lib/crypto";
import type { Decision } from "../ratelimit/windows";
import type { AppEnv } from "./context";
import { ApiError } from "./errors";
import { rateLimitHeaders } from "./rate-limit-headers";

/** IPs over their failed-authentication budget, remembered by this isolate until the window ends. */
const blockedIps = new Map<string, number>();

export function clientIp(headers: { header(name: string): string | undefined }): string {
  return headers.header("CF-Connecting-IP") ?? "unknown";
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

/**
 * Authenticates `Authorization: Bearer vk_live_…` and counts the request in the key's
 * Durable Object (one round trip). Sets `c.var.principal` and the rate-limit headers;
 * over a limit the request stops here with 429.
 */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const ip = clientIp(c.req);
  refuseBlockedIp(ip);

  const key = bearerToken(c.req.header("Authorization"));
  if (!key) return failAuthentication(c.env, ip, "Missing API key: send Authorization: Bearer <key>");
  if (!isWellFormedApiKey(key)) return failAuthentication(c.env, ip, "Invalid API key");

  const keyHash = await sha256Hex(key);
  const outcome = await keyLimiter(c.env, keyHash).authenticate(keyHash);
  if (!outcome.ok) {
    const message = outcome.reason === "unknown" ? "Invalid API key" : `API key is ${outcome.reason}`;
    return failAuthentication(c.env, ip, message);
  }

  const headers = rateLimitHeaders(outcome.decision);
  if (!outcome.decision.allowed) throw rateLimited(outcome.decision, headers);
  c.set("principal", outcome.principal);
  if (outcome.touch) c.executionCtx.waitUntil(touchApiKey(c.env.DB, outcome.principal.apiKeyId));
  await next();
  for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
});

/** 429 at once for an address this isolate saw exceed its failed-authentication budget. */
export function refuseBlockedIp(ip: string): void {
  const blockedUntil = blockedIps.get(ip);
  if (blockedUntil === undefined) return;
  if (blockedUntil > Date.now()) throw tooManyFailures(Math.ceil((blockedUntil - Date.now()) / 1000));
  blockedIps.delete(ip);
}

/** Route middleware: 403 unless the key's scope covers `needed` (admin ⊃ write ⊃ read). */
export function requireScope(needed: Scope) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const { scope } = c.get("principal");
    if (!scopeCovers(scope, needed)) {
      throw new ApiError("FORBIDDEN", `This action needs a key with the '${needed}' scope; this key has '${scope}'`);
    }
    await next();
  });
}

export function rateLimited(decision: Decision, headers: Record<string, string>): ApiError {
  return new ApiError("RATE_LIMITED", "Rate limit exceeded; retry after the time in Retry-After", {
    headers: { ...headers, "Retry-After": String(decision.retryAfterSeconds) },
  });
}

function tooManyFailures(retryAfterSeconds: number): ApiError {
  return new ApiError("RATE_LIMITED", "Too many failed authentications from this address", {
    headers: { "Retry-After": String(Math.max(1, retryAfterSeconds)) },
  });
}

/** Counts a failed authentication against the client IP: 401, or 429 once the IP is over its budget. */
export async function failAuthentication(env: Env, ip: string, message: string): Promise<never> {
  const limit = configFrom(env).authFailuresPerMinute;
  const limiter = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`ip:${ip}`));
  const decision = await limiter.hit([{ name: "auth_failures", limit, windowSeconds: 60 }]);
  if (!decision.allowed) {
    blockedIps.set(ip, Date.now() + decision.retryAfterSeconds * 1000);
    throw tooManyFailures(decision.retryAfterSeconds);
  }
  throw new ApiError("UNAUTHORIZED", message);
}
