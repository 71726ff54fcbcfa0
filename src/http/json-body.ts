import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./context";
import { ApiError } from "./errors";

export const MAX_BODY_BYTES = 1024 * 1024;
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * Admits only JSON bodies of at most 1 MiB on writes, parsed once: 413, 415 and
 * INVALID_JSON happen here, before any route runs. An empty body reads as `{}`.
 */
export const jsonBodyGuard = createMiddleware<AppEnv>(async (c, next) => {
  const method = c.req.method;
  if (method !== "POST" && method !== "PATCH" && method !== "PUT") return next();

  const declared = Number(c.req.header("Content-Length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const bytes = new Uint8Array(await c.req.raw.arrayBuffer());
  if (bytes.byteLength > MAX_BODY_BYTES) throw tooLarge();

  const text = new TextDecoder().decode(bytes);
  if (text.trim() === "") {
    cacheBodyText(c.req.bodyCache, "{}");
    return next();
  }
  const mediaType = (c.req.header("Content-Type") ?? "").split(";")[0]?.trim() ?? "";
  if (!JSON_MEDIA_TYPE.test(mediaType)) {
    throw new ApiError("UNSUPPORTED_MEDIA_TYPE", "Request bodies must be JSON (Content-Type: application/json)");
  }
  try {
    JSON.parse(text);
  } catch {
    throw new ApiError("INVALID_JSON", "Request body is not valid JSON");
  }
  cacheBodyText(c.req.bodyCache, text);
  return next();
});

const tooLarge = () => new ApiError("PAYLOAD_TOO_LARGE", `Request body exceeds ${MAX_BODY_BYTES} bytes`);

/** Hono's body cache holds promises (its type says otherwise); `c.req.json()` then reads this text. */
function cacheBodyText(cache: object, text: string): void {
  (cache as { text?: Promise<string> }).text = Promise.resolve(text);
}
