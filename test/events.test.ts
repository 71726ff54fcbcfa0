import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import { type EventListQuery, eventListQueries } from "../src/events/log";
import type { Event, Page, User } from "./api-types";
import { eventCount, eventsFor, expectClientError, ids, makeComment, makeProject, makeTask } from "./fixtures";
import { call, createOrg, expectError } from "./harness";

describe("event log: one immutable event per mutation", () => {
  it("records every kind of mutation with the full resource and the actor", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const task = await makeTask(org, project.id);
    const comment = await makeComment(org, task.id);
    await call("PATCH", `/v1/projects/${project.id}`, { key: org.keys.write, body: { name: "Renamed" } });
    await call("PATCH", `/v1/tasks/${task.id}`, {
      key: org.keys.write,
      body: { status: "done", assigneeId: org.member.id },
    });
    await call("PATCH", `/v1/comments/${comment.id}`, { key: org.keys.write, body: { content: "edited" } });
    await call("DELETE", `/v1/comments/${comment.id}`, { key: org.keys.write });
    await call("DELETE", `/v1/tasks/${task.id}`, { key: org.keys.write });
    await call("DELETE", `/v1/projects/${project.id}`, { key: org.keys.write });
    const user = await call<User>("POST", "/v1/users", {
      key: org.keys.admin,
      body: { name: "Temp", email: `temp-${org.id}@example.com` },
    });
    await call("PATCH", `/v1/users/${user.body.id}`, { key: org.keys.admin, body: { role: "admin" } });
    await call("DELETE", `/v1/users/${user.body.id}`, { key: org.keys.admin });

    const res = await call<Page<Event>>("GET", "/v1/events?limit=100&order=asc", { key: org.keys.read });
    expect(res.status).toBe(200);
    const types = res.body.data.map((e) => e.type);
    expect(new Set(types)).toEqual(
      new Set([
        "member.added",
        "project.created",
        "task.created",
        "comment.created",
        "project.updated",
        "task.updated",
        "task.completed",
        "task.assigned",
        "comment.updated",
        "comment.deleted",
        "task.deleted",
        "project.deleted",
        "member.role_changed",
        "member.removed",
      ]),
    );
    for (const event of res.body.data) {
      expect(event).toEqual({
        id: expect.stringMatching(/^evt_/),
        type: expect.any(String),
        resourceType: event.type.split(".")[0],
        resourceId: expect.any(String),
        data: expect.objectContaining({ id: event.resourceId }),
        ...(event.changes ? { changes: expect.any(Object) } : {}),
        // The owner was added by the operator's bootstrap, without a key.
        actor:
          event.resourceId === org.owner.id
            ? { userId: null, apiKeyId: null }
            : { userId: expect.any(String), apiKeyId: expect.stringMatching(/^key_/) },
        createdAt: expect.any(String),
      });
    }
    const taskUpdated = res.body.data.find((e) => e.type === "task.updated")!;
    expect(taskUpdated.actor).toEqual({ userId: org.owner.id, apiKeyId: org.keyIds.write });
    expect(taskUpdated.changes!.status).toEqual({ from: "todo", to: "done" });

    const one = await call("GET", `/v1/events/${taskUpdated.id}`, { key: org.keys.read });
    expect(one.status).toBe(200);
    expect(one.body).toEqual(taskUpdated);
  });

  it("a refused mutation writes no event", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const task = await makeTask(org, project.id);
    const before = await eventCount(org.id);
    await call("POST", "/v1/tasks", { key: org.keys.write, body: { title: "", projectId: project.id } });
    await call("POST", "/v1/tasks", { key: org.keys.read, body: { title: "T", projectId: project.id } });
    await call("PATCH", `/v1/tasks/${task.id}`, { key: org.keys.write, body: { assigneeId: "user_none" } });
    await call("PATCH", `/v1/tasks/${task.id}`, {
      key: org.keys.write,
      body: { title: "x" },
      headers: { "If-Match": '"stale"' },
    });
    await call("DELETE", `/v1/projects/${project.id}`, { key: org.keys.write, headers: { "If-Match": '"stale"' } });
    await call("POST", `/v1/tasks/${task.id}/comments`, {
      key: org.keys.write,
      body: { content: "c", mentions: ["user_x"] },
    });
    expect(await eventCount(org.id)).toBe(before);
  });
});

