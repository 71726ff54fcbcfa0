import type { Plan } from "./plans";
import type { Role, Scope } from "./principal";

/** What authentication needs to know about a key, read in one D1 query. */
export interface KeyRecord {
  apiKeyId: string;
  orgId: string;
  orgName: string;
  plan: Plan;
  userId: string;
  role: Role;
  scope: Scope;
  expiresAt: string | null;
  revokedAt: string | null;
}

export async function loadKeyRecord(db: D1Database, keyHash: string): Promise<KeyRecord | null> {
  return db
    .prepare(
      `SELECT k.id AS apiKeyId, k.org_id AS orgId, o.name AS orgName, o.plan AS plan, k.user_id AS userId,
              u.role AS role, k.scope AS scope, k.expires_at AS expiresAt, k.revoked_at AS revokedAt
         FROM api_keys k
         JOIN users u ON u.id = k.user_id AND u.org_id = k.org_id
         JOIN organizations o ON o.id = k.org_id
        WHERE k.key_hash = ?`,
    )
    .bind(keyHash)
    .first<KeyRecord>();
}
