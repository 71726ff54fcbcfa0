import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import type { CommittedEvent } from "../src/core/write-context";
import { StaleWriteError, type WriteContext } from "../src/core/write-context";
import { users } from "../src/db/schema";
import { commitWithEvents } from "../src/events/outbox";
import { keyRecordsOf } from "../src/identity/key-cache";
import { createOrg } from "./harness";

function writeContext(orgId: string, committed: CommittedEvent[][]): WriteContext {
  return {
    db: drizzle(env.DB),
    orgId,
    actor: { userId: null, apiKeyId: null },
    keys: keyRecordsOf(env),
    now: () => new Date().toISOString(),
    afterCommit: (rows) => committed.push(rows),
  };
}

describe("outbox batches", () => {
  it("commit the change and its event together", async () => {
    const org = await createOrg();
    const committed: CommittedEvent[][] = [];
    const w = writeContext(org.id, committed);
    const current = await env.DB.prepare("SELECT etag FROM users WHERE id = ?")
      .bind(org.member.id)
      .first<{ etag: string }>();
    await commitWithEvents(
      w,
      [w.db.update(users).set({ name: "Renamed", etag: "next-etag" }).where(eq(users.id, org.member.id))],
      [{ type: "member.role_changed", resourceType: "member", resourceId: org.member.id, data: { name: "Renamed" } }],
      new Date().toISOString(),
      { table: "users", id: org.member.id, etag: current!.etag },
    );
    expect(committed).toHaveLength(1);
    const row = await env.DB.prepare("SELECT name FROM users WHERE id = ?").bind(org.member.id).first("name");
    expect(row).toBe("Renamed");
    const event = await env.DB.prepare("SELECT id FROM events WHERE id = ?").bind(committed[0]![0]!.id).first();
    expect(event).not.toBeNull();
  });

  it("roll back change and event when the row changed since it was read", async () => {
    const org = await createOrg();
    const committed: CommittedEvent[][] = [];
    const w = writeContext(org.id, committed);
    const eventsBefore = await env.DB.prepare("SELECT COUNT(*) AS n FROM events").first("n");
    await expect(
      commitWithEvents(
        w,
        [w.db.update(users).set({ name: "Lost update" }).where(eq(users.id, org.member.id))],
        [{ type: "member.role_changed", resourceType: "member", resourceId: org.member.id, data: {} }],
        new Date().toISOString(),
        { table: "users", id: org.member.id, etag: "an-etag-from-an-older-read" },
      ),
    ).rejects.toBeInstanceOf(StaleWriteError);
    expect(committed).toHaveLength(0);
    const name = await env.DB.prepare("SELECT name FROM users WHERE id = ?").bind(org.member.id).first("name");
    expect(name).toBe("Max Member");
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM events").first("n")).toBe(eventsBefore);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM write_guards").first("n")).toBe(0);
  });
});
