// The raw SQL over `idempotency_keys`. Each function returns bound statements, so the
// caller decides whether they run alone or in a batch.

/**
 * Frees the key when its record expired or its claim was abandoned, then claims it:
 * raw because INSERT OR IGNORE's `meta.changes` is how the caller learns, in the same
 * batch, whether this request took the key (0: someone holds it).
 */
export function claimIdempotencyKey(
  db: Pick<D1Database, "prepare">,
  claim: { owner: string; key: string; requestHash: string; now: string; expiresAt: string; abandonedBefore: string },
): [D1PreparedStatement, D1PreparedStatement] {
  return [
    db
      .prepare(
        "DELETE FROM idempotency_keys WHERE org_id = ?1 AND key = ?2 AND (expires_at <= ?3 OR (status IS NULL AND created_at < ?4))",
      )
      .bind(claim.owner, claim.key, claim.now, claim.abandonedBefore),
    db
      .prepare(
        "INSERT OR IGNORE INTO idempotency_keys (org_id, key, request_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
      )
      .bind(claim.owner, claim.key, claim.requestHash, claim.now, claim.expiresAt),
  ];
}

/** Forgets at most `limit` expired keys: raw because DELETE … LIMIT needs the rowid subquery drizzle cannot say. */
export function pruneExpiredIdempotencyKeys(db: D1Database, now: string, limit: number): D1PreparedStatement {
  return db
    .prepare(
      "DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys WHERE expires_at <= ? LIMIT ?)",
    )
    .bind(now, limit);
}
