import type { BatchItem } from "drizzle-orm/batch";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import type { EventType, KeyPermission, Role } from "./enums";

/**
 * Who made a change: the key's user, key and the user's role, or an incoming-webhook
 * credential. Without a role the actor is the operator or the system, not a member:
 * the ranking rules of members do not apply to it.
 */
export interface Actor {
  userId: string | null;
  apiKeyId: string | null;
  role?: Role;
  /** What the acting API key may do now; a key cannot hand on more than this (identity/api-keys.ts). */
  permissions?: readonly KeyPermission[];
  incomingWebhookId?: string | null;
}

/** `{field: {from, to}}` for each field an update changed. */
export type Changes = Record<string, { from: unknown; to: unknown }>;

/** Whose keys a change made at `since` affects: a whole organization (plan) or one member (role, removal). */
export interface KeyOwners {
  orgId: string;
  userId?: string;
  /** Keys revoked before this instant are left alone; those revoked by the change itself are not. */
  since: string;
}

/**
 * The cached key records (each key's Durable Object holds its own), kept true after a
 * change to keys, roles or plans: implemented in identity/key-cache.ts.
 */
export interface KeyRecords {
  /** Tells a new key's object that the key exists. */
  provision(keyHash: string): Promise<void>;
  invalidate(keyHashes: string[]): Promise<void>;
  invalidateOf(owners: KeyOwners): Promise<void>;
}

/**
 * An event as handed on once its batch committed: the row as stored, so its webhooks
 * can be sent it straight away without reading it back.
 */
export interface CommittedEvent {
  id: string;
  orgId: string;
  type: EventType;
  resourceType: string;
  resourceId: string;
  data: Record<string, unknown>;
  changes: Changes | null;
  actorUserId: string | null;
  actorApiKeyId: string | null;
  actorIncomingWebhookId: string | null;
  createdAt: string;
}

/**
 * Everything a domain write needs: the database, whose organization, who acts, and
 * what to do with the events once their batch has committed (enqueue them).
 */
export interface WriteContext {
  db: DrizzleD1Database;
  orgId: string;
  actor: Actor;
  /**
   * Hands committed events on (to their webhooks), with the results of `commitReads`;
   * `unsentIds` are more committed events, known by id only (a set-based write's beyond
   * those read back in full), to send through the queue.
   */
  afterCommit: (committed: CommittedEvent[], reads: unknown[], unsentIds?: string[]) => void;
  /**
   * Reads that join a commit's batch when it carries events: what `afterCommit` needs,
   * read in the same D1 round trip and transaction as the change.
   */
  commitReads?: (orgId: string, eventIds: string[]) => BatchItem<"sqlite">[];
  /** The clock of this write: every timestamp it stores reads it (ISO 8601 UTC). */
  now: () => string;
  /** The key records a change to keys, roles or plans must refresh. */
  keys: KeyRecords;
  /**
   * The attachments' R2 bucket: a write that removes attachments deletes their objects
   * with it right after its commit; without it the cron does (attachments/cleanup.ts).
   */
  files?: R2Bucket;
  /** Statements that store the request's answer for `Idempotency-Key` replays, given the write's result. */
  recordAnswer?: (result: unknown) => BatchItem<"sqlite">[];
  /** Forgets that stored answer again, when a step after the commit failed and was undone. */
  releaseAnswer?: () => BatchItem<"sqlite">[];
}

/** The statements storing this write's answer, for its batch: none unless the request carries an Idempotency-Key. */
export function answerStatements(w: Pick<WriteContext, "recordAnswer">, result: unknown): BatchItem<"sqlite">[] {
  return w.recordAnswer?.(result) ?? [];
}

/** Thrown when a guarded batch found its row changed or gone: nothing was written. */
export class StaleWriteError extends Error {
  constructor() {
    super("The resource changed while this write was prepared");
    this.name = "StaleWriteError";
  }
}
