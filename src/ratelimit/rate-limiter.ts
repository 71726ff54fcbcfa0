import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { type KeyRecord, loadKeyRecord } from "../identity/key-record";
import { PLAN_LIMITS, type Plan } from "../identity/plans";
import { effectivePermissions, type Principal } from "../identity/principal";
import { type Decision, decide, type Policy, type WindowCount, windowStartOf } from "./windows";

/** How long a key's record is trusted before it is read again from D1 (changes also invalidate it at once). */
const KEY_RECORD_TTL_MS = 60_000;
/** `lastUsedAt` is written at most this often per key. */
const TOUCH_INTERVAL_MS = 60_000;

export function planPolicies(plan: Plan): Policy[] {
  const limits = PLAN_LIMITS[plan];
  return [
    { name: "hour", limit: limits.requestsPerHour, windowSeconds: 3600 },
    { name: "burst", limit: limits.burstPerMinute, windowSeconds: 60 },
  ];
}

export type KeyAuthOutcome =
  | { ok: true; principal: Principal; decision: Decision; touch: boolean }
  | { ok: false; reason: "unknown" | "revoked" | "expired" };

/**
 * One instance per API key (named by the key's hash), or per client IP for failed
 * authentications, or per incoming-webhook credential. A key's instance holds the
 * key's record beside its counters, so one call both authenticates and counts.
 * Counting runs without awaiting anything, so concurrent requests are admitted
 * exactly; counts are written to SQLite and survive eviction.
 *
 * Nothing is stored until something is counted or a key is provisioned: an unknown
 * key's instance stays empty, and the counters of addresses and credentials (`hit`)
 * delete themselves when their longest window ends, so a scan leaves nothing behind.
 */
export class RateLimiter extends DurableObject<Env> {
  private counts = new Map<string, WindowCount>();
  /** Whether the `counters` table exists: for a key's instance, that the key is (or was) real. */
  private stored: boolean;
  private cachedKey?: { record: KeyRecord | null; loadedAt: number };
  private loadingKey?: Promise<KeyRecord | null>;
  private lastTouchMs = 0;
  /** Bumped by `invalidate`, so a D1 read already in flight cannot re-cache what was just invalidated. */
  private keyGeneration = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    this.stored =
      sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'counters'").toArray().length > 0;
    if (this.stored) {
      for (const row of sql.exec<{ name: string; window_start: number; count: number }>("SELECT * FROM counters")) {
        this.counts.set(row.name, { windowStart: row.window_start, count: row.count });
      }
    }
  }

  /**
   * Authenticates the key whose SHA-256 is `keyHash` and, when valid, counts the request
   * against its plan. With `knownOnly` (the caller's address is throttled) an instance
   * that has never held a valid key answers `unknown` without reading D1.
   */
  async authenticate(keyHash: string, knownOnly = false): Promise<KeyAuthOutcome> {
    if (knownOnly && !this.stored && !this.cachedKey?.record) return { ok: false, reason: "unknown" };
    const record = await this.keyRecord(keyHash);
    if (!record) return { ok: false, reason: "unknown" };
    this.ensureStored();
    const now = Date.now();
    const nowIso = new Date(now).toISOString();
    if (record.revokedAt && record.revokedAt <= nowIso) return { ok: false, reason: "revoked" };
    if (record.expiresAt && record.expiresAt <= nowIso) return { ok: false, reason: "expired" };

    const decision = this.count(planPolicies(record.plan), now);
    const touch = decision.allowed && now - this.lastTouchMs >= TOUCH_INTERVAL_MS;
    if (touch) this.lastTouchMs = now;
    return {
      ok: true,
      decision,
      touch,
      principal: {
        orgId: record.orgId,
        orgName: record.orgName,
        plan: record.plan,
        userId: record.userId,
        role: record.role,
        apiKeyId: record.apiKeyId,
        permissions: effectivePermissions(record, record.role),
      },
    };
  }

  /** Marks a newly created key's instance as holding a real key (see `authenticate`'s `knownOnly`). */
  async provision(): Promise<void> {
    this.ensureStored();
  }

  /**
   * Counts one event against `policies` (per-IP failed authentications, incoming-webhook
   * credentials). The instance deletes its storage once the longest window has ended.
   */
  async hit(policies: Policy[]): Promise<Decision> {
    const now = Date.now();
    const decision = this.count(policies, now);
    if (decision.allowed) {
      const longest = Math.max(...policies.map((p) => p.windowSeconds));
      const windowEnd = (windowStartOf(Math.floor(now / 1000), longest) + longest) * 1000;
      // Moved forward when a new window starts, so a late alarm never erases a fresh count.
      const scheduled = await this.ctx.storage.getAlarm();
      if (scheduled === null || scheduled < windowEnd) await this.ctx.storage.setAlarm(windowEnd);
    }
    return decision;
  }

  /** What `hit` would decide, without counting: whether the address is throttled right now. */
  async peek(policies: Policy[]): Promise<Decision> {
    return decide(policies, this.counts, Date.now()).decision;
  }

  /** The windows of `hit` have ended: forget everything, leaving no storage behind. */
  override async alarm(): Promise<void> {
    await this.ctx.storage.deleteAll();
    this.counts.clear();
    this.stored = false;
  }

  /** Forgets the cached key record: the next request reads it again (revocation, plan or role change). */
  async invalidate(): Promise<void> {
    this.cachedKey = undefined;
    this.loadingKey = undefined;
    this.keyGeneration++;
  }

  private ensureStored(): void {
    if (this.stored) return;
    this.ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, window_start INTEGER NOT NULL, count INTEGER NOT NULL)",
    );
    this.stored = true;
  }

  private count(policies: Policy[], nowMs: number): Decision {
    const { decision, updated } = decide(policies, this.counts, nowMs);
    if (decision.allowed) {
      this.ensureStored();
      for (const [name, value] of updated) {
        this.counts.set(name, value);
        this.ctx.storage.sql.exec(
          "INSERT INTO counters (name, window_start, count) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET window_start = excluded.window_start, count = excluded.count",
          name,
          value.windowStart,
          value.count,
        );
      }
    }
    return decision;
  }
  private async keyRecord(keyHash: string): Promise<KeyRecord | null> {
    const cached = this.cachedKey;
    if (cached && Date.now() - cached.loadedAt < KEY_RECORD_TTL_MS) return cached.record;
    // Concurrent requests share one D1 read instead of each issuing their own.
    const generation = this.keyGeneration;
    this.loadingKey ??= loadKeyRecord(this.env.DB, keyHash);
    let record: KeyRecord | null;
    try {
      record = await this.loadingKey;
    } catch (error) {
      // A failed read must not stick: the next request reads again.
      this.loadingKey = undefined;
      throw error;
    }
    if (generation === this.keyGeneration) {
      this.cachedKey = { record, loadedAt: Date.now() };
      this.loadingKey = undefined;
    }
    return record;
  }
}
