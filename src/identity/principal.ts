import { ROLES, type Role, SCOPES } from "../core/enums";
import { AppError } from "../core/errors";
import type { Plan } from "./plans";

export type { Role };
export { ROLES, SCOPES };
export type Scope = (typeof SCOPES)[number];

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

const ROLE_RANK: Record<Role, number> = { member: 0, admin: 1, owner: 2 };

/** owner > admin > member. */
export function outranks(held: Role, other: Role): boolean {
  return ROLE_RANK[held] > ROLE_RANK[other];
}

/**
 * A member's keys, role and membership are managed only by that member or by someone
 * of strictly higher rank: an admin cannot act as, demote or remove the owner or
 * another admin. 403 otherwise.
 */
export type Caller = Pick<Principal, "userId" | "role">;

export function assertMayManage(caller: Caller, target: { id: string; role: Role }, what: string) {
  if (caller.userId === target.id || outranks(caller.role, target.role)) return;
  throw new AppError(
    "FORBIDDEN",
    `Only the member themselves or someone ranked above their '${target.role}' role may ${what}`,
  );
}
