import { and, eq, isNull } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Context, TypedResponse } from "hono";
import { createMiddleware } from "hono/factory";
import { configFrom } from "../config";
import { sha256Hex } from "../core/crypto";
import { AppError } from "../core/errors";
import { isoPlusSeconds, nowIso } from "../core/time";
import { quoteEtag } from "../core/versions";
import { claimIdempotencyKey, pruneExpiredIdempotencyKeys } from "../db/idempotency-keys.queries";
import { type IdempotencyKey, idempotencyKeys } from "../db/schema";
import type { AppEnv } from "./context";
import { setEtag } from "./etag";

export const IDEMPOTENCY_HEADER = "Idempotency-Key";
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** Keys sent without an API key (the operator's endpoints) all belong to this owner. */
const OPERATOR_OWNER = "operator";

/** A pending row older than this belongs to a request that died; a retry may take it over. */
const ABANDONED_AFTER_SECONDS = 60;

/** The key a request claimed, while it runs. */
interface Claim {
  owner: string;
  key: string;
}
const claims = new WeakMap<Request, Claim>();

/** The row of a claimed key. */
const rowOf = ({ owner, key }: Claim) => and(eq(idempotencyKeys.orgId, owner), eq(idempotencyKeys.key, key));
/** Requests whose response was stored in the batch of their change (see `answerOnce`). */
const answeredInBatch = new WeakSet<Request>();

/** What a write answers: built once from its result, both to send and to store for replays. */
export interface Answer<B = unknown, S extends 200 | 201 | 202 = 200 | 201 | 202> {
  status: S;
  body: B;
  location?: string;
  etag?: string;
  /** JSON paths of fields shown only in this response (a new secret): replays omit them. */
  secretPaths?: string[];
}

/**
 * The answer of a write guarded by `Idempotency-Key`. `record(result)` gives the
 * statement that stores the answer, for the domain to put in the batch of its change
 * (none without a key): the change and the stored answer then commit together or not
 * at all, so a failure after the commit cannot run the change twice. `send(result)`
 * answers the request with exactly what is stored.
 */
export function answerOnce<R, S extends 200 | 201 | 202>(c: Context<AppEnv>, build: (result: R) => Answer<unknown, S>) {
  return {
    record: (result: unknown): BatchItem<"sqlite">[] => {
      const claim = claims.get(c.req.raw);
      if (!claim) return [];
      const answer = build(result as R);
      answeredInBatch.add(c.req.raw);
      const db = c.get("db");
      return [
        db
          .update(idempotencyKeys)
          .set({
            status: answer.status,
            responseBody: redactSecrets(JSON.stringify(answer.body), answer.secretPaths),
            location: answer.location ?? null,
            etag: answer.etag ?? null,
          })
          .where(and(rowOf(claim), isNull(idempotencyKeys.status))),
      ];
    },
    /** Statements that forget the stored answer, for a write undone after its commit. */
    release: (): BatchItem<"sqlite">[] => {
      const claim = claims.get(c.req.raw);
      if (!claim) return [];
      const db = c.get("db");
      return [db.delete(idempotencyKeys).where(rowOf(claim))];
    },
    send: (result: R) => {
      const answer = build(result);
      if (answer.location) c.header("Location", answer.location);
      if (answer.etag) setEtag(c, answer.etag);
      if (answer.secretPaths) c.header("Cache-Control", "no-store");
      // The body is the domain's presented resource; the route's schema documents it.
      return c.json(answer.body as never, answer.status) as unknown as TypedResponse<never, S, "json">;
    },
  };
}

/**
 * `Idempotency-Key` on POST (README "Safe retries"), scoped to the organization: the first request
 * with a key claims it (a pending row, INSERT OR IGNORE on the primary key), runs,
 * and stores its response; a retry with the same key and the same method, path and
 * body within the TTL gets that response again (`Idempotent-Replayed: true`) and runs
 * nothing. The same key with another request is a 409, and so is a retry while the
 * first is still running. Only successful (2xx) responses are kept: an error changed
 * nothing, so it releases the key and the client may retry with it (as Stripe does).
 */
export const idempotency = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.method !== "POST") return next();
  const key = c.req.header(IDEMPOTENCY_HEADER);
  if (key === undefined) return next();
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new AppError(
      "VALIDATION_ERROR",
      `${IDEMPOTENCY_HEADER} must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`,
      { field: IDEMPOTENCY_HEADER },
    );
  }

  const db = c.get("db");
  const principal = c.get("principal");
  const credential = c.get("incomingWebhook");
  const owner = principal?.orgId ?? credential?.orgId ?? OPERATOR_OWNER;
  // The calling credential is part of the request: another key (a read key, say)
  // reusing the idempotency key is a different request, never a replay of this one.
  const caller = principal?.apiKeyId ?? credential?.id ?? OPERATOR_OWNER;
  const url = new URL(c.req.url);
  const requestHash = await sha256Hex(`${c.req.method} ${url.pathname}${url.search}\n${caller}\n${await c.req.text()}`);
  const now = nowIso();

  const session = c.get("session");
  const [, claim] = await session.batch(
    claimIdempotencyKey(session, {
      owner,
      key,
      requestHash,
      now,
      expiresAt: isoPlusSeconds(configFrom(c.env).idempotencyTtlSeconds),
      // Expired keys and abandoned claims are free again.
      abandonedBefore: isoPlusSeconds(-ABANDONED_AFTER_SECONDS),
    }),
  );

  const ofThisKey = rowOf({ owner, key });
  if ((claim?.meta.changes ?? 0) === 0) {
    const [stored] = await db.select().from(idempotencyKeys).where(ofThisKey);
    if (stored) return replay(c, stored, requestHash);
    // Released between our insert and our read: the first request failed. Run as new.
  }

  let stored = false;
  claims.set(c.req.raw, { owner, key });
  try {
    await next();
    if (c.res.status >= 200 && c.res.status < 300) {
      // Writes store their answer in their own batch; what changed no row is stored here.
      if (!answeredInBatch.has(c.req.raw)) {
        const body = await c.res.clone().text();
        const etag = c.res.headers.get("ETag")?.replace(/^"(.*)"$/, "$1") ?? null;
        await db
          .update(idempotencyKeys)
          .set({ status: c.res.status, responseBody: body, location: c.res.headers.get("Location"), etag })
          .where(ofThisKey);
      }
      stored = true;
    }
  } finally {
    if (!stored) {
      await db.delete(idempotencyKeys).where(and(ofThisKey, isNull(idempotencyKeys.status)));
    }
  }
});

