import type { RateLimiter } from "./ratelimit/rate-limiter";

/** The Worker's bindings: the one place that names what wrangler.toml declares. */
export interface Env {
  DB: D1Database;
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  EVENTS_QUEUE: Queue<EventsQueueMessage>;

  /** Operator secret guarding /v1/admin (wrangler secret; .dev.vars locally). */
  ADMIN_TOKEN: string;
  /** Base64 of 32 random bytes: the AES-GCM key that encrypts webhook secrets at rest. */
  WEBHOOK_ENCRYPTION_KEY: string;
  /** During a key rotation only: the key WEBHOOK_ENCRYPTION_KEY replaced, still decrypting until the cron re-encrypts. */
  WEBHOOK_ENCRYPTION_KEY_PREVIOUS?: string;

  WEBHOOK_RETRY_SCHEDULE: string;
  EVENTS_QUEUE_MAX_RETRIES: string;
  WEBHOOK_TIMEOUT_MS: string;
  WEBHOOK_DISABLE_AFTER_FAILURES: string;
  WEBHOOK_SECRET_GRACE_SECONDS: string;
  WEBHOOK_ALLOW_LOCALHOST: string;
  OUTBOX_SWEEP_AFTER_SECONDS: string;
  AUTH_FAILURES_PER_MINUTE: string;
  IDEMPOTENCY_TTL_SECONDS: string;
  DELIVERY_RETENTION_DAYS: string;
  DELIVERY_STALL_SECONDS: string;
}

/**
 * Messages on the events queue. `event` fans one committed event out to its
 * webhooks; `delivery` is one attempt-carrying message per (event, webhook);
 * `invalidate-keys` walks a large set of keys whose cached records went stale.
 */
export type EventsQueueMessage =
  | { kind: "event"; eventId: string }
  | { kind: "delivery"; deliveryId: string }
  | InvalidateKeysMessage;

/** A page of cached key records to forget after a plan, role or membership change (see identity/key-cache). */
export interface InvalidateKeysMessage {
  kind: "invalidate-keys";
  orgId: string;
  userId?: string;
  since: string;
  afterId: string;
}
