import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { AppError } from "../core/errors";
import type { AppEnv } from "./context";

export const MAX_BODY_BYTES = 1024 * 1024;
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/** Hono's body limit: trusts Content-Length, and counts the bytes of a body sent without one. */
const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw tooLarge();
  },
});

/**
 * Admits only JSON bodies of at most 1 MiB on writes: 413, 415 and INVALID_JSON are
 * decided here, after authentication and before any route runs. The body is read once
 * (Hono's `bodyLimit` stops one without Content-Length at 1 MiB), and the request then
 * continues as `application/json` with the same text; an empty body continues as `{}`.
 */
export const jsonBodyGuard = createMiddleware<AppEnv>(async (c, next) => {
  const method = c.req.method;
  if (method !== "POST" && method !== "PATCH" && method !== "PUT") return next();
  return limitBody(c, async () => {
    const text = await c.req.raw.text();
    let json = "{}";
    if (text.trim() !== "") {
      const mediaType = (c.req.header("Content-Type") ?? "").split(";")[0]?.trim() ?? "";
      if (!JSON_MEDIA_TYPE.test(mediaType)) {
        throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Request bodies must be JSON (Content-Type: application/json)");
      }
      try {
        JSON.parse(text);
      } catch {
        throw new AppError("INVALID_JSON", "Request body is not valid JSON");
      }
      json = text;
    }
    const headers = new Headers(c.req.raw.headers);
    headers.set("Content-Type", "application/json");
    headers.delete("Content-Length");
    c.req.raw = new Request(c.req.url, { method, headers, body: json });
    await next();
  });
});

const tooLarge = () => new AppError("PAYLOAD_TOO_LARGE", `Request body exceeds ${MAX_BODY_BYTES} bytes`);
