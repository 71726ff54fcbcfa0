import { createMiddleware } from "hono/factory";
import { AppError } from "../core/errors";
import type { AppEnv } from "./context";

export const MAX_BODY_BYTES = 1024 * 1024;
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * Admits only JSON bodies of at most 1 MiB on writes: 413, 415 and INVALID_JSON are
 * decided here, after authentication and before any route runs. The body is read once,
 * counting bytes as they arrive (a body without Content-Length cannot fill memory),
 * and the request then continues as `application/json` with the same text; an empty
 * body continues as `{}`.
 */
export const jsonBodyGuard = createMiddleware<AppEnv>(async (c, next) => {
  const method = c.req.method;
  if (method !== "POST" && method !== "PATCH" && method !== "PUT") return next();

  const declared = Number(c.req.header("Content-Length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const text = new TextDecoder().decode(await readAtMost(c.req.raw.body, MAX_BODY_BYTES));

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
  return next();
});

/** The whole body, or PAYLOAD_TOO_LARGE as soon as it passes `limit` bytes. */
async function readAtMost(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

const tooLarge = () => new AppError("PAYLOAD_TOO_LARGE", `Request body exceeds ${MAX_BODY_BYTES} bytes`);