describe("event log: listing", () => {
  it("filters by type, resourceId and since; newest first by default; paginates", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const t1 = await makeTask(org, project.id);
    const t2 = await makeTask(org, project.id);
    await call("PATCH", `/v1/tasks/${t1.id}`, { key: org.keys.write, body: { title: "changed" } });

    const all = await call<Page<Event>>("GET", "/v1/events", { key: org.keys.read });
    const stamps = all.body.data.map((e) => e.createdAt);
    expect(stamps).toEqual([...stamps].sort().reverse());
    expect(all.body.pagination.total).toBe(all.body.data.length);
    // The kept counter agrees with the log itself, and counts this organization only.
    expect(all.body.pagination.total).toBe(await eventCount(org.id));
    const typed = await env.DB.prepare("SELECT COUNT(*) AS n FROM events WHERE org_id = ? AND type = 'task.updated'")
      .bind(org.id)
      .first<number>("n");
    const updated = await call<Page<Event>>("GET", "/v1/events?type=task.updated", { key: org.keys.read });
    expect(updated.body.pagination.total).toBe(typed);

    const created = await call<Page<Event>>("GET", "/v1/events?type=task.created", { key: org.keys.read });
    expect(created.body.data.map((e) => e.resourceId).sort()).toEqual([t1.id, t2.id].sort());
    expect(created.body.pagination.total).toBe(2);

    const forT1 = await eventsFor(org, t1.id);
    expect(forT1.map((e) => e.type)).toEqual(["task.created", "task.updated"]);

    const since = forT1[1]!.createdAt;
    const recent = await call<Page<Event>>("GET", `/v1/events?since=${encodeURIComponent(since)}`, {
      key: org.keys.read,
    });
    expect(recent.body.data.every((e) => e.createdAt >= since)).toBe(true);
    expect(recent.body.data.map((e) => e.type)).toContain("task.updated");
    const future = await call("GET", "/v1/events?since=2999-01-01", { key: org.keys.read });
    expect(future.body).toEqual({
      data: [],
      pagination: { total: 0, page: 1, limit: 50, totalPages: 0, nextCursor: null },
    });

    const paged = await call<Page<Event>>("GET", "/v1/events?limit=2&page=2", { key: org.keys.read });
    expect(ids(paged)).toEqual(ids(all).slice(2, 4));
  });

  it("refuses bad filters by name", async () => {
    const org = await createOrg();
    expectError(
      await call("GET", "/v1/events?type=task.exploded", { key: org.keys.read }),
      400,
      "VALIDATION_ERROR",
      "type",
    );
    expectError(
      await call("GET", "/v1/events?since=last-week", { key: org.keys.read }),
      400,
      "VALIDATION_ERROR",
      "since",
    );
    expectError(await call("GET", "/v1/events?limit=101", { key: org.keys.read }), 400, "VALIDATION_ERROR", "limit");
    expectError(await call("GET", "/v1/events?sortBy=type", { key: org.keys.read }), 400, "VALIDATION_ERROR", "sortBy");
    expectError(await call("GET", "/v1/events?actor=me", { key: org.keys.read }), 400, "VALIDATION_ERROR", "actor");
    for (const id of ["x", `evt_${"a".repeat(80)}`, "%00"]) {
      expectClientError(await call("GET", `/v1/events/${id}`, { key: org.keys.read }), `GET ${id}`);
    }
  });
});

describe("event log: totals", () => {
  it("unfiltered and type-filtered totals are read from event_counts; resourceId and since count the log", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const logged = await eventCount(org.id);
    // A counter that disagrees with the log shows which one a total was read from.
    await env.DB.prepare("UPDATE event_counts SET n = n + 1000 WHERE org_id = ? AND type = 'project.created'")
      .bind(org.id)
      .run();
    const total = async (query: string) =>
      (await call<Page<Event>>("GET", `/v1/events${query}`, { key: org.keys.read })).body.pagination.total;
    expect(await total("")).toBe(logged + 1000);
    expect(await total("?type=project.created")).toBe(1001);
    expect(await total(`?resourceId=${project.id}`)).toBe(1);
    expect(await total("?since=2000-01-01T00:00:00Z")).toBe(logged);
  });

  it("no total scans the log: kept counts without filters or by type, an index otherwise", async () => {
    const base = { page: 1, limit: 50, sortBy: "createdAt", order: "desc" } as const;
    const planOf = async (query: Partial<EventListQuery>) => {
      const built = (await eventListQueries(drizzle(env.DB), "org_plan", { ...base, ...query })).total?.toSQL();
      if (!built) throw new Error("page mode always has a total query");
      const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${built.sql}`)
        .bind(...built.params)
        .all<{ detail: string }>();
      return results.map((r) => r.detail).join(" | ");
    };
    for (const query of [{}, { type: "task.updated" as const }]) {
      const plan = await planOf(query);
      expect(plan, JSON.stringify(query)).toContain("event_counts");
      expect(plan, JSON.stringify(query)).not.toMatch(/\bevents\b/);
    }
    for (const query of [{ resourceId: "task_x" }, { since: "2026-01-01T00:00:00.000Z" }]) {
      const plan = await planOf(query);
      expect(plan, JSON.stringify(query)).toMatch(/SEARCH events USING (COVERING )?INDEX \w+ \(org_id=\? AND/);
    }
  });
});

describe("event log: security", () => {
  it("401 without a key; read scope suffices; another organization's events are invisible (404)", async () => {
    const org = await createOrg();
    const other = await createOrg();
    const project = await makeProject(org);
    expectError(await call("GET", "/v1/events"), 401, "UNAUTHORIZED");
    expectError(await call("GET", "/v1/events/evt_x"), 401, "UNAUTHORIZED");
    const mine = await eventsFor(org, project.id);
    const eventId = (await call<Page<Event>>("GET", `/v1/events?resourceId=${project.id}`, { key: org.keys.read })).body
      .data[0]!.id;
    expect(mine).toHaveLength(1);
    expectError(await call("GET", `/v1/events/${eventId}`, { key: other.keys.admin }), 404, "NOT_FOUND");
    const theirs = await call<Page<Event>>("GET", `/v1/events?resourceId=${project.id}`, { key: other.keys.admin });
    expect(theirs.body.data).toEqual([]);
    const list = await call<Page<Event>>("GET", "/v1/events?limit=100", { key: other.keys.read });
    expect(list.body.data.every((e) => e.resourceId !== project.id)).toBe(true);
    expectError(await call("POST", "/v1/events", { key: org.keys.admin, body: {} }), 404, "NOT_FOUND");
  });
});
