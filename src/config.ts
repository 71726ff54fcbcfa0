import type { Env } from "./env";

/** The deployer's tunables from `[vars]`, parsed once per isolate. */
export interface Config {
  webhookRetryScheduleSeconds: number[];
  /** The events consumer's `max_retries`: after this many retries a message goes to the dead-letter queue. */
  eventsQueueMaxRetries: number;
  webhookTimeoutMs: number;
  webhookDisableAfterFailures: number;
  webhookSecretGraceSeconds: number;
  webhookAllowLocalhost: boolean;
  outboxSweepAfterSeconds: number;
  authFailuresPerMinute: number;
  idempotencyTtlSeconds: number;
  deliveryRetentionDays: number;
  deliveryStallSeconds: number;
}

let cached: { source: Env; config: Config } | undefined;

export function configFrom(env: Env): Config {
  if (cached?.source === env) return cached.config;
  const config: Config = {
    webhookRetryScheduleSeconds: parseSchedule(env.WEBHOOK_RETRY_SCHEDULE),
    eventsQueueMaxRetries: positiveInt(env.EVENTS_QUEUE_MAX_RETRIES, 6),
    webhookTimeoutMs: positiveInt(env.WEBHOOK_TIMEOUT_MS, 5000),
    webhookDisableAfterFailures: positiveInt(env.WEBHOOK_DISABLE_AFTER_FAILURES, 100),
    webhookSecretGraceSeconds: positiveInt(env.WEBHOOK_SECRET_GRACE_SECONDS, 86400),
    webhookAllowLocalhost: env.WEBHOOK_ALLOW_LOCALHOST === "true",
    outboxSweepAfterSeconds: positiveInt(env.OUTBOX_SWEEP_AFTER_SECONDS, 30),
    authFailuresPerMinute: positiveInt(env.AUTH_FAILURES_PER_MINUTE, 20),
    idempotencyTtlSeconds: positiveInt(env.IDEMPOTENCY_TTL_SECONDS, 86400),
    deliveryRetentionDays: positiveInt(env.DELIVERY_RETENTION_DAYS, 30),
    deliveryStallSeconds: positiveInt(env.DELIVERY_STALL_SECONDS, 3600),
  };
  cached = { source: env, config };
  return config;
}

function positiveInt(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** Queues refuse delays over 12 hours. */
export const MAX_QUEUE_DELAY_SECONDS = 12 * 3600;

function parseSchedule(raw: string | undefined): number[] {
  const steps = (raw ?? "")
    .split(",")
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isFinite(n) && n >= 0)
    .map((n) => Math.min(Math.round(n), MAX_QUEUE_DELAY_SECONDS));
  return steps.length > 0 ? steps : [60, 300, 900, 3600, 10800, 21600];
}
