import type { Context } from "hono";
import type { WriteContext } from "../core/write-context";
import { enqueueEvents } from "../events/outbox";
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
    recordAnswer: answer?.record,
  };
}

/** Committed events go to the queue after the response; a failed send is left to the outbox sweep. */
export function enqueueAfterResponse(c: Context<AppEnv>): WriteContext["afterCommit"] {
  return (rows) => c.executionCtx.waitUntil(enqueueEvents(c.env, rows));
}
