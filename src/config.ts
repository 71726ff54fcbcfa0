import { z } from "zod";
import type { Env } from "./env";

/** Queues refuse delays over 12 hours. */
export const MAX_QUEUE_DELAY_SECONDS = 12 * 3600;

/** A whole number ≥ 1 given as text in `[vars]`, or its default when unset. */
const count = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === "") return fallback;
      const n = Number(raw);
      if (Number.isInteger(n) && n >= 1) return n;
      ctx.addIssue({ code: "custom", message: `expected a whole number ≥ 1, got '${raw}'` });
      return z.NEVER;
    });

/** A fraction from 0 to 1 given as text in `[vars]`, or its default when unset. */
const fraction = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === "") return fallback;
      const n = Number(raw);
      if (raw.trim() !== "" && Number.isFinite(n) && n >= 0 && n <= 1) return n;
      ctx.addIssue({ code: "custom", message: `expected a fraction from 0 to 1 (0 turns it off), got '${raw}'` });
      return z.NEVER;
    });

const retrySchedule = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined || raw.trim() === "") return [60, 300, 900, 3600, 10800, 21600];
    const steps = raw.split(",").map((s) => Number(s.trim()));
    if (steps.some((n) => !Number.isInteger(n) || n < 0 || n > MAX_QUEUE_DELAY_SECONDS)) {
      ctx.addIssue({
        code: "custom",
        message: `expected comma-separated seconds, each 0 to ${MAX_QUEUE_DELAY_SECONDS} (a queue's longest delay), got '${raw}'`,
      });
      return z.NEVER;
    }
    return steps;
  });

/**
 * `*` (the default) or a comma-separated list of origins, each exactly as a browser sends
 * it in `Origin` (scheme, host, port if not the default; no path or trailing slash), so
 * that comparing the header with an entry is a plain string match.
 */
const corsOrigins = z
  .string()
  .optional()
  .transform((raw, ctx): "*" | string[] => {
    if (raw === undefined || raw.trim() === "" || raw.trim() === "*") return "*";
    const origins = raw.split(",").map((s) => s.trim());
    const bad = origins.filter((origin) => !isOrigin(origin));
    if (bad.length > 0) {
      ctx.addIssue({
        code: "custom",
        message: `expected '*' or comma-separated origins like 'https://app.example.com' (no path, no trailing slash), got '${bad.join("', '")}'`,
      });
      return z.NEVER;
    }
    return origins;
  });

function isOrigin(entry: string): boolean {
  if (!URL.canParse(entry)) return false;
  const url = new URL(entry);
  return (url.protocol === "https:" || url.protocol === "http:") && url.origin === entry;
}

const flag = z
  .enum(["true", "false"], { error: (issue) => `expected 'true' or 'false', got '${String(issue.input)}'` })
  .optional()
  .transform((raw) => raw === "true");

/**
 * The deployer's `[vars]` (wrangler.toml) and secrets, parsed once per isolate by one
 * schema: every default lives here, and a bad value fails at first use with an error
 * naming the variable and the form it expects. Secrets whose rules belong to one feature
 * are checked there: a short ADMIN_TOKEN disables only the operator endpoints
 * (routes/admin), a malformed WEBHOOK_ENCRYPTION_KEY only what reads webhook secrets.
 */
const ConfigSchema = z
  .object({
    WEBHOOK_RETRY_SCHEDULE: retrySchedule,
    EVENTS_QUEUE_MAX_RETRIES: count(6),
    WEBHOOK_TIMEOUT_MS: count(5000),
    WEBHOOK_DISABLE_AFTER_FAILURES: count(100),
    WEBHOOK_SECRET_GRACE_SECONDS: count(86400),
    WEBHOOK_FAILING_THRESHOLD: fraction(0.5),
    WEBHOOK_FAILING_MIN_ATTEMPTS: count(10),
    WEBHOOK_ALLOW_LOCALHOST: flag,
    OUTBOX_SWEEP_AFTER_SECONDS: count(30),
    AUTH_FAILURES_PER_MINUTE: count(20),
    IDEMPOTENCY_TTL_SECONDS: count(86400),
    DELIVERY_RETENTION_DAYS: count(30),
    DELIVERY_STALL_SECONDS: count(3600),
    CORS_ALLOWED_ORIGINS: corsOrigins,
    ADMIN_TOKEN: z.string().optional(),
    WEBHOOK_ENCRYPTION_KEY: z.string().optional(),
    WEBHOOK_ENCRYPTION_KEY_PREVIOUS: z.string().optional(),
  })
  .transform((vars) => ({
    webhookRetryScheduleSeconds: vars.WEBHOOK_RETRY_SCHEDULE,
    /** The events consumer's `max_retries`: after this many retries a message goes to the dead-letter queue. */
    eventsQueueMaxRetries: vars.EVENTS_QUEUE_MAX_RETRIES,
    webhookTimeoutMs: vars.WEBHOOK_TIMEOUT_MS,
    webhookDisableAfterFailures: vars.WEBHOOK_DISABLE_AFTER_FAILURES,
    webhookSecretGraceSeconds: vars.WEBHOOK_SECRET_GRACE_SECONDS,
    /** `webhook.failing` is sent when a webhook's success rate over the last hour is under this (0: never). */
    webhookFailingThreshold: vars.WEBHOOK_FAILING_THRESHOLD,
    /** …and it made at least this many attempts in that hour, so one failed attempt is no 0% alarm. */
    webhookFailingMinAttempts: vars.WEBHOOK_FAILING_MIN_ATTEMPTS,
    webhookAllowLocalhost: vars.WEBHOOK_ALLOW_LOCALHOST,
    outboxSweepAfterSeconds: vars.OUTBOX_SWEEP_AFTER_SECONDS,
    authFailuresPerMinute: vars.AUTH_FAILURES_PER_MINUTE,
    idempotencyTtlSeconds: vars.IDEMPOTENCY_TTL_SECONDS,
    deliveryRetentionDays: vars.DELIVERY_RETENTION_DAYS,
    deliveryStallSeconds: vars.DELIVERY_STALL_SECONDS,
    /** Origins whose pages may read this API's answers (`Access-Control-Allow-Origin`); `*`: any. */
    corsAllowedOrigins: vars.CORS_ALLOWED_ORIGINS,
    adminToken: vars.ADMIN_TOKEN,
    webhookEncryptionKey: vars.WEBHOOK_ENCRYPTION_KEY,
    webhookEncryptionKeyPrevious: vars.WEBHOOK_ENCRYPTION_KEY_PREVIOUS,
  }));

export type Config = z.infer<typeof ConfigSchema>;

/** A deployment whose `[vars]` or secrets do not parse: names each variable and what it expects. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Bad Worker configuration: ${problems.join("; ")}`);
    this.name = "ConfigError";
  }
}

let cached: { source: Env; config: Config } | undefined;

export function configFrom(env: Env): Config {
  if (cached?.source === env) return cached.config;
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`));
  }
  cached = { source: env, config: parsed.data };
  return parsed.data;
}
