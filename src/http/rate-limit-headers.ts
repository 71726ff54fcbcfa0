import { type Decision, tightest } from "../ratelimit/windows";

/**
 * The de-facto `X-RateLimit-*` triple (GitHub's) for the tightest window, and the IETF fields of
 * draft-ietf-httpapi-ratelimit-headers: every policy, and the tightest one's state.
 */
export function rateLimitHeaders(decision: Decision, nowMs = Date.now()): Record<string, string> {
  const binding = tightest(decision.statuses);
  const secondsToReset = Math.max(0, binding.resetAt - Math.floor(nowMs / 1000));
  return {
    "X-RateLimit-Limit": String(binding.limit),
    "X-RateLimit-Remaining": String(binding.remaining),
    "X-RateLimit-Reset": String(binding.resetAt),
    "RateLimit-Policy": decision.statuses.map((s) => `"${s.name}";q=${s.limit};w=${s.windowSeconds}`).join(", "),
    RateLimit: `"${binding.name}";r=${binding.remaining};t=${secondsToReset}`,
  };
}
