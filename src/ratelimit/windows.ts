/**
 * Fixed-window counting, aligned to the epoch so `X-RateLimit-Reset` is the same
 * instant for every caller. Pure: the Durable Object persists what this returns.
 */

export interface Policy {
  /** Token used in the IETF `RateLimit-Policy` field, e.g. "hour" or "burst". */
  name: string;
  limit: number;
  windowSeconds: number;
}

export interface WindowCount {
  windowStart: number;
  count: number;
}

export interface PolicyStatus {
  name: string;
  limit: number;
  windowSeconds: number;
  remaining: number;
  /** Unix seconds at which this window's count starts again from zero. */
  resetAt: number;
}

export interface Decision {
  allowed: boolean;
  statuses: PolicyStatus[];
  /** Seconds until every exhausted window has reset; 0 when allowed. */
  retryAfterSeconds: number;
}

export function windowStartOf(nowSeconds: number, windowSeconds: number): number {
  return Math.floor(nowSeconds / windowSeconds) * windowSeconds;
}

/**
 * Admits the request when every policy has room, and then counts it against all of
 * them. A refused request is not counted: it did not run.
 */
export function decide(
  policies: readonly Policy[],
  counts: ReadonlyMap<string, WindowCount>,
  nowMs: number,
): { decision: Decision; updated: Map<string, WindowCount> } {
  const nowSeconds = Math.floor(nowMs / 1000);
  const current = policies.map((policy) => {
    const windowStart = windowStartOf(nowSeconds, policy.windowSeconds);
    const stored = counts.get(policy.name);
    const count = stored && stored.windowStart === windowStart ? stored.count : 0;
    return { policy, windowStart, count };
  });
  const allowed = current.every(({ policy, count }) => count < policy.limit);
  const updated = new Map<string, WindowCount>();
  const statuses: PolicyStatus[] = current.map(({ policy, windowStart, count }) => {
    const after = allowed ? count + 1 : count;
    updated.set(policy.name, { windowStart, count: after });
    return {
      name: policy.name,
      limit: policy.limit,
      windowSeconds: policy.windowSeconds,
      remaining: Math.max(0, policy.limit - after),
      resetAt: windowStart + policy.windowSeconds,
    };
  });
  const retryAfterSeconds = allowed
    ? 0
    : Math.max(
        ...current
          .filter(({ policy, count }) => count >= policy.limit)
          .map(({ policy, windowStart }) => windowStart + policy.windowSeconds - nowSeconds),
      );
  return { decision: { allowed, statuses, retryAfterSeconds: allowed ? 0 : Math.max(1, retryAfterSeconds) }, updated };
}

/** The window a client should watch: the fewest remaining, and of those the latest reset. */
export function tightest(statuses: readonly PolicyStatus[]): PolicyStatus {
  return statuses.reduce((best, s) =>
    s.remaining < best.remaining || (s.remaining === best.remaining && s.resetAt > best.resetAt) ? s : best,
  );
}
