import { and, eq, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { sha256Hex } from "../core/crypto";
import { INCOMING_PERMISSIONS, type IncomingPermission } from "../core/enums";
import { AppError, validationError } from "../core/errors";
import { newEtag, newId } from "../core/ids";
import type { PageRequest } from "../core/pagination";
import { nowIso } from "../core/time";
import { assertIfMatch } from "../core/versions";
import { answerStatements, StaleWriteError, type WriteContext } from "../core/write-context";
import { sortKeys } from "../db/keyset";
import { findInOrg, listPage } from "../db/org-queries";
import { isGuardFailure, requireRow } from "../db/row-guards";
import { type IncomingWebhook, incomingWebhooks } from "../db/schema";
import { generateSecretKey, INCOMING_KEY_PREFIX } from "../identity/api-key-format";
import { parseCidr } from "./cidr";

export { INCOMING_PERMISSIONS, type IncomingPermission };

/** Requests per minute per credential (README "Incoming webhooks"). */
export const INCOMING_REQUESTS_PER_MINUTE = 100;

export function presentIncomingWebhook(row: IncomingWebhook) {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    permissions: row.permissions,
    ipAllowlist: row.ipAllowlist,
    enabled: row.enabled,
    createdBy: row.createdBy,
    lastUsedAt: row.lastUsedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export const INCOMING_SORT_FIELDS = ["createdAt", "name", "lastUsedAt"] as const;

export async function listIncomingWebhooks(
  db: DrizzleD1Database,
  orgId: string,
  query: PageRequest & { sortBy: (typeof INCOMING_SORT_FIELDS)[number]; order: "asc" | "desc" },
) {
  const where = eq(incomingWebhooks.orgId, orgId);
  return listPage(
    db,
    incomingWebhooks,
    where,
    sortKeys(incomingWebhooks, [{ field: query.sortBy, nullable: query.sortBy === "lastUsedAt" }, "id"]),
    query,
    presentIncomingWebhook,
  );
}

export async function findIncomingWebhook(db: DrizzleD1Database, orgId: string, id: string): Promise<IncomingWebhook> {
  return findInOrg(db, incomingWebhooks, orgId, id, "Incoming webhook");
}

/** Validates and normalises an allowlist; a bad entry is a 400 naming its index. */
export function checkAllowlist(entries: readonly string[]): string[] {
  return entries.map((entry, index) => {
    if (!parseCidr(entry)) {
      throw validationError(`ipAllowlist.${index}`, `'${entry}' is not an IPv4 or IPv6 address or CIDR range`);
    }
    return entry.trim();
  });
}

export interface IncomingWebhookInput {
  name: string;
  permissions: IncomingPermission[];
  ipAllowlist?: string[];
  enabled?: boolean;
}

export async function createIncomingWebhook(w: WriteContext, input: IncomingWebhookInput) {
  const { db, orgId } = w;
  const createdBy = w.actor.userId;
  if (!createdBy) throw new AppError("FORBIDDEN", "Incoming webhooks are created by members");
  const ipAllowlist = checkAllowlist(input.ipAllowlist ?? []);
  const { key, prefix } = generateSecretKey(INCOMING_KEY_PREFIX);
  const now = w.now();
  const row: IncomingWebhook = {
    id: newId("iwh"),
    orgId,
    name: input.name,
    keyHash: await sha256Hex(key),
    prefix,
    permissions: [...new Set(input.permissions)],
    ipAllowlist,
    enabled: input.enabled ?? true,
    createdBy,
    lastUsedAt: null,
    etag: newEtag(),
    createdAt: now,
    updatedAt: now,
  };
  const created = { ...presentIncomingWebhook(row), key };
  await db.batch([db.insert(incomingWebhooks).values(row), ...answerStatements(w, created)]);
  return created;
}

/** Applies a change only if the row still has the ETag it was read with; 409/412 otherwise. */
async function writeIfUnchanged(
  db: DrizzleD1Database,
  current: IncomingWebhook,
  changes: Partial<IncomingWebhook>,
  ifMatch: string | undefined,
  alongside: (next: IncomingWebhook) => BatchItem<"sqlite">[] = () => [],
): Promise<IncomingWebhook> {
  assertIfMatch(ifMatch, current.etag);
  const next = { ...current, ...changes, etag: newEtag(), updatedAt: nowIso() };
  try {
    await db.batch([
      ...requireRow(
        db,
        incomingWebhooks,
        and(eq(incomingWebhooks.id, current.id), eq(incomingWebhooks.etag, current.etag)) as SQL,
      ),
      db.update(incomingWebhooks).set(next).where(eq(incomingWebhooks.id, current.id)),
      ...alongside(next),
    ]);
  } catch (error) {
    // Changed between our read and our write: 412 with If-Match, else 409 (the error handler decides).
    if (isGuardFailure(error)) throw new StaleWriteError();
    throw error;
  }
  return next;
}

export async function updateIncomingWebhook(
  w: WriteContext,
  { id, patch, ifMatch }: { id: string; patch: Partial<IncomingWebhookInput>; ifMatch?: string },
) {
  const { db } = w;
  const current = await findIncomingWebhook(db, w.orgId, id);
  const changes: Partial<IncomingWebhook> = {};
  if (patch.name !== undefined) changes.name = patch.name;
  if (patch.permissions !== undefined) changes.permissions = [...new Set(patch.permissions)];
  if (patch.ipAllowlist !== undefined) changes.ipAllowlist = checkAllowlist(patch.ipAllowlist);
  if (patch.enabled !== undefined) changes.enabled = patch.enabled;
  const next = await writeIfUnchanged(db, current, changes, ifMatch);
  return { resource: presentIncomingWebhook(next), etag: next.etag };
}

/** A new key for the credential; the old key stops working at once. */
export async function rotateIncomingWebhookKey(w: WriteContext, { id }: { id: string }) {
  const { db } = w;
  const current = await findIncomingWebhook(db, w.orgId, id);
  const { key, prefix } = generateSecretKey(INCOMING_KEY_PREFIX);
  const rotated = (next: IncomingWebhook) => ({ ...presentIncomingWebhook(next), key });
  const next = await writeIfUnchanged(db, current, { keyHash: await sha256Hex(key), prefix }, undefined, (next) =>
    answerStatements(w, rotated(next)),
  );
  return rotated(next);
}

export async function deleteIncomingWebhook(w: WriteContext, { id, ifMatch }: { id: string; ifMatch?: string }) {
  const { db } = w;
  const current = await findIncomingWebhook(db, w.orgId, id);
  assertIfMatch(ifMatch, current.etag);
  await db.delete(incomingWebhooks).where(eq(incomingWebhooks.id, id));
}

/** The credential a presented `ik_live_…` key belongs to, or null. */
export async function findIncomingWebhookByKey(db: DrizzleD1Database, key: string): Promise<IncomingWebhook | null> {
  const [row] = await db
    .select()
    .from(incomingWebhooks)
    .where(eq(incomingWebhooks.keyHash, await sha256Hex(key)));
  return row ?? null;
}

/** Records use of the credential, at most once a minute (called after the response). */
export async function touchIncomingWebhook(db: D1Database, credential: IncomingWebhook, now = Date.now()) {
  if (credential.lastUsedAt && now - Date.parse(credential.lastUsedAt) < 60_000) return;
  await drizzle(db)
    .update(incomingWebhooks)
    .set({ lastUsedAt: new Date(now).toISOString() })
    .where(eq(incomingWebhooks.id, credential.id));
}
