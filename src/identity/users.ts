import { and, eq, gt, inArray, isNull, or, type SQL } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import { findInOrg, listPage } from "../db/org-queries";
import { apiKeys, type User, users } from "../db/schema";
import type { Env } from "../env";
import { type Changes, commitWithEvents, type WriteContext } from "../events/outbox";
import { ApiError } from "../http/errors";
import { assertIfMatch } from "../http/etag";
import type { PageRequest } from "../http/pagination";
import { newEtag, newId } from "../lib/random";
import { nowIso } from "../lib/time";
import { invalidateKeys } from "./key-cache";
import type { Role } from "./principal";

export function presentUser(row: User) {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    role: row.role,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
export type UserResource = ReturnType<typeof presentUser>;

export const USER_SORT_FIELDS = ["createdAt", "name", "email"] as const;

export async function listUsers(
  db: DrizzleD1Database,
  orgId: string,
  query: PageRequest & { sortBy: (typeof USER_SORT_FIELDS)[number]; order: "asc" | "desc"; role?: Role },
) {
  const where = and(eq(users.orgId, orgId), query.role ? eq(users.role, query.role) : undefined);
  return listPage(db, users, where, [users[query.sortBy], users.id], query, presentUser);
}

export async function findUser(db: DrizzleD1Database, orgId: string, userId: string): Promise<User> {
  return findInOrg(db, users, orgId, userId, "User");
}

/** Members the organization has, of the ids given: for assignee and mention checks. */
export async function existingMemberIds(db: DrizzleD1Database, orgId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.orgId, orgId), inArray(users.id, ids)));
  return new Set(rows.map((r) => r.id));
}

export async function addUser(w: WriteContext, input: { name: string; email: string; role: Exclude<Role, "owner"> }) {
  const email = input.email.toLowerCase();
  const [taken] = await w.db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.orgId, w.orgId), eq(users.email, email)));
  if (taken) throw new ApiError("CONFLICT", "A member with this email already exists", { field: "email" });
  const now = nowIso();
  const row: User = {
    id: newId("user"),
    orgId: w.orgId,
    name: input.name,
    email,
    role: input.role,
    etag: newEtag(),
    createdAt: now,
    updatedAt: now,
  };
  try {
    await commitWithEvents(
      w,
      [w.db.insert(users).values(row)],
      [{ type: "member.added", resourceType: "member", resourceId: row.id, data: presentUser(row) }],
      now,
    );
  } catch (error) {
    // Two concurrent adds of one email: the unique index refuses the second.
    if (String(error).includes("UNIQUE")) {
      throw new ApiError("CONFLICT", "A member with this email already exists", { field: "email" });
    }
    throw error;
  }
  return presentUser(row);
}

export async function updateUser(
  env: Env,
  w: WriteContext,
  userId: string,
  patch: { name?: string; role?: Exclude<Role, "owner"> },
  ifMatch?: string,
) {
  const current = await findUser(w.db, w.orgId, userId);
  assertIfMatch(ifMatch, current.etag);
  if (patch.role && current.role === "owner") {
    throw new ApiError("CONFLICT", "The organization's owner keeps the owner role", { field: "role" });
  }
  const changes: Changes = {};
  if (patch.name !== undefined && patch.name !== current.name) changes.name = { from: current.name, to: patch.name };
  if (patch.role !== undefined && patch.role !== current.role) changes.role = { from: current.role, to: patch.role };
  if (Object.keys(changes).length === 0) return { resource: presentUser(current), etag: current.etag };

  const now = nowIso();
  const next: User = { ...current, ...patch, etag: newEtag(), updatedAt: now };
  await commitWithEvents(
    w,
    [
      w.db
        .update(users)
        .set({ name: next.name, role: next.role, etag: next.etag, updatedAt: now })
        .where(eq(users.id, userId)),
    ],
    changes.role
      ? [{ type: "member.role_changed", resourceType: "member", resourceId: userId, data: presentUser(next), changes }]
      : [],
    now,
    { table: "users", id: userId, etag: current.etag },
  );
  if (changes.role) await invalidateKeys(env, await activeKeyHashes(w.db, eq(apiKeys.userId, userId)));
  return { resource: presentUser(next), etag: next.etag };
}

export async function removeUser(env: Env, w: WriteContext, userId: string, ifMatch?: string) {
  const current = await findUser(w.db, w.orgId, userId);
  assertIfMatch(ifMatch, current.etag);
  if (current.role === "owner") throw new ApiError("CONFLICT", "The organization's owner cannot be removed");
  const hashes = await activeKeyHashes(w.db, eq(apiKeys.userId, userId));
  const now = nowIso();
  await commitWithEvents(
    w,
    [
      w.db
        .update(apiKeys)
        .set({ revokedAt: now })
        .where(and(eq(apiKeys.userId, userId), stillAuthenticates(now))),
      w.db.delete(users).where(eq(users.id, userId)),
    ],
    [{ type: "member.removed", resourceType: "member", resourceId: userId, data: presentUser(current) }],
    now,
    { table: "users", id: userId, etag: current.etag },
  );
  await invalidateKeys(env, hashes);
}

/** Hashes of keys that still authenticate (not revoked, or revoked only in the future). */
export async function activeKeyHashes(db: DrizzleD1Database, where: SQL): Promise<string[]> {
  const rows = await db
    .select({ keyHash: apiKeys.keyHash })
    .from(apiKeys)
    .where(and(where, stillAuthenticates(nowIso())));
  return rows.map((r) => r.keyHash);
}

/** Keys not revoked, or revoked only at a future instant (a rotation's grace period). */
export function stillAuthenticates(now: string): SQL {
  return or(isNull(apiKeys.revokedAt), gt(apiKeys.revokedAt, now)) as SQL;
}
