import { and, eq, inArray, type SQL, sql } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import { configFrom } from "../config";
import type { SignatureScheme } from "../core/enums";
import { AppError, validationError } from "../core/errors";
import { newEtag, newId } from "../core/ids";
import type { PageRequest } from "../core/pagination";
import { isoPlusSeconds, nowIso } from "../core/time";
import { answerStatements, StaleWriteError, type WriteContext } from "../core/write-context";
import { sortKeys } from "../db/keyset";
import { findInOrg, listPage } from "../db/org-queries";
import { isGuardFailure, requireAtMost, requireRow } from "../db/row-guards";
import { deliveries, deliveryAttempts, projects, users, type Webhook, webhooks } from "../db/schema";
import type { Env } from "../env";
import { commitWithEvents, type EventDraft } from "../events/outbox";
import { PLAN_LIMITS, type Plan } from "../identity/plans";
import { decryptSecret, encryptSecret, generateSecret, unlessUnreadable } from "./secrets";
import { ensureSigningKeys } from "./signing-keys";
import { checkWebhookUrl } from "./url-policy";

/** What a webhook subscribes to: catalog event types, or ["*"] for every one (the schema enforces "*" alone). */
export type WebhookEvents = Webhook["events"];

export interface WebhookFilters {
  projectId: string | null;
  assigneeId: string | null;
}

/**
 * A write to webhooks: any write's context, plus the organization's plan (its webhook
 * limit) and the deployment (its settings, the encryption keys of signing secrets, the
 * events queue).
 */
export interface WebhookContext extends WriteContext {
  plan: Plan;
  env: Env;
}

