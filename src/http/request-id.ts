import { createMiddleware } from "hono/factory";
import { newId } from "../core/ids";
import type { AppEnv } from "./context";

/** Hono's own requestId middleware refuses dots, which callers' trace ids carry (`trace-123.abc`). */
const SAFE_REQUEST_ID = /^[\w.-]{1,128}$/;

/**
 * Gives every request an id (the caller's `X-Request-Id` when it is sane), echoes
 * it on every response and writes one structured log line per request.
 * Headers are never logged: they carry keys.
 */
export const requestContext = createMiddleware<AppEnv>(async (c, next) => {
  const incoming = c.req.header("X-Request-Id");
  const requestId = incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : newId("req");
  c.set("requestId", requestId);
  const started = Date.now();
  await next();
  c.header("X-Request-Id", requestId);
  const principal = c.get("principal");
  const credential = c.get("incomingWebhook");
  console.log(
    JSON.stringify({
      level: c.res.status >= 500 ? "error" : "info",
      msg: "request",
      requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      durationMs: Date.now() - started,
      orgId: principal?.orgId ?? credential?.orgId,
      apiKeyId: principal?.apiKeyId,
      incomingWebhookId: credential?.id,
    }),
  );
});
