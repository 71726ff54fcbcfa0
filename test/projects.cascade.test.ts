import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Event, Page, Task } from "./api-types";
import { commentEventData, eventsFor, makeComment, makeProject, makeTask, taskEventData } from "./fixtures";
import { call, createOrg, type TestOrg } from "./harness";
import { createWebhook, payloadOf, receiverEndpoint, waitForRequests } from "./webhook-helpers";

// Deleting a project deletes its tasks and their comments: a receiver mirroring them
// hears of each one, so its mirror keeps no ghosts.

async function eventsOfType(org: TestOrg, type: string): Promise<Page<Event>> {
  const res = await call<Page<Event>>("GET", `/v1/events?type=${type}&limit=100`, { key: org.keys.read });
  expect(res.status).toBe(200);
  return res.body;
}

describe("projects: delete tells of every task and comment it removes", () => {
  it("writes comment.deleted and task.deleted with full payloads, with project.deleted, and delivers them", async () => {
    const org = await createOrg();
    const endpoint = receiverEndpoint("cascade");
    await createWebhook(org, {
      url: endpoint.url,
      events: ["task.deleted", "comment.deleted", "project.deleted"],
    });
    const doomed = await makeProject(org, { name: "Doomed" });
    const kept = await makeProject(org, { name: "Kept" });
    const t1 = await makeTask(org, doomed.id, { assigneeId: org.member.id, tags: ["x"] });
    const t2 = await makeTask(org, doomed.id);
    const survivor = await makeTask(org, kept.id);
    const c1 = await makeComment(org, t1.id, { content: "first" });
    const c2 = await makeComment(org, t1.id, { content: "second" }, org.member.key);
    await makeComment(org, survivor.id);

    const res = await call("DELETE", `/v1/projects/${doomed.id}`, { key: org.keys.write });
    expect(res.status).toBe(200);

    const tasksDeleted = await eventsOfType(org, "task.deleted");
    expect(tasksDeleted.pagination.total).toBe(2);
    const byId = new Map(tasksDeleted.data.map((e) => [e.resourceId, e]));
    expect(byId.get(t1.id)?.data).toEqual(taskEventData(t1, { projectName: "Doomed", assigneeName: org.member.name }));
    expect(byId.get(t2.id)?.data).toEqual(taskEventData(t2, { projectName: "Doomed" }));
    const commentsDeleted = await eventsOfType(org, "comment.deleted");
    expect(new Map(commentsDeleted.data.map((e) => [e.resourceId, e.data]))).toEqual(
      new Map([
        [c1.id, commentEventData(c1, org.owner.name)],
        [c2.id, commentEventData(c2, org.member.name)],
      ]),
    );
    const [projectDeleted] = (await eventsFor(org, doomed.id)).filter((e) => e.type === "project.deleted");
    for (const event of [...tasksDeleted.data, ...commentsDeleted.data]) {
      expect(event.id).toMatch(/^evt_[0-9A-Za-z]{20}$/);
      expect(event.createdAt).toBe(projectDeleted?.createdAt);
      expect(event.actor).toEqual(projectDeleted?.actor);
    }

    // The receiver gets all five, signed and shaped as any other delivery.
    const received = (await waitForRequests(endpoint.name, 5)).map(payloadOf);
    expect(received.map((p) => p.event).sort()).toEqual([
      "comment.deleted",
      "comment.deleted",
      "project.deleted",
      "task.deleted",
      "task.deleted",
    ]);
    expect(received.find((p) => p.event === "task.deleted" && p.data.id === t1.id)?.data).toEqual(
      byId.get(t1.id)?.data,
    );
    expect((await call("GET", `/v1/tasks/${survivor.id}`, { key: org.keys.read })).status).toBe(200);
    expect((await eventsFor(org, survivor.id)).map((e) => e.type)).toEqual(["task.created"]);
  });

  it("more events than one run sends after the commit: the rest go through the queue and arrive too", async () => {
    const org = await createOrg();
    const endpoint = receiverEndpoint("cascade-queue");
    await createWebhook(org, { url: endpoint.url, events: ["task.deleted"] });
    const project = await makeProject(org, { name: "Wide" });
    const now = new Date().toISOString();
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250)
       INSERT INTO tasks (id, org_id, project_id, title, status, priority, tags, created_by, etag, created_at, updated_at)
       SELECT 'task_wide' || printf('%016d', i), ?1, ?2, 'Wide ' || i, 'todo', 'low', '[]', ?3, 'e', ?4, ?4 FROM n`,
    )
      .bind(org.id, project.id, org.owner.id, now)
      .run();
    expect((await call("DELETE", `/v1/projects/${project.id}`, { key: org.keys.write })).status).toBe(200);
    // 200 pairs are attempted straight after the commit (webhooks/dispatch.ts), the other 50 via the queue.
    const received = (await waitForRequests(endpoint.name, 250)).map(payloadOf);
    expect(new Set(received.map((p) => p.data.id)).size).toBe(250);
    expect(received.every((p) => p.event === "task.deleted" && p.data.projectName === "Wide")).toBe(true);
  }, 30_000);

  it("a project of 10,000 tasks deletes with 200 in one batch and logs 10,000 task.deleted", async () => {
    const org = await createOrg();
    const project = await makeProject(org, { name: "Big" });
    const other = await makeProject(org, { name: "Other" });
    const now = new Date().toISOString();
    // 10,000 tasks in one statement (a recursive CTE), every tenth assigned to the member.
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
       INSERT INTO tasks (id, org_id, project_id, title, status, priority, assignee_id, tags, created_by, etag, created_at, updated_at)
       SELECT 'task_' || printf('%020d', i), ?1, ?2, 'Bulk ' || i, 'todo', 'low', CASE WHEN i % 10 = 0 THEN ?3 END,
              '["bulk"]', ?4, 'e', ?5, ?5 FROM n`,
    )
      .bind(org.id, project.id, org.member.id, org.owner.id, now)
      .run();
    const commented = await makeTask(org, project.id);
    await makeComment(org, commented.id);
    const survivor = await makeTask(org, other.id);
    expect((await call<Page<Task>>("GET", "/v1/tasks?limit=1", { key: org.keys.read })).body.pagination.total).toBe(
      10_002,
    );

    const res = await call("DELETE", `/v1/projects/${project.id}`, { key: org.keys.write });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: project.id, deleted: true });

    const left = await call<Page<Task>>("GET", "/v1/tasks", { key: org.keys.read });
    expect(left.body.data.map((t) => t.id)).toEqual([survivor.id]);
    const tasksDeleted = await eventsOfType(org, "task.deleted");
    expect(tasksDeleted.pagination.total).toBe(10_001);
    const counts = await env.DB.prepare(
      `SELECT COUNT(*) AS events, COUNT(DISTINCT resource_id) AS tasks,
              SUM(json_extract(data, '$.assigneeName') = ?2) AS named,
              SUM(enqueued_at IS NULL) AS unsent
       FROM events WHERE org_id = ?1 AND type = 'task.deleted'`,
    )
      .bind(org.id, org.member.name)
      .first<{ events: number; tasks: number; named: number; unsent: number }>();
    // No webhook: marked sent in the same batch, so the outbox sweep has nothing to re-send.
    expect(counts).toEqual({ events: 10_001, tasks: 10_001, named: 1_000, unsent: 0 });
    const bulk = await eventsFor(org, "task_00000000000000000010");
    expect(bulk.map((e) => e.type)).toEqual(["task.deleted"]);
    expect(bulk[0]?.data).toMatchObject({
      id: "task_00000000000000000010",
      taskId: "task_00000000000000000010",
      title: "Bulk 10",
      tags: ["bulk"],
      creatorId: org.owner.id,
      projectName: "Big",
      assigneeId: org.member.id,
      assigneeName: org.member.name,
    });
    expect((await eventsOfType(org, "comment.deleted")).pagination.total).toBe(1);
  }, 30_000);
});