export function presentWebhook(row: Webhook, now = nowIso()) {
  const settled = row.deliveredCount + row.failedCount;
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    filters: { projectId: row.filterProjectId, assigneeId: row.filterAssigneeId } satisfies WebhookFilters,
    description: row.description,
    enabled: row.enabled,
    disabledReason: row.disabledReason,
    consecutiveFailures: row.consecutiveFailures,
    failureAlertThreshold: row.failureAlertThreshold,
    lastTriggeredAt: row.lastTriggeredAt,
    deliverySuccessRate: settled === 0 ? null : Math.round((row.deliveredCount / settled) * 10000) / 10000,
    previousSecretExpiresAt:
      row.previousSecretExpiresAt && row.previousSecretExpiresAt > now ? row.previousSecretExpiresAt : null,
    signatureScheme: row.signatureScheme,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
export type WebhookResource = ReturnType<typeof presentWebhook>;

export const WEBHOOK_SORT_FIELDS = ["createdAt", "updatedAt", "url"] as const;

export async function listWebhooks(
  db: DrizzleD1Database,
  orgId: string,
  query: PageRequest & { sortBy: (typeof WEBHOOK_SORT_FIELDS)[number]; order: "asc" | "desc"; enabled?: boolean },
) {
  const where = and(
    eq(webhooks.orgId, orgId),
    query.enabled === undefined ? undefined : eq(webhooks.enabled, query.enabled),
  );
  const now = nowIso();
  return listPage(db, webhooks, where, sortKeys(webhooks, [query.sortBy, "id"]), query, (row) =>
    presentWebhook(row, now),
  );
}

export async function findWebhook(db: DrizzleD1Database, orgId: string, webhookId: string): Promise<Webhook> {
  return findInOrg(db, webhooks, orgId, webhookId, "Webhook");
}

export interface CreateWebhookInput {
  url: string;
  events: WebhookEvents;
  secret?: string;
  description?: string | null;
  enabled?: boolean;
  filters?: Partial<WebhookFilters> | null;
  signatureScheme?: SignatureScheme;
  /** README "Alerts": null or absent, the deployment's WEBHOOK_FAILING_THRESHOLD. */
  failureAlertThreshold?: number | null;
}

/**
 * Creates a webhook within the plan's limit and returns it with its secret, the
 * only time the secret is shown besides a rotation. The limit is checked inside
 * the batch of the INSERT, so concurrent creations cannot overshoot it.
 */
export async function createWebhook(ctx: WebhookContext, input: CreateWebhookInput) {
  const { env } = ctx;
  const url = allowedUrl(env, input.url);
  const filters = await checkedFilters(ctx, { projectId: null, assigneeId: null }, input.filters);
  const secret = input.secret ?? generateSecret();
  const signatureScheme = input.signatureScheme ?? "hmac-sha256";
  const now = ctx.now();
  // The id first: the ciphertext is bound to it.
  const id = newId("wh");
  const row: Webhook = {
    id,
    orgId: ctx.orgId,
    url,
    events: normalisedEvents(input.events),
    filterProjectId: filters.projectId,
    filterAssigneeId: filters.assigneeId,
    description: input.description ?? null,
    enabled: input.enabled ?? true,
    secretCiphertext: await encryptSecret(env, secret, { webhookId: id, slot: "current" }),
    previousSecretCiphertext: null,
    previousSecretExpiresAt: null,
    signatureScheme,
    consecutiveFailures: 0,
    disabledReason: null,
    lastTriggeredAt: null,
    deliveredCount: 0,
    failedCount: 0,
    failureAlertThreshold: input.failureAlertThreshold ?? null,
    failingAlertedAt: null,
    etag: newEtag(),
    createdAt: now,
    updatedAt: now,
  };
  const created = { ...presentWebhook(row, now), secret };
  const limit = PLAN_LIMITS[ctx.plan].webhooks;
  if (limit === null) {
    await ctx.db.batch([ctx.db.insert(webhooks).values(row), ...answerStatements(ctx, created)]);
    await ensureSchemeKeys(ctx, signatureScheme);
    return created;
  }
  try {
    await ctx.db.batch([
      ctx.db.insert(webhooks).values(row),
      // Counted after the insert, in the same transaction: concurrent creations cannot overshoot.
      ...requireAtMost(ctx.db, webhooks, eq(webhooks.orgId, ctx.orgId), limit),
      ...answerStatements(ctx, created),
    ]);
  } catch (error) {
    if (!isGuardFailure(error)) throw error;
    throw new AppError(
      "PLAN_LIMIT",
      `The ${ctx.plan} plan allows ${limit} webhooks; delete one or upgrade the plan to add another`,
    );
  }
  await ensureSchemeKeys(ctx, signatureScheme);
  return created;
}

export interface UpdateWebhookInput {
  url?: string;
  events?: WebhookEvents;
  description?: string | null;
  enabled?: boolean;
  filters?: Partial<WebhookFilters> | null;
  signatureScheme?: SignatureScheme;
  failureAlertThreshold?: number | null;
}

/**
 * Changes a webhook's settings. `enabled: true` also clears the failure count and
 * the reason it was disabled; `enabled: false` pauses it (no deliveries are made;
 * deliveries already queued end `failed` and can be redelivered after re-enabling) and,
 * when it was enabled, writes `webhook.disabled` with reason `manual` and the actor
 * (README "Alerts"), in the batch of the change.
 */
export async function updateWebhook(
  ctx: WebhookContext,
  { id: webhookId, patch }: { id: string; patch: UpdateWebhookInput },
) {
  const { env } = ctx;
  const current = await findWebhook(ctx.db, ctx.orgId, webhookId);
  const set: Partial<Webhook> = {};
  if (patch.url !== undefined) set.url = allowedUrl(env, patch.url);
  if (patch.events !== undefined) set.events = normalisedEvents(patch.events);
  if (patch.description !== undefined) set.description = patch.description;
  if (patch.signatureScheme !== undefined && patch.signatureScheme !== current.signatureScheme) {
    set.signatureScheme = patch.signatureScheme;
  }
  if (patch.failureAlertThreshold !== undefined) set.failureAlertThreshold = patch.failureAlertThreshold;
  if (patch.filters !== undefined) {
    const filters = await checkedFilters(
      ctx,
      { projectId: current.filterProjectId, assigneeId: current.filterAssigneeId },
      patch.filters,
    );
    set.filterProjectId = filters.projectId;
    set.filterAssigneeId = filters.assigneeId;
  }
  if (patch.enabled === true) Object.assign(set, { enabled: true, consecutiveFailures: 0, disabledReason: null });
  if (patch.enabled === false) Object.assign(set, { enabled: false, disabledReason: null });
  if (Object.keys(set).length === 0) return presentWebhook(current);

  const now = ctx.now();
  const etag = newEtag();
  if (current.enabled && patch.enabled === false) {
    const updated: Webhook = { ...current, ...set, etag, updatedAt: now };
    await commitWithEvents(
      ctx,
      [
        ctx.db
          .update(webhooks)
          .set({ ...set, etag, updatedAt: now })
          .where(eq(webhooks.id, webhookId)),
      ],
      [manuallyDisabled(updated)],
      now,
      { table: "webhooks", id: webhookId, etag: current.etag },
    );
    return presentWebhook(updated, now);
  }
  const [updated] = await ctx.db
    .update(webhooks)
    .set({ ...set, etag, updatedAt: now })
    .where(and(eq(webhooks.id, webhookId), eq(webhooks.etag, current.etag)))
    .returning();
  // Another change landed between the read and this write (it changed the ETag).
  if (!updated) throw new StaleWriteError();
  if (set.signatureScheme) await ensureSchemeKeys(ctx, set.signatureScheme);
  return presentWebhook(updated, now);
}

/**
 * `webhook.disabled` for a disabling by a person or key (reason `manual`): the webhook
 * (never its secret), its failure run, and its latest failed attempt, read as the event is written.
 */
function manuallyDisabled(webhook: Webhook): EventDraft {
  return {
    type: "webhook.disabled",
    resourceType: "webhook",
    resourceId: webhook.id,
    data: {
      webhook: { id: webhook.id, origin: new URL(webhook.url).origin, description: webhook.description },
      reason: "manual",
      consecutiveFailures: webhook.consecutiveFailures,
      lastError: null,
    },
    lookups: {
      lastError: sql`json((SELECT json_object('statusCode', ${deliveryAttempts.statusCode}, 'error', ${deliveryAttempts.error},
        'attemptedAt', ${deliveryAttempts.attemptedAt}) FROM ${deliveryAttempts}
        WHERE ${deliveryAttempts.webhookId} = ${webhook.id}
          AND (${deliveryAttempts.statusCode} IS NULL OR ${deliveryAttempts.statusCode} NOT BETWEEN 200 AND 299)
        ORDER BY ${deliveryAttempts.attemptedAt} DESC LIMIT 1))`,
    },
  };
}

export async function deleteWebhook(ctx: WriteContext, { id: webhookId }: { id: string }) {
  await findWebhook(ctx.db, ctx.orgId, webhookId);
  // Its delivery log goes with it; queued delivery messages find no webhook and are dropped.
  const ofWebhook = ctx.db.select({ id: deliveries.id }).from(deliveries).where(eq(deliveries.webhookId, webhookId));
  await ctx.db.batch([
    ctx.db.delete(deliveryAttempts).where(inArray(deliveryAttempts.deliveryId, ofWebhook)),
    ctx.db.delete(deliveries).where(eq(deliveries.webhookId, webhookId)),
    ctx.db.delete(webhooks).where(and(eq(webhooks.id, webhookId), eq(webhooks.orgId, ctx.orgId))),
  ]);
}

/**
 * Replaces the signing secret. The old one keeps signing beside the new one for the
 * grace period (`WEBHOOK_SECRET_GRACE_SECONDS`, 24 h by default); a second rotation
 * within it retires the oldest secret at once. Ciphertexts are bound to their column,
 * so the old secret is decrypted and encrypted again for the previous column; when it
 * cannot be decrypted (see UnreadableSecretError) there is no previous secret, and
 * rotating is how such a webhook gets a working secret again.
 */
export async function rotateWebhookSecret(
  ctx: WebhookContext,
  { id: webhookId, ...input }: { id: string; secret?: string },
) {
  const { env } = ctx;
  const current = await findWebhook(ctx.db, ctx.orgId, webhookId);
  const secret = input.secret ?? generateSecret();
  const previous = await readableSecret(env, current);
  const now = ctx.now();
  const updated: Webhook = {
    ...current,
    secretCiphertext: await encryptSecret(env, secret, { webhookId, slot: "current" }),
    previousSecretCiphertext:
      previous === null ? null : await encryptSecret(env, previous, { webhookId, slot: "previous" }),
    previousSecretExpiresAt: previous === null ? null : isoPlusSeconds(configFrom(env).webhookSecretGraceSeconds),
    etag: newEtag(),
    updatedAt: now,
  };
  const rotated = { ...presentWebhook(updated, now), secret };
  try {
    await ctx.db.batch([
      // Another change landed between the read and this write (it changed the ETag): nothing is written.
      ...requireRow(ctx.db, webhooks, and(eq(webhooks.id, webhookId), eq(webhooks.etag, current.etag)) as SQL),
      ctx.db
        .update(webhooks)
        .set({
          secretCiphertext: updated.secretCiphertext,
          previousSecretCiphertext: updated.previousSecretCiphertext,
          previousSecretExpiresAt: updated.previousSecretExpiresAt,
          etag: updated.etag,
          updatedAt: now,
        })
        .where(eq(webhooks.id, webhookId)),
      ...answerStatements(ctx, rotated),
    ]);
  } catch (error) {
    if (isGuardFailure(error)) throw new StaleWriteError();
    throw error;
  }
  return rotated;
}

/** The webhook's current secret, or null (logged, without the ciphertext) when it cannot be decrypted. */
function readableSecret(env: Env, webhook: Webhook): Promise<string | null> {
  return unlessUnreadable(
    decryptSecret(env, webhook.secretCiphertext, { webhookId: webhook.id, slot: "current" }),
    "rotating an undecryptable webhook secret; no previous secret is kept",
    { webhookId: webhook.id },
  );
}

/**
 * A public-key scheme's key pair exists once a webhook using it is stored, so its public
 * key can be fetched before the first delivery (made after the write: a refused write
 * changes nothing; should this fail, the first delivery makes the pair).
 */
async function ensureSchemeKeys(ctx: WebhookContext, scheme: SignatureScheme): Promise<void> {
  if (scheme !== "hmac-sha256") await ensureSigningKeys(ctx.env, ctx.db, ctx.orgId, scheme);
}

function allowedUrl(env: Env, raw: string): string {
  const verdict = checkWebhookUrl(raw, { allowLocalhost: configFrom(env).webhookAllowLocalhost });
  if (!verdict.ok) throw validationError("url", verdict.reason);
  return verdict.url;
}

/** Sorted and without duplicates, so equal subscriptions read the same. */
function normalisedEvents(events: WebhookEvents): WebhookEvents {
  if (events.includes("*")) return ["*"];
  return [...new Set(events)].sort();
}

/** Merges a filters patch onto the current filters; each id must exist in the organization. */
async function checkedFilters(
  ctx: WriteContext,
  current: WebhookFilters,
  patch: Partial<WebhookFilters> | null | undefined,
): Promise<WebhookFilters> {
  if (patch === undefined) return current;
  if (patch === null) return { projectId: null, assigneeId: null };
  const next: WebhookFilters = {
    projectId: patch.projectId === undefined ? current.projectId : patch.projectId,
    assigneeId: patch.assigneeId === undefined ? current.assigneeId : patch.assigneeId,
  };
  const [project, member] = await Promise.all([
    next.projectId && next.projectId !== current.projectId
      ? ctx.db
          .select({ id: projects.id })
          .from(projects)
          .where(and(eq(projects.orgId, ctx.orgId), eq(projects.id, next.projectId)))
      : undefined,
    next.assigneeId && next.assigneeId !== current.assigneeId
      ? ctx.db
          .select({ id: users.id })
          .from(users)
          .where(and(eq(users.orgId, ctx.orgId), eq(users.id, next.assigneeId)))
      : undefined,
  ]);
  if (project && project.length === 0) {
    throw validationError("filters.projectId", `No project ${next.projectId} in this organization`);
  }
  if (member && member.length === 0) {
    throw validationError("filters.assigneeId", `No member ${next.assigneeId} in this organization`);
  }
  return next;
}
