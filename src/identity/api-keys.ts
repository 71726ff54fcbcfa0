import { and, eq, isNull, type SQL } from "drizzle-orm";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { sha256Hex } from "../core/crypto";
import { AppError, validationError } from "../core/errors";
import { newId } from "../core/ids";
import type { PageRequest } from "../core/pagination";
import { isoPlusSeconds, nowIso } from "../core/time";
import { answerStatements, type WriteContext } from "../core/write-context";
import { sortKeys } from "../db/keyset";
import { findInOrg, listPage } from "../db/org-queries";
import { isGuardFailure, requireRow } from "../db/row-guards";
import { type ApiKey, apiKeys, users } from "../db/schema";
import { generateApiKey } from "./api-key-format";
import { stillAuthenticates } from "./key-cache";
import { assertMayManage, type Caller, maxScopeForRole, type Scope, scopeCovers } from "./principal";
import { findUser } from "./users";

export function presentApiKey(row: ApiKey) {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scope: row.scope,
    userId: row.userId,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    lastUsedAt: row.lastUsedAt,
    revokedAt: row.revokedAt,
  };
}

export const API_KEY_SORT_FIELDS = ["createdAt", "name", "lastUsedAt"] as const;

export async function listApiKeys(
  db: DrizzleD1Database,
  orgId: string,
  query: PageRequest & { sortBy: (typeof API_KEY_SORT_FIELDS)[number]; order: "asc" | "desc" },
) {
  const where = eq(apiKeys.orgId, orgId);
  const keys = sortKeys(apiKeys, [{ field: query.sortBy, nullable: query.sortBy === "lastUsedAt" }, "id"]);
  return listPage(db, apiKeys, where, keys, query, presentApiKey);
}

export async function findApiKey(db: DrizzleD1Database, orgId: string, keyId: string): Promise<ApiKey> {
  return findInOrg(db, apiKeys, orgId, keyId, "API key");
}

/** A key row and the secret key it was made from; the secret leaves only in the create/rotate response. */
export async function newApiKeyRow(input: {
  orgId: string;
  userId: string;
  name: string;
  scope: Scope;
  expiresAt: string | null;
}): Promise<{ row: ApiKey; key: string }> {
  const { key, prefix } = generateApiKey();
  const row: ApiKey = {
    id: newId("key"),
    orgId: input.orgId,
    userId: input.userId,
    name: input.name,
    scope: input.scope,
    keyHash: await sha256Hex(key),
    prefix,
    expiresAt: input.expiresAt,
    revokedAt: null,
    lastUsedAt: null,
    createdAt: nowIso(),
  };
  return { row, key };
}

/**
 * A new key for the caller or for a member ranked below them (the owner's keys are
 * the owner's alone), with a scope the member's role allows.
 */
export async function createApiKey(
  w: WriteContext,
  input: { name: string; scope: Scope; expiresAt?: string; userId?: string },
) {
  const { db } = w;
  const caller = callerOf(w);
  if (input.expiresAt && input.expiresAt <= nowIso())
    throw validationError("expiresAt", "expiresAt must be in the future");
  const holder = await findUser(db, w.orgId, input.userId ?? caller.userId);
  assertMayManage(caller, holder, "create keys for them");
  if (!scopeCovers(maxScopeForRole(holder.role), input.scope)) {
    throw validationError("scope", `A member with the '${holder.role}' role cannot hold a '${input.scope}' key`);
  }
  const { row, key } = await newApiKeyRow({
    orgId: w.orgId,
    userId: holder.id,
    name: input.name,
    scope: input.scope,
    expiresAt: input.expiresAt ?? null,
  });
  const created = { ...presentApiKey(row), key };
  await db.batch([db.insert(apiKeys).values(row), ...answerStatements(w, created)]);
  await w.keys.provision(row.keyHash);
  return created;
}

/** The member a key acts as, checked against the caller's rank; null once the member was removed (their keys are revoked). */
async function assertMayManageKeysOf(w: WriteContext, key: ApiKey, what: string) {
  const [holder] = await w.db
    .select()
    .from(users)
    .where(and(eq(users.orgId, w.orgId), eq(users.id, key.userId)));
  if (holder) assertMayManage(callerOf(w), holder, what);
  return holder ?? null;
}

/** Keys are managed by members only: the calling member and their role. */
function callerOf(w: WriteContext): Caller {
  const { userId, role } = w.actor;
  if (!userId || !role) throw new AppError("FORBIDDEN", "API keys are managed by members");
  return { userId, role };
}

export async function revokeApiKey(w: WriteContext, { id: keyId }: { id: string }): Promise<void> {
  const { db } = w;
  const row = await findApiKey(db, w.orgId, keyId);
  await assertMayManageKeysOf(w, row, "revoke their keys");
  const now = w.now();
  if (row.revokedAt && row.revokedAt <= now) return;
  await db
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.id, keyId), stillAuthenticates(now)));
  await w.keys.invalidate([row.keyHash]);
}

/**
 * Issues a new key with the same name, user and expiry, and revokes the old one — at
 * once, or after `gracePeriodSeconds` so deployments can switch over. The batch is
 * guarded on the old key being unrotated, so of concurrent rotations exactly one
 * succeeds (the others 409) and a key never has two live successors.
 */
export async function rotateApiKey(
  w: WriteContext,
  { id: keyId, gracePeriodSeconds }: { id: string; gracePeriodSeconds: number },
) {
  const { db } = w;
  const old = await findApiKey(db, w.orgId, keyId);
  const holder = await assertMayManageKeysOf(w, old, "rotate their keys");
  const now = w.now();
  // Already rotated (or revoked): rotating again would mint another live key and could
  // stretch the old key's grace period.
  if (old.revokedAt || !holder) throw alreadyRotated(old.revokedAt ?? now, now);
  const { row, key } = await newApiKeyRow({
    orgId: w.orgId,
    userId: old.userId,
    name: old.name,
    // A demoted member's key is re-issued within what their role now allows.
    scope: scopeCovers(maxScopeForRole(holder.role), old.scope) ? old.scope : maxScopeForRole(holder.role),
    expiresAt: old.expiresAt,
  });
  const revokedAt = gracePeriodSeconds > 0 ? isoPlusSeconds(gracePeriodSeconds) : now;
  const rotated = { ...presentApiKey(row), key, previousKey: presentApiKey({ ...old, revokedAt }) };
  try {
    await db.batch([
      ...requireRow(db, apiKeys, and(eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt)) as SQL),
      db.insert(apiKeys).values(row),
      db.update(apiKeys).set({ revokedAt }).where(eq(apiKeys.id, keyId)),
      ...answerStatements(w, rotated),
    ]);
  } catch (error) {
    if (isGuardFailure(error)) throw alreadyRotated(revokedAt, now);
    throw error;
  }
  await Promise.all([w.keys.invalidate([old.keyHash]), w.keys.provision(row.keyHash)]);
  return rotated;
}

function alreadyRotated(revokedAt: string, now: string): AppError {
  const why = revokedAt <= now ? "is revoked" : `was already rotated; it stops working at ${revokedAt}`;
  return new AppError("CONFLICT", `This key ${why}; rotate its replacement instead`);
}

/** Records that the key was used (the key's Durable Object asks at most once a minute). */
export async function touchApiKey(db: D1Database, apiKeyId: string): Promise<void> {
  await drizzle(db).update(apiKeys).set({ lastUsedAt: nowIso() }).where(eq(apiKeys.id, apiKeyId));
}
