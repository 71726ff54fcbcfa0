/**
 * The Worker's bindings: `GeneratedEnv` is written by `wrangler types` from wrangler.toml
 * (worker-configuration.d.ts; `npm run typecheck` fails when it is stale). Narrowed here
 * only where the generator cannot know: the queue's message type, and the secret that is
 * set only while rotating the encryption key.
 */
export interface Env extends Omit<GeneratedEnv, "EVENTS_QUEUE"> {
  EVENTS_QUEUE: Queue<EventsQueueMessage>;
  /** The previous WEBHOOK_ENCRYPTION_KEY, while secrets are re-encrypted under the new one. */
  WEBHOOK_ENCRYPTION_KEY_PREVIOUS?: string;
}

/**
 * Messages on the events queue. `event` fans one committed event out to its
 * webhooks; `delivery` is one attempt-carrying message per (event, webhook);
 * `invalidate-keys` walks a large set of keys whose cached records went stale.
 */
export type EventsQueueMessage =
  | { kind: "event"; eventId: string }
  /** `after`: attempts made before this message was sent (1 when the first was made straight after the commit). */
  | { kind: "delivery"; deliveryId: string; after?: number }
  | InvalidateKeysMessage;

/** A page of cached key records to forget after a plan, role or membership change (see identity/key-cache). */
export interface InvalidateKeysMessage {
  kind: "invalidate-keys";
  orgId: string;
  userId?: string;
  since: string;
  afterId: string;
}
