import { and, eq, inArray, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import { AppError } from "../core/errors";
import { newEtag, newId } from "../core/ids";
import type { PageRequest } from "../core/pagination";
import { assertIfMatch } from "../core/versions";
import { type Actor, answerStatements, type Changes, type WriteContext } from "../core/write-context";
import { sortKeys } from "../db/keyset";
import { findInOrg, listPage } from "../db/org-queries";
import { requireRow } from "../db/row-guards";
import { apiKeys, type User, users } from "../db/schema";
import { commitWithEvents, type EventDraft } from "../events/outbox";
import { stillAuthenticates } from "./key-cache";
import { assertMayManage, type Caller, outranks, type Role } from "./principal";

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
  return listPage(db, users, where, sortKeys(users, [query.sortBy, "id"]), query, presentUser);
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

/** Adds a member; only the owner adds admins (nobody grants their own rank or above but the owner). */
export async function addUser(w: WriteContext, input: { name: string; email: string; role: Exclude<Role, "owner"> }) {
  const caller = w.actor;
  if (caller.role && caller.role !== "owner" && !outranks(caller.role, input.role)) {
    throw new AppError("FORBIDDEN", `Only the owner may add a member with the '${input.role}' role`, { field: "role" });
  }
  const email = input.email.toLowerCase();
  const [taken] = await w.db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.orgId, w.orgId), eq(users.email, email)));
  if (taken) throw new AppError("CONFLICT", "A member with this email already exists", { field: "email" });
  const now = w.now();
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
      [w.db.insert(users).values(row), ...answerStatements(w, presentUser(row))],
      [{ type: "member.added", resourceType: "member", resourceId: row.id, data: presentUser(row) }],
      now,
    );
  } catch (error) {
    // Two concurrent adds of one email: the unique index refuses the second.
    if (String(error).includes("UNIQUE")) {
      throw new AppError("CONFLICT", "A member with this email already exists", { field: "email" });
    }
    throw error;
  }
  return presentUser(row);
}

/**
 * Renames a member or changes their role. Role changes follow the ranking (owner >
 * admin > member): only the member themselves or someone ranked above them may change
 * it, and only the owner grants a rank equal to their own or higher. The owner hands
 * the organization over by making another member `owner`, and becomes an admin in the
 * same batch, so there is always exactly one owner.
 */
export async function updateUser(
  w: WriteContext,
  { id: userId, patch, ifMatch }: { id: string; patch: { name?: string; role?: Role }; ifMatch?: string },
) {
  const current = await findUser(w.db, w.orgId, userId);
  assertIfMatch(ifMatch, current.etag);
  const changes: Changes = {};
  if (patch.name !== undefined && patch.name !== current.name) changes.name = { from: current.name, to: patch.name };
  if (patch.role !== undefined && patch.role !== current.role) changes.role = { from: current.role, to: patch.role };
  if (changes.role) assertMayGrant(w.actor, current, patch.role as Role);
  if (Object.keys(changes).length === 0) return { resource: presentUser(current), etag: current.etag };

  const now = w.now();
  const next: User = { ...current, ...patch, etag: newEtag(), updatedAt: now };
  const statements: BatchItem<"sqlite">[] = [
    w.db
      .update(users)
      .set({ name: next.name, role: next.role, etag: next.etag, updatedAt: now })
      .where(eq(users.id, userId)),
  ];
  const drafts: EventDraft[] = changes.role
    ? [{ type: "member.role_changed", resourceType: "member", resourceId: userId, data: presentUser(next), changes }]
    : [];
  let formerOwner: User | undefined;
  if (next.role === "owner" && changes.role) {
    const owner = await findUser(w.db, w.orgId, w.actor.userId ?? "");
    formerOwner = { ...owner, role: "admin", etag: newEtag(), updatedAt: now };
    // Guarded on the owner's ETag too: two concurrent hand-overs cannot both apply.
    statements.push(
      ...requireRow(
        w.db,
        users,
        and(eq(users.id, owner.id), eq(users.etag, owner.etag), eq(users.role, "owner")) as SQL,
      ),
      w.db.update(users).set({ role: "admin", etag: formerOwner.etag, updatedAt: now }).where(eq(users.id, owner.id)),
    );
    drafts.push({
      type: "member.role_changed",
      resourceType: "member",
      resourceId: owner.id,
      data: presentUser(formerOwner),
      changes: { role: { from: "owner", to: "admin" } },
    });
  }
  await commitWithEvents(w, statements, drafts, now, { table: "users", id: userId, etag: current.etag });
  if (changes.role) {
    await w.keys.invalidateOf({ orgId: w.orgId, userId, since: now });
    if (formerOwner) await w.keys.invalidateOf({ orgId: w.orgId, userId: formerOwner.id, since: now });
  }
  return { resource: presentUser(next), etag: next.etag };
}

/** The role rules of `updateUser`, checked before anything is written. */
function assertMayGrant(caller: Actor, target: User, role: Role): void {
  if (!caller.role) return; // the operator or the system, not a member
  if (target.role === "owner" && caller.userId === target.id) {
    throw new AppError(
      "CONFLICT",
      "The organization's owner keeps the owner role; make another member the owner to hand it over",
      { field: "role" },
    );
  }
  assertMayManage(caller as Caller, target, "change their role");
  if (caller.role !== "owner" && !outranks(caller.role, role)) {
    throw new AppError("FORBIDDEN", `Only the owner may grant the '${role}' role`, { field: "role" });
  }
}

/** Removes a member and revokes their keys: themselves, or someone ranked above them; never the owner. */
export async function removeUser(w: WriteContext, { id: userId, ifMatch }: { id: string; ifMatch?: string }) {
  const current = await findUser(w.db, w.orgId, userId);
  assertIfMatch(ifMatch, current.etag);
  if (current.role === "owner") throw new AppError("CONFLICT", "The organization's owner cannot be removed");
  if (w.actor.role) assertMayManage(w.actor as Caller, current, "remove them");
  const now = w.now();
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
  await w.keys.invalidateOf({ orgId: w.orgId, userId, since: now });
}
