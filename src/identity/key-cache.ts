import { and, asc, eq, gt, gte, isNull, or, type SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { KeyOwners, KeyRecords } from "../core/write-context";
import { apiKeys } from "../db/schema";
import type { Env } from "../env";

/** The Durable Object that authenticates and counts for the key with this hash. */
export function keyLimiter(env: Env, keyHash: string) {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`key:${keyHash}`));
}

/**
 * Tells a new key's Durable Object that the key exists, so it is recognised even from
 * an address throttled for failed authentications (where unknown keys get no lookup).
 */
export async function provisionKey(env: Env, keyHash: string): Promise<void> {
  await keyLimiter(env, keyHash).provision();
}

/** Makes the keys' Durable Objects read their record again: revocation, plan and role changes apply at once. */
export async function invalidateKeys(env: Env, keyHashes: string[]): Promise<void> {
  await Promise.all(keyHashes.map((hash) => keyLimiter(env, hash).invalidate()));
}

/** Keys invalidated inside the request that changed them; more go through the queue, a page per message. */
export const INLINE_INVALIDATIONS = 20;

/**
 * Invalidates the cached records of every key of `owners` that still authenticates.
 * Up to INLINE_INVALIDATIONS keys are reached in this request; beyond that, one queue
 * message walks the rest a page at a time (`invalidateKeyPage`), so no request fans
 * out to an unbounded number of Durable Objects. Until its page is reached a key's
 * record is at most the Durable Object's cache lifetime (60 s) old.
 */
export async function invalidateKeysOf(env: Env, owners: KeyOwners): Promise<void> {
  const page = await activeKeyPage(env, owners, "", INLINE_INVALIDATIONS + 1);
  if (page.length <= INLINE_INVALIDATIONS)
    return invalidateKeys(
      env,
      page.map((k) => k.keyHash),
    );
  await env.EVENTS_QUEUE.send({ kind: "invalidate-keys", ...owners, afterId: "" });
}

/** Keys per queue message when invalidating a large set. */
const INVALIDATION_PAGE = 50;

/** The queue consumer's share: one page of keys, then a message for the next page. */
export async function invalidateKeyPage(env: Env, owners: KeyOwners & { afterId: string }): Promise<void> {
  const page = await activeKeyPage(env, owners, owners.afterId, INVALIDATION_PAGE);
  await invalidateKeys(
    env,
    page.map((k) => k.keyHash),
  );
  const last = page.at(-1);
  if (page.length === INVALIDATION_PAGE && last) {
    await env.EVENTS_QUEUE.send({ kind: "invalidate-keys", ...owners, afterId: last.id });
  }
}

/** Keys not revoked, or revoked only at a future instant (a rotation's grace period). */
export function stillAuthenticates(now: string): SQL {
  return or(isNull(apiKeys.revokedAt), gt(apiKeys.revokedAt, now)) as SQL;
}

async function activeKeyPage(env: Env, owners: KeyOwners, afterId: string, limit: number) {
  return drizzle(env.DB)
    .select({ id: apiKeys.id, keyHash: apiKeys.keyHash })
    .from(apiKeys)
    .where(
      and(
        eq(apiKeys.orgId, owners.orgId),
        owners.userId ? eq(apiKeys.userId, owners.userId) : undefined,
        gt(apiKeys.id, afterId),
        or(isNull(apiKeys.revokedAt), gte(apiKeys.revokedAt, owners.since)),
      ),
    )
    .orderBy(asc(apiKeys.id))
    .limit(limit);
}

/** The key records of this deployment, for a write context. */
export function keyRecordsOf(env: Env): KeyRecords {
  return {
    provision: (keyHash) => provisionKey(env, keyHash),
    invalidate: (keyHashes) => invalidateKeys(env, keyHashes),
    invalidateOf: (owners) => invalidateKeysOf(env, owners),
  };
}
