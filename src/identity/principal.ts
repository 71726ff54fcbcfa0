import { KEY_PERMISSIONS, type KeyPermission, ROLES, type Role, SCOPES } from "../core/enums";
import { AppError } from "../core/errors";
import type { Plan } from "./plans";

export type { KeyPermission, Role };
export { KEY_PERMISSIONS, ROLES, SCOPES };
export type Scope = (typeof SCOPES)[number];

const READ_PERMISSIONS = [
  "tasks:read",
  "projects:read",
  "comments:read",
  "members:read",
  "events:read",
] as const satisfies KeyPermission[];

/**
 * The permissions each scope is shorthand for: read reads tasks, projects, comments,
 * members and events; write also writes tasks, projects and comments; admin holds
 * every permission, including any added to the catalog later.
 */
export const SCOPE_PERMISSIONS: Record<Scope, readonly KeyPermission[]> = {
  read: inCatalogOrder(READ_PERMISSIONS),
  write: inCatalogOrder([...READ_PERMISSIONS, "tasks:write", "projects:write", "comments:write"]),
  admin: KEY_PERMISSIONS,
};

function inCatalogOrder(permissions: readonly KeyPermission[]): KeyPermission[] {
  return KEY_PERMISSIONS.filter((p) => permissions.includes(p));
}

/** What a key holds: its scope's permissions, or the list it was created with (scope null). */
export interface KeyGrant {
  scope: Scope | null;
  permissions: readonly KeyPermission[] | null;
}

/** The key's permissions in catalog order, before its member's role is applied. */
export function permissionsOf(key: KeyGrant): KeyPermission[] {
  return inCatalogOrder(key.scope ? SCOPE_PERMISSIONS[key.scope] : (key.permissions ?? []));
}

/** The permissions a member of this role may hold: those of the widest scope the role allows. */
export function permissionsForRole(role: Role): readonly KeyPermission[] {
  return SCOPE_PERMISSIONS[maxScopeForRole(role)];
}

/** A key never grants more than its user's role allows, even after a demotion. */
export function effectivePermissions(key: KeyGrant, role: Role): KeyPermission[] {
  const allowed = permissionsForRole(role);
  return permissionsOf(key).filter((p) => allowed.includes(p));
}

/** The permissions of `wanted` missing from `held`, in catalog order. */
export function missingPermissions(held: readonly KeyPermission[], wanted: readonly KeyPermission[]): KeyPermission[] {
  return inCatalogOrder(wanted).filter((p) => !held.includes(p));
}

const SCOPE_RANK: Record<Scope, number> = { read: 0, write: 1, admin: 2 };

/** admin ⊃ write ⊃ read. */
export function scopeCovers(held: Scope, needed: Scope): boolean {
  return SCOPE_RANK[held] >= SCOPE_RANK[needed];
}

/** The widest scope a member of this role may hold: plain members cannot administer. */
export function maxScopeForRole(role: Role): Scope {
  return role === "member" ? "write" : "admin";
}

/** Who is calling: resolved from the API key on every `/v1` request. */
export interface Principal {
  orgId: string;
  orgName: string;
  plan: Plan;
  userId: string;
  role: Role;
  apiKeyId: string;
  /** What the key may do now: its permissions within what the member's role allows. */
  permissions: KeyPermission[];
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
