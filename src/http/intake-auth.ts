import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { AppError } from "../core/errors";
import type { WriteContext } from "../core/write-context";
import { INCOMING_KEY_PREFIX, isWellFormedKey } from "../identity/api-key-format";
import { ipAllowed } from "../incoming-webhooks/cidr";
import {
  findIncomingWebhookByKey,
  INCOMING_REQUESTS_PER_MINUTE,
  type IncomingPermission,
  touchIncomingWebhook,
} from "../incoming-webhooks/incoming-webhooks";
import { bearerToken, clientIp, failAuthentication, isPreflight, rateLimited } from "./auth";
import type { AppEnv } from "./context";
import { rateLimitHeaders } from "./rate-limit-headers";
import { type AnswerHooks, sharedWriteParts } from "./write-context";

/**
 * Authenticates `Authorization: Bearer ik_live_…` for the automation endpoints:
 * unknown or disabled credential 401 (counted against the client IP like any failed
 * authentication), client IP outside the allowlist 403, over 100 requests a minute 429.
 */
export const authenticateIntake = createMiddleware<AppEnv>(async (c, next) => {
  if (isPreflight(c.req.method)) return next();
  const ip = clientIp(c.req);
  const key = bearerToken(c.req.header("Authorization"));
  if (!key || !isWellFormedKey(key, INCOMING_KEY_PREFIX)) {
    return failAuthentication(
      c.env,
      ip,
      "Missing or invalid incoming-webhook key: send Authorization: Bearer ik_live_…",
    );
  }
  const credential = await findIncomingWebhookByKey(c.get("db"), key);
  if (!credential) return failAuthentication(c.env, ip, "Invalid incoming-webhook key");
  if (!credential.enabled) return failAuthentication(c.env, ip, "This incoming webhook is disabled");
  if (!ipAllowed(ip, credential.ipAllowlist)) {
    throw new AppError("FORBIDDEN", "This address is not in the incoming webhook's IP allowlist");
  }

  // Counted per credential, not per key: rotating the key does not reset the budget.
  const limiter = c.env.RATE_LIMITER.get(c.env.RATE_LIMITER.idFromName(`incoming:${credential.id}`));
  const decision = await limiter.hit([{ name: "minute", limit: INCOMING_REQUESTS_PER_MINUTE, windowSeconds: 60 }]);
  const headers = rateLimitHeaders(decision);
  if (!decision.allowed) throw rateLimited(decision, headers);

  c.set("incomingWebhook", credential);
  c.executionCtx.waitUntil(touchIncomingWebhook(c.env.DB, credential));
  await next();
  for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
});

/** Route middleware: 403 unless the credential was granted `permission`. */
export function requirePermission(permission: IncomingPermission) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const granted = c.get("incomingWebhook").permissions;
    if (!granted.includes(permission)) {
      throw new AppError("FORBIDDEN", `This incoming webhook lacks the '${permission}' permission`);
    }
    await next();
  });
}

/** Domain writes by a credential: same rules and events as the main API, the credential as actor. */
export function intakeWriteContext(c: Context<AppEnv>, answer?: AnswerHooks): WriteContext {
  const credential = c.get("incomingWebhook");
  return {
    ...sharedWriteParts(c, answer),
    orgId: credential.orgId,
    actor: { userId: null, apiKeyId: null, incomingWebhookId: credential.id },
  };
}
