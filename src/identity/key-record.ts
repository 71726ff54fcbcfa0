import { and, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { apiKeys, organizations, users } from "../db/schema";
import type { Plan } from "./plans";
import type { KeyGrant, Role } from "./principal";

/** What authentication needs to know about a key, read in one D1 query. */
export interface KeyRecord extends KeyGrant {
  apiKeyId: string;
  orgId: string;
  orgName: string;
  plan: Plan;
  userId: string;
  role: Role;
  expiresAt: string | null;
  revokedAt: string | null;
}

export async function loadKeyRecord(db: D1Database, keyHash: string): Promise<KeyRecord | null> {
  const record = await drizzle(db)
    .select({
      apiKeyId: apiKeys.id,
      orgId: apiKeys.orgId,
      orgName: organizations.name,
      plan: organizations.plan,
      userId: apiKeys.userId,
      role: users.role,
      scope: apiKeys.scope,
      permissions: apiKeys.permissions,
      expiresAt: apiKeys.expiresAt,
      revokedAt: apiKeys.revokedAt,
    })
    .from(apiKeys)
    .innerJoin(users, and(eq(users.id, apiKeys.userId), eq(users.orgId, apiKeys.orgId)))
    .innerJoin(organizations, eq(organizations.id, apiKeys.orgId))
    .where(eq(apiKeys.keyHash, keyHash))
    .get();
  return record ?? null;
}
