import type { Env } from "../env";

/** The Durable Object that authenticates and counts for the key with this hash. */
export function keyLimiter(env: Env, keyHash: string) {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`key:${keyHash}`));
}

/** Makes the keys' Durable Objects read their record again: revocation, plan and role changes apply at once. */
export async function invalidateKeys(env: Env, keyHashes: string[]): Promise<void> {
  await Promise.all(keyHashes.map((hash) => keyLimiter(env, hash).invalidate()));
}
