import { drizzle } from "drizzle-orm/d1";
import { createMiddleware } from "hono/factory";
import { AppError } from "../core/errors";
import type { AppEnv } from "./context";

/**
 * Read-your-writes across D1 read replicas (README "Reading your own writes"): every
 * response that reached the database carries the position it saw; a request that sends
 * it back is served by a replica at least that fresh.
 */
export const BOOKMARK_HEADER = "X-Verk-Bookmark";

/**
 * D1's bookmark (Durable Object storage's): four dash-separated lower-case hex fields.
 * Checked before D1 sees it: the binding keeps whichever bookmark sorts last, so an
 * unchecked `zzz` would be sent to D1 on every query and echoed back to the client.
 */
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

/**
 * One D1 session per request, behind `c.var.db` and `c.var.session`. Reads (GET, HEAD)
 * start anywhere, a nearby replica included, or where the client's bookmark says;
 * writes start on the primary, which is never behind any bookmark, so what they read
 * before writing (the current row, the guards' facts) is the latest. A malformed
 * bookmark is a 400; an empty header counts as none.
 */
export const withDbSession = createMiddleware<AppEnv>(async (c, next) => {
  const bookmark = c.req.header(BOOKMARK_HEADER)?.trim() || undefined;
  if (bookmark !== undefined && !BOOKMARK.test(bookmark)) {
    throw new AppError("VALIDATION_ERROR", `${BOOKMARK_HEADER} must be a bookmark this API returned`, {
      field: BOOKMARK_HEADER,
    });
  }
  const reads = c.req.method === "GET" || c.req.method === "HEAD";
  const session = c.env.DB.withSession(reads ? (bookmark ?? "first-unconstrained") : "first-primary");
  c.set("session", session);
  // drizzle's D1 driver calls only `prepare` and `batch` on its client
  // (drizzle-orm/d1/session.js), which a session has with the binding's signatures;
  // its type asks for the whole binding (`exec`, `withSession`, `dump`).
  c.set("db", drizzle(session as unknown as D1Database));
  await next();
  const seen = session.getBookmark();
  if (seen) c.res.headers.set(BOOKMARK_HEADER, seen);
});

/** The slice of an OpenAPI 3.1 document `documentBookmark` touches. */
interface OpenApiDocument {
  paths?: object;
}
interface OperationObject {
  parameters?: unknown[];
  responses?: Record<string, { headers?: Record<string, unknown> }>;
}
const METHODS = new Set(["get", "head", "post", "put", "patch", "delete", "options"]);

const BOOKMARK_PARAMETER = {
  name: BOOKMARK_HEADER,
  in: "header",
  required: false,
  description:
    "A bookmark an earlier response returned: this request then reads data at least as recent as that response saw (read-your-writes across read replicas). Malformed: 400 VALIDATION_ERROR.",
  schema: { type: "string", pattern: BOOKMARK.source },
};
const BOOKMARK_RESPONSE_HEADER = {
  description: `The database position this request saw; send it back as ${BOOKMARK_HEADER} to read at least this fresh. Absent when the request did not reach the database.`,
  schema: { type: "string" },
};

/**
 * Adds the header to every operation under `/v1` of the OpenAPI document, as a request
 * parameter and a response header, since `withDbSession` serves them all: stated here
 * once rather than in every route's contract. Inline, not `$ref`, so that every reader
 * of `parameters` finds a name.
 */
export function documentBookmark<D extends OpenApiDocument>(document: D): D {
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    if (!path.startsWith("/v1/")) continue;
    for (const [method, value] of Object.entries(item as Record<string, unknown>)) {
      if (!METHODS.has(method)) continue;
      const operation = value as OperationObject;
      operation.parameters = [...(operation.parameters ?? []), BOOKMARK_PARAMETER];
      for (const response of Object.values(operation.responses ?? {})) {
        response.headers = { ...response.headers, [BOOKMARK_HEADER]: BOOKMARK_RESPONSE_HEADER };
      }
    }
  }
  return document;
}
