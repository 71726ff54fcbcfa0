import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import { type EventListQuery, eventListQueries } from "../src/events/log";
import type { CreatedIncomingWebhook, Event, Page } from "./api-types";
import { makeComment, makeProject, makeTask } from "./fixtures";
import { call, createOrg, expectError, type TestOrg } from "./harness";

async function list(org: TestOrg, query: string) {
  const res = await call<Page<Event>>("GET", `/v1/events?${query}`, { key: org.keys.read });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** Follows `nextCursor` from the first page to the end, `limit` at a time. */
async function walk(org: TestOrg, query: string, limit: number) {
  const seen: Event[] = [];
  let page = await list(org, `${query}&limit=${limit}`);
  for (;;) {
    seen.push(...page.data);
    const next = page.pagination.nextCursor;
    if (!next) return seen;
    page = await list(org, `${query}&limit=${limit}&cursor=${encodeURIComponent(next)}`);
  }
}

/** An organization with events by the owner's key, the member's key and an incoming webhook. */
async function world() {
  const org = await createOrg();
  const project = await makeProject(org);
  const task = await makeTask(org, project.id);
  await makeComment(org, task.id);
  const byMember = await call<{ id: string }>("POST", "/v1/tasks", {
    key: org.member.key,
    body: { title: "by the member", projectId: project.id },
  });
  await call("PATCH", `/v1/tasks/${byMember.body.id}`, { key: org.member.key, body: { title: "renamed" } });
  const cred = await call<CreatedIncomingWebhook>("POST", "/v1/incoming-webhooks", {
    key: org.keys.admin,
    body: { name: "automation", permissions: ["tasks:create"] },
  });
  const intake = await call<{ id: string }>("POST", "/v1/webhooks/incoming/tasks", {
    key: cred.body.key,
    body: { title: "from automation", projectId: project.id },
  });
  expect(intake.status).toBe(201);
  const everything = await walk(org, "order=asc", 100);
  return { org, project, task, memberTaskId: byMember.body.id, credentialId: cred.body.id, everything };
}

describe("event log: resourceType and actorId filters", () => {
  it("resourceType alone: exactly the events about that kind of resource, with their total", async () => {
    const { org, everything } = await world();
    for (const resourceType of ["task", "project", "member", "comment"]) {
      const expected = everything.filter((e) => e.resourceType === resourceType);
      expect(expected.length, resourceType).toBeGreaterThan(0);
      const page = await list(org, `resourceType=${resourceType}&order=asc&limit=100`);
      expect(page.data.map((e) => e.id)).toEqual(expected.map((e) => e.id));
      expect(page.pagination.total, resourceType).toBe(expected.length);
    }
  });

  it("actorId alone: a member id, a key id and an incoming-webhook id each match their actor", async () => {
    const { org, memberTaskId, credentialId, everything } = await world();
    const byMember = await list(org, `actorId=${org.member.id}&order=asc&limit=100`);
    expect(byMember.data.map((e) => e.id)).toEqual(
      everything.filter((e) => e.actor.userId === org.member.id).map((e) => e.id),
    );
    expect(byMember.data.map((e) => e.resourceId)).toEqual([memberTaskId, memberTaskId]);
    expect(byMember.pagination.total).toBe(2);

    const byKey = await list(org, `actorId=${org.keyIds.write}&order=asc&limit=100`);
    expect(byKey.data.length).toBeGreaterThan(0);
    expect(byKey.data.map((e) => e.id)).toEqual(
      everything.filter((e) => e.actor.apiKeyId === org.keyIds.write).map((e) => e.id),
    );

    const byCredential = await list(org, `actorId=${credentialId}`);
    expect(byCredential.data).toHaveLength(1);
    expect(byCredential.data[0]!.actor).toEqual({ userId: null, apiKeyId: null, incomingWebhookId: credentialId });
    expect(byCredential.pagination.total).toBe(1);

    const nobody = await list(org, "actorId=user_doesnotexist000000");
    expect(nobody.data).toEqual([]);
    expect(nobody.pagination.total).toBe(0);
  });

  it("combined with type, resourceId and since, and walked by cursor without repeats or gaps", async () => {
    const { org, memberTaskId, everything } = await world();
    const memberTaskEvents = everything.filter((e) => e.resourceType === "task" && e.actor.userId === org.member.id);
    const combined = await list(org, `resourceType=task&actorId=${org.member.id}&type=task.updated`);
    expect(combined.data.map((e) => e.resourceId)).toEqual([memberTaskId]);
    expect(combined.pagination.total).toBe(1);
    expect((await list(org, `resourceType=project&actorId=${org.member.id}`)).data).toEqual([]);
    const since = memberTaskEvents[1]!.createdAt;
    const recent = await list(org, `resourceType=task&resourceId=${memberTaskId}&since=${encodeURIComponent(since)}`);
    expect(recent.data.map((e) => e.type)).toEqual(["task.updated"]);

    const tasks = everything.filter((e) => e.resourceType === "task");
    expect(tasks.length).toBeGreaterThan(3);
    const walked = await walk(org, "resourceType=task&order=asc", 1);
    expect(walked.map((e) => e.id)).toEqual(tasks.map((e) => e.id));
    const byOwnerKey = everything.filter((e) => e.actor.apiKeyId === org.keyIds.write);
    expect((await walk(org, `actorId=${org.keyIds.write}&order=asc`, 2)).map((e) => e.id)).toEqual(
      byOwnerKey.map((e) => e.id),
    );
  });

  it("a cursor is bound to its filters: another resourceType or actorId is a 400 naming cursor", async () => {
    const { org } = await world();
    const first = await list(org, "resourceType=task&limit=1");
    const cursor = encodeURIComponent(first.pagination.nextCursor!);
    expectError(
      await call("GET", `/v1/events?resourceType=comment&limit=1&cursor=${cursor}`, { key: org.keys.read }),
      400,
      "VALIDATION_ERROR",
      "cursor",
    );
    expectError(
      await call("GET", `/v1/events?resourceType=task&actorId=${org.owner.id}&limit=1&cursor=${cursor}`, {
        key: org.keys.read,
      }),
      400,
      "VALIDATION_ERROR",
      "cursor",
    );
  });

  it("another organization's events stay invisible through the filters", async () => {
    const { org, everything } = await world();
    const other = await createOrg();
    const theirs = await call<Page<Event>>("GET", `/v1/events?actorId=${org.member.id}`, { key: other.keys.read });
    expect(theirs.body.data).toEqual([]);
    expect(theirs.body.pagination.total).toBe(0);
    const ownKeyElsewhere = await call<Page<Event>>("GET", `/v1/events?actorId=${org.keyIds.write}`, {
      key: other.keys.read,
    });
    expect(ownKeyElsewhere.body.data).toEqual([]);
    const tasksThere = await call<Page<Event>>("GET", "/v1/events?resourceType=task&limit=100", {
      key: other.keys.read,
    });
    const mine = new Set(everything.map((e) => e.id));
    expect(tasksThere.body.data.some((e) => mine.has(e.id))).toBe(false);
  });

  it("bad values are a 400 naming the field", async () => {
    const org = await createOrg();
    for (const [query, field] of [
      ["resourceType=webhooks", "resourceType"],
      ["resourceType=", "resourceType"],
      ["actorId=proj_abc", "actorId"],
      ["actorId=user_", "actorId"],
      ["actorId=user_a%20b", "actorId"],
      [`actorId=user_${"a".repeat(80)}`, "actorId"],
      ["actorId=", "actorId"],
    ] as const) {
      expectError(await call("GET", `/v1/events?${query}`, { key: org.keys.read }), 400, "VALIDATION_ERROR", field);
    }
  });
});

describe("event log: the new filters use indexes", () => {
  const base = { page: 1, limit: 50, sortBy: "createdAt", order: "desc" } as const;
  async function plans(query: Partial<EventListQuery>) {
    const built = await eventListQueries(drizzle(env.DB), "org_plan", { ...base, ...query });
    const planOf = async (statement: { sql: string; params: unknown[] }) => {
      const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${statement.sql}`)
        .bind(...statement.params)
        .all<{ detail: string }>();
      return results.map((r) => r.detail).join(" | ");
    };
    return { page: await planOf(built.page.toSQL()), total: built.total ? await planOf(built.total.toSQL()) : "" };
  }

  it("a filtered page seeks its index in sort order (no sort of the org's events); totals use counters or an index", async () => {
    for (const [query, index] of [
      [{ resourceType: "task" }, "events_org_resource_type_created"],
      [{ actorId: "user_abc" }, "events_org_actor_user_created"],
      [{ actorId: "key_abc" }, "events_org_actor_key_created"],
      [{ actorId: "iwh_abc" }, "events_org_actor_incoming_created"],
    ] as const) {
      const { page, total } = await plans(query);
      expect(page, JSON.stringify(query)).toContain(`USING INDEX ${index} (org_id=? AND`);
      expect(page, JSON.stringify(query)).not.toContain("TEMP B-TREE");
      if ("resourceType" in query) expect(total).toContain("event_counts");
      else expect(total).toMatch(/SEARCH events USING (COVERING )?INDEX \w+ \(org_id=\? AND/);
    }
  });
});
