import type { Context } from "hono";
import { nowIso } from "../core/time";
import type { WriteContext } from "../core/write-context";
import { keyRecordsOf } from "../identity/key-cache";
import { commitStatements, DISPATCH_LIMITS, dispatchCommitted } from "../webhooks/dispatch";
import type { AppEnv } from "./context";

/** A POST's Idempotency-Key answer (`answerOnce`): stored in the write's batch, released if the write is undone. */
export interface AnswerHooks {
  record: WriteContext["recordAnswer"];
  release?: WriteContext["releaseAnswer"];
}

/** What every write context of a request shares: the database, the clock, the event sink, the key records, the answer. */
export function sharedWriteParts(c: Context<AppEnv>, answer?: AnswerHooks): Omit<WriteContext, "orgId" | "actor"> {
  return {
    db: c.get("db"),
    afterCommit: dispatchAfterResponse(c),
    commitReads: (orgId, eventIds) => commitStatements(c.get("db"), orgId, eventIds),
    now: nowIso,
    keys: keyRecordsOf(c.env),
    files: c.env.FILES,
    recordAnswer: answer?.record,
    releaseAnswer: answer?.release,
  };
}

/** The domain's view of a write by an API key: its organization and its member. */
export function writeContext(c: Context<AppEnv>, answer?: AnswerHooks): WriteContext {
  const principal = c.get("principal");
  return {
    ...sharedWriteParts(c, answer),
    orgId: principal.orgId,
    actor: {
      userId: principal.userId,
      apiKeyId: principal.apiKeyId,
      role: principal.role,
      permissions: principal.permissions,
    },
  };
}

/** The operator's writes (ADMIN_TOKEN): no member acts, so no ranking applies; the organization is the route's. */
export function operatorContext(c: Context<AppEnv>, answer?: AnswerHooks): Omit<WriteContext, "orgId"> {
  return { ...sharedWriteParts(c, answer), actor: { userId: null, apiKeyId: null } };
}

/**
 * Committed events go to their webhooks after the response (webhooks/dispatch.ts), the
 * webhooks read in the commit's own batch (`commitReads`);
 * whatever that cannot finish is left to the queue and the outbox sweep.
 */
export function dispatchAfterResponse(c: Context<AppEnv>): WriteContext["afterCommit"] {
  return (rows, reads, unsentIds) =>
    c.executionCtx.waitUntil(dispatchCommitted(c.env, rows, DISPATCH_LIMITS, reads, unsentIds));
}
