import { eq } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import { findInOrg, listPage } from "../db/org-queries";
import { type ApiKey, apiKeys } from "../db/schema";
import type { Env } from "../env";
import { ApiError, validationError } from "../http/errors";
import type { PageRequest } from "../http/pagination";
import { sha256Hex } from "../lib/crypto";
import { newId } from "../lib/random";
import { isoPlusSeconds, nowIso } from "../lib/time";
import { generateApiKey } from "./api-key-format";
import { invalidateKeys } from "./key-cache";
import { maxScopeForRole, type Principal, type Scope, scopeCovers } from "./principal";
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
  return listPage(db, apiKeys, where, [apiKeys[query.sortBy], apiKeys.id], query, presentApiKey);
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

export async function createApiKey(
  db: DrizzleD1Database,
  caller: Principal,
  input: { name: string; scope: Scope; expiresAt?: string; userId?: string },
) {
  if (input.expiresAt && input.expiresAt <= nowIso())
    throw validationError("expiresAt", "expiresAt must be in the future");
  const owner = await findUser(db, caller.orgId, input.userId ?? caller.userId);
  if (!scopeCovers(maxScopeForRole(owner.role), input.scope)) {
    throw validationError("scope", `A member with the '${owner.role}' role cannot hold a '${input.scope}' key`);
  }
  const { row, key } = await newApiKeyRow({
    orgId: caller.orgId,
    userId: owner.id,
    name: input.name,
    scope: input.scope,
    expiresAt: input.expiresAt ?? null,
  });
  await db.insert(apiKeys).values(row);
  return { ...presentApiKey(row), key };
}

export async function revokeApiKey(env: Env, db: DrizzleD1Database, orgId: string, keyId: string): Promise<void> {
  const row = await findApiKey(db, orgId, keyId);
  const now = nowIso();
  if (row.revokedAt && row.revokedAt <= now) return;
  await db.update(apiKeys).set({ revokedAt: now }).where(eq(apiKeys.id, keyId));
  await invalidateKeys(env, [row.keyHash]);
}

/**
 * Issues a new key with the same name, scope, user and expiry, and revokes the old
 * one — at once, or after `gracePeriodSeconds` so deployments can switch over.
 */
export async function rotateApiKey(
  env: Env,
  db: DrizzleD1Database,
  orgId: string,
  keyId: string,
  gracePeriodSeconds: number,
) {
  const old = await findApiKey(db, orgId, keyId);
  const now = nowIso();
  // Already rotated (or revoked): rotating again would mint another live key and could
  // stretch the old key's grace period.
  if (old.revokedAt) {
    const why = old.revokedAt <= now ? "is revoked" : `was already rotated; it stops working at ${old.revokedAt}`;
    throw new ApiError("CONFLICT", `This key ${why}; rotate its replacement instead`);
  }
  const { row, key } = await newApiKeyRow({
    orgId,
    userId: old.userId,
    name: old.name,
    scope: old.scope,
    expiresAt: old.expiresAt,
  });
  const revokedAt = gracePeriodSeconds > 0 ? isoPlusSeconds(gracePeriodSeconds) : now;
  await db.batch([db.insert(apiKeys).values(row), db.update(apiKeys).set({ revokedAt }).where(eq(apiKeys.id, keyId))]);
  await invalidateKeys(env, [old.keyHash]);
  return { ...presentApiKey(row), key, previousKey: presentApiKey({ ...old, revokedAt }) };
}

/** Records that the key was used (the key's Durable Object asks at most once a minute). */
export async function touchApiKey(db: D1Database, apiKeyId: string): Promise<void> {
  await db.prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ?").bind(nowIso(), apiKeyId).run();
}
