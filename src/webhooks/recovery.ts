import { and, eq, gte, lt } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import { configFrom } from "../config";
import { AppError, validationError } from "../core/errors";
import { deliveries } from "../db/schema";
import type { EventsQueueMessage } from "../env";
import { type FailedWindow, recoverPageStatements, unrecoverStatements } from "./deliveries.queries";
import { findWebhook, type WebhookContext } from "./webhooks";

/** Deliveries per page: one D1 batch and one Queue sendBatch (at most 100 messages per call). */
export const RECOVERY_PAGE = 100;
/** Deliveries one request re-sends at most; the answer's `remaining` says how many more are left. */
export const RECOVERY_MAX_PER_REQUEST = 1_000;

export interface RecoverInput {
  webhookId: string;
  /** ISO 8601 timestamps; the window is [since, until), `until` defaulting to now. */
  since: string;
  until?: string;
}

export interface Recovery {
  webhookId: string;
  /** Deliveries now pending again, each with a fresh queue message. */
  queued: number;
  /** Deliveries still failed in the window beyond this request's bound: call again to send them. */
  remaining: number;
  since: string;
  until: string;
}

/**
 * Re-sends every delivery of a webhook that ended failed in the window: each becomes
 * pending again with a fresh queue message, as a redelivery does, and makes new attempts
 * under its own id. Set-based, a page at a time (recoverPageStatements). Calling it again
 * re-sends nothing twice: a re-sent delivery is pending (or has settled again since),
 * and a concurrent call's page skips the rows another's batch already took.
 */
export async function recoverDeliveries(
  ctx: WebhookContext,
  input: RecoverInput,
  limits = { page: RECOVERY_PAGE, maxPerRequest: RECOVERY_MAX_PER_REQUEST },
): Promise<Recovery> {
  const { env } = ctx;
  const now = ctx.now();
  const window = recoveryWindow(input, now, configFrom(env).deliveryRetentionDays);
  const webhook = await findWebhook(ctx.db, ctx.orgId, input.webhookId);
  if (!webhook.enabled) {
    throw new AppError("CONFLICT", 'The webhook is disabled; re-enable it (PATCH {"enabled": true}) first');
  }
  const scope = { webhookId: webhook.id, ...window };
  let queued = 0;
  while (queued < limits.maxPerRequest) {
    const size = Math.min(limits.page, limits.maxPerRequest - queued);
    const [taken] = await env.DB.batch<{ id: string; at: string }>(recoverPageStatements(env.DB, scope, size, now));
    const ended = taken?.results ?? [];
    if (ended.length === 0) break;
    try {
      await env.EVENTS_QUEUE.sendBatch(
        ended.map(({ id }) => ({ body: { kind: "delivery", deliveryId: id } satisfies EventsQueueMessage })),
      );
    } catch (error) {
      // Nothing will send this page: put it back as it was, so it shows failed and a later call takes it.
      await env.DB.batch(unrecoverStatements(env.DB, webhook.id, ended));
      throw error;
    }
    queued += ended.length;
    if (ended.length < size) break;
  }
  const remaining = queued < limits.maxPerRequest ? 0 : await countFailedIn(ctx.db, scope);
  return { webhookId: webhook.id, queued, remaining, ...window };
}

/**
 * The window in UTC: `since` required, `until` after it (and never later than now, so
 * a delivery re-sent now and failing again is not taken twice), `since` within the
 * delivery log's retention (older deliveries are gone).
 */
function recoveryWindow(input: RecoverInput, now: string, retentionDays: number) {
  const since = utc(input.since, "since");
  const until = input.until === undefined ? now : utc(input.until, "until");
  if (since >= now) throw validationError("since", "since must be in the past");
  if (until <= since) throw validationError("until", "until must be later than since");
  const oldest = new Date(Date.parse(now) - retentionDays * 86_400_000).toISOString();
  if (since < oldest) {
    throw validationError(
      "since",
      `since must be within the delivery log's retention (${retentionDays} days): ${oldest} or later`,
    );
  }
  return { since, until: until < now ? until : now };
}

function utc(value: string, field: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw validationError(field, `${field} must be an ISO 8601 timestamp`);
  return new Date(ms).toISOString();
}

/** Failed deliveries of the window still to recover. */
async function countFailedIn(db: DrizzleD1Database, { webhookId, since, until }: FailedWindow): Promise<number> {
  return db.$count(
    deliveries,
    and(
      eq(deliveries.webhookId, webhookId),
      eq(deliveries.status, "failed"),
      gte(deliveries.updatedAt, since),
      lt(deliveries.updatedAt, until),
    ),
  );
}