function replay(c: Context<AppEnv>, stored: IdempotencyKey, requestHash: string): Response {
  if (stored.requestHash !== requestHash) {
    throw new AppError(
      "CONFLICT",
      `This ${IDEMPOTENCY_HEADER} was already used for a different request (method, path or body); use a new key`,
      { field: IDEMPOTENCY_HEADER },
    );
  }
  if (stored.status === null) {
    throw new AppError("CONFLICT", `A request with this ${IDEMPOTENCY_HEADER} is still in progress; retry shortly`, {
      field: IDEMPOTENCY_HEADER,
      headers: { "Retry-After": "1" },
    });
  }
  const headers: Record<string, string> = { "Idempotent-Replayed": "true" };
  if (stored.location) headers.Location = stored.location;
  if (stored.etag) headers.ETag = quoteEtag(stored.etag);
  if (stored.responseBody) headers["Content-Type"] = "application/json";
  const status = stored.status as 200;
  return stored.responseBody ? c.body(stored.responseBody, status, headers) : c.body(null, status, headers);
}

/** The response body without the secret fields, for storage. */
function redactSecrets(body: string, paths: string[] | undefined): string {
  if (!paths || paths.length === 0 || body === "") return body;
  const parsed = JSON.parse(body) as Record<string, unknown>;
  for (const path of paths) {
    const segments = path.split(".");
    const last = segments.pop();
    let holder: unknown = parsed;
    for (const segment of segments) holder = (holder as Record<string, unknown> | undefined)?.[segment];
    if (last && holder && typeof holder === "object") delete (holder as Record<string, unknown>)[last];
  }
  return JSON.stringify(parsed);
}

/** Rows removed per cron run: bounded, so one run never holds D1 long. */
const PRUNE_BATCH = 1000;

/** The cron's share: forgets expired keys (they are already ignored when looked up). */
export async function pruneIdempotencyKeys(db: D1Database, now = nowIso()): Promise<number> {
  const result = await pruneExpiredIdempotencyKeys(db, now, PRUNE_BATCH).run();
  return result.meta.changes;
}

/** The answer of a create that returns a versioned resource: 201 with its Location and ETag. */
export function createdAt(collection: string) {
  return (result: { resource: { id: string }; etag: string }): Answer<unknown, 201> => ({
    status: 201,
    body: result.resource,
    location: `${collection}/${result.resource.id}`,
    etag: result.etag,
  });
}
