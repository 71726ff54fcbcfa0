import { ROLES, SCOPES } from "../db/enums";
import type { Plan } from "./plans";

export { ROLES, SCOPES };
export type Scope = (typeof SCOPES)[number];

export type Role = (typeof ROLES)[number];

const SCOPE_RANK: Record<Scope, number> = { read: 0, write: 1, admin: 2 };

/** admin ⊃ write ⊃ read. */
export function scopeCovers(held: Scope, needed: Scope): boolean {
  return SCOPE_RANK[held] >= SCOPE_RANK[needed];
}

/** The widest scope a member of this role may hold: plain members cannot administer. */
export function maxScopeForRole(role: Role): Scope {
  return role === "member" ? "write" : "admin";
}

/** A key never grants more than its user's role allows, even after a demotion. */
export function effectiveScope(keyScope: Scope, role: Role): Scope {
  const cap = maxScopeForRole(role);
  return SCOPE_RANK[keyScope] <= SCOPE_RANK[cap] ? keyScope : cap;
}

/** Who is calling: resolved from the API key on every `/v1` request. */
export interface Principal {
  orgId: string;
  orgName: string;
  plan: Plan;
  userId: string;
  role: Role;
  apiKeyId: string;
  scope: Scope;
}
