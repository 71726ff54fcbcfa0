import { cors } from "hono/cors";
import { configFrom } from "../config";
import type { Env } from "../env";
import { PERMISSIONS_HEADER } from "./auth";
import { BOOKMARK_HEADER } from "./db-session";

/**
 * Lets browser pages on `CORS_ALLOWED_ORIGINS` call the API (README "Browsers (CORS)").
 * Never in credentials mode: keys travel in the Authorization header, not in cookies, so
 * `*` exposes nothing a page could not already send. Mounted before the D1 session and
 * authentication, so a preflight is answered 204 at once: never authenticated, never
 * counted by a rate limit or the failed-authentication throttle, and no Durable Object
 * is asked. Every other answer, errors included, carries `Access-Control-Allow-Origin`
 * for an allowed origin, so a page can read the error body.
 */
export const corsPolicy = cors({
  origin: (origin, c) => {
    const allowed = configFrom(c.env as Env).corsAllowedOrigins;
    if (allowed === "*") return "*";
    return allowed.includes(origin) ? origin : null;
  },
  allowMethods: ["GET", "HEAD", "POST", "PATCH", "DELETE"],
  allowHeaders: [
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "If-None-Match",
    "Prefer",
    "X-Request-Id",
    BOOKMARK_HEADER,
  ],
  // What a page reads beyond the CORS-safelisted response headers: rate limits
  // (http/rate-limit-headers.ts, Retry-After on 429 and on 409 for an
  // Idempotency-Key still in progress), the request id, versions,
  // where a create put its resource, pages, the read-your-writes bookmark, replays and
  // a DELETE's honoured `Prefer: return=minimal`, and what the key may do (a page offers
  // only what it allows).
  exposeHeaders: [
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
    BOOKMARK_HEADER,
    "Idempotent-Replayed",
    "Preference-Applied",
    PERMISSIONS_HEADER,
  ],
  // Seconds a browser may reuse a preflight's answer (Chromium caps it at 7200).
  maxAge: 600,
});
