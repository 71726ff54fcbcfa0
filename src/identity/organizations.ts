import { eq } from "drizzle-orm";
import { notFound } from "../core/errors";
import { newEtag, newId } from "../core/ids";
import { answerStatements, type WriteContext } from "../core/write-context";
import { apiKeys, type Organization, organizations, type User, users } from "../db/schema";
import { commitWithEvents } from "../events/outbox";
import { newApiKeyRow, presentApiKey } from "./api-keys";
import type { Plan } from "./plans";
import { presentUser } from "./users";

export function presentOrganization(row: Organization) {
  return { id: row.id, name: row.name, plan: row.plan, createdAt: row.createdAt, updatedAt: row.updatedAt };
}

/**
 * The operator's bootstrap: an organization, its owner and the owner's first admin
 * key, written together. The key is returned this once.
 */
export async function createOrganization(
  w: Omit<WriteContext, "orgId">,
  input: { name: string; plan: Plan; owner: { name: string; email: string } },
) {
  const { db } = w;
  const now = w.now();
  const org: Organization = { id: newId("org"), name: input.name, plan: input.plan, createdAt: now, updatedAt: now };
  const owner: User = {
    id: newId("user"),
    orgId: org.id,
    name: input.owner.name,
    email: input.owner.email.toLowerCase(),
    role: "owner",
    etag: newEtag(),
    createdAt: now,
    updatedAt: now,
  };
  const { row: keyRow, key } = await newApiKeyRow({
    orgId: org.id,
    userId: owner.id,
    name: "Owner's first admin key",
    grant: { scope: "admin", permissions: null },
    expiresAt: null,
  });
  const created = {
    organization: presentOrganization(org),
    owner: presentUser(owner),
    apiKey: { ...presentApiKey(keyRow), key },
  };
  await commitWithEvents(
    { ...w, orgId: org.id },
    [
      db.insert(organizations).values(org),
      db.insert(users).values(owner),
      db.insert(apiKeys).values(keyRow),
      ...answerStatements(w, created),
    ],
    [{ type: "member.added", resourceType: "member", resourceId: owner.id, data: presentUser(owner) }],
    now,
  );
  await w.keys.provision(keyRow.keyHash);
  return created;
}

export type CreatedOrganization = Awaited<ReturnType<typeof createOrganization>>;

/** Changes the plan; every key's Durable Object re-reads it, so new limits apply to the next request. */
export async function changePlan(w: WriteContext, { plan }: { plan: Plan }) {
  const { db, orgId } = w;
  const [row] = await db
    .update(organizations)
    .set({ plan, updatedAt: w.now() })
    .where(eq(organizations.id, orgId))
    .returning();
  if (!row) throw notFound("Organization");
  await w.keys.invalidateOf({ orgId, since: row.updatedAt });
  return presentOrganization(row);
}
