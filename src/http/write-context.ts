import type { Context } from "hono";
import { nowIso } from "../core/time";
import type { WriteContext } from "../core/write-context";
import { enqueueEvents } from "../events/outbox";
import { keyRecordsOf } from "../identity/key-cache";
import type { AppEnv } from "./context";

/**
 * The domain's view of an authenticated write: org, actor, enqueue-after-commit, and
 * (for a POST's `answerOnce`) the statements that store its answer in its batch.
 */
export function writeContext(c: Context<AppEnv>, answer?: { record: WriteContext["recordAnswer"] }): WriteContext {
  const principal = c.get("principal");
  return {
    db: c.get("db"),
    orgId: principal.orgId,
    actor: { userId: principal.userId, apiKeyId: principal.apiKeyId, role: principal.role },
    afterCommit: enqueueAfterResponse(c),
    now: nowIso,
    keys: keyRecordsOf(c.env),
    recordAnswer: answer?.record,
  };
}

/** The operator's writes (ADMIN_TOKEN): no member acts, so no ranking applies; the organization is the route's. */
export function operatorContext(
  c: Context<AppEnv>,
  answer?: { record: WriteContext["recordAnswer"] },
): Omit<WriteContext, "orgId"> {
  return {
    db: c.get("db"),
    actor: { userId: null, apiKeyId: null },
    afterCommit: enqueueAfterResponse(c),
    now: nowIso,
    keys: keyRecordsOf(c.env),
    recordAnswer: answer?.record,
  };
}

/** Committed events go to the queue after the response; a failed send is left to the outbox sweep. */
export function enqueueAfterResponse(c: Context<AppEnv>): WriteContext["afterCommit"] {
  return (rows) => c.executionCtx.waitUntil(enqueueEvents(c.env, rows));
}
