import { describe, expect, it } from "vitest";
import type { Page, Task } from "./api-types";
import { eventCount, eventsFor, makeComment, makeProject, makeTask, taskEventData } from "./fixtures";
import { call, createOrg, expectError } from "./harness";

describe("tasks: create", () => {
  it("creates with defaults, 201, Location, ETag; createdBy is the key's member", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const res = await call<Task>("POST", "/v1/tasks", {
      key: org.member.key,
      body: { title: "New task", projectId: project.id },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("Location")).toBe(`/v1/tasks/${res.body.id}`);
    expect(res.headers.get("ETag")).toMatch(/^".+"$/);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^task_[0-9A-Za-z]{20}$/),
      title: "New task",
      description: null,
      status: "todo",
      priority: "medium",
      projectId: project.id,
      assigneeId: null,
      dueDate: null,
      tags: [],
      createdBy: org.member.id,
      createdAt: expect.any(String),
      updatedAt: res.body.createdAt,
      completedAt: null,
    });
    const events = await eventsFor(org, res.body.id);
    expect(events.map((e) => e.type)).toEqual(["task.created"]);
    expect(events[0]?.data).toEqual(taskEventData(res.body, { projectName: project.name }));
    expect(events[0]?.actor.userId).toBe(org.member.id);
  });

  it("accepts the seed's create body and normalizes dueDate to UTC", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const res = await call("POST", "/v1/tasks", {
      key: org.keys.write,
      body: {
        title: "New task",
        description: "Task description",
        projectId: project.id,
        assigneeId: org.member.id,
        priority: "high",
        dueDate: "2024-12-31T23:59:59Z",
        tags: ["build-failure", "ci-cd", "build-failure"],
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      priority: "high",
      assigneeId: org.member.id,
      dueDate: "2024-12-31T23:59:59.000Z",
      tags: ["build-failure", "ci-cd"],
    });
    const offset = await makeTask(org, project.id, { dueDate: "2025-01-01T01:30:00+02:00" });
    expect(offset.dueDate).toBe("2024-12-31T23:30:00.000Z");
    const dateOnly = await makeTask(org, project.id, { dueDate: "2025-03-01" });
    expect(dateOnly.dueDate).toBe("2025-03-01T00:00:00.000Z");
  });

  it("creating a task assigned or done also emits task.assigned / task.completed in the same batch", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const task = await makeTask(org, project.id, { assigneeId: org.member.id, status: "done" });
    expect(task.completedAt).toBe(task.createdAt);
    const events = await eventsFor(org, task.id);
    expect(events.map((e) => e.type).sort()).toEqual(["task.assigned", "task.completed", "task.created"]);
    expect(new Set(events.map((e) => e.createdAt)).size).toBe(1);
    expect(events.find((e) => e.type === "task.assigned")?.changes).toEqual({
      assigneeId: { from: null, to: org.member.id },
    });
  });
});

describe("tasks: update", () => {
  it("applies a partial update, clears with null, and emits task.updated with from/to changes", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const task = await makeTask(org, project.id, {
      description: "old",
      dueDate: "2025-01-01",
      tags: ["a"],
      priority: "low",
    });
    const res = await call("PATCH", `/v1/tasks/${task.id}`, {
      key: org.keys.write,
      body: { title: "Renamed", description: null, dueDate: null, tags: ["b", "c"], priority: "urgent" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      title: "Renamed",
      description: null,
      dueDate: null,
      tags: ["b", "c"],
      priority: "urgent",
      status: "todo",
      createdAt: task.createdAt,
    });
    expect(res.headers.get("ETag")).toMatch(/^".+"$/);
    const events = await eventsFor(org, task.id);
    expect(events.map((e) => e.type)).toEqual(["task.created", "task.updated"]);
    expect(events[1]?.data).toEqual(taskEventData(res.body as Task, { projectName: project.name }));
    expect(events[1]?.changes).toEqual({
      title: { from: "Task", to: "Renamed" },
      description: { from: "old", to: null },
      dueDate: { from: "2025-01-01T00:00:00.000Z", to: null },
      tags: { from: ["a"], to: ["b", "c"] },
      priority: { from: "low", to: "urgent" },
    });
  });

  it("completedAt is set when status becomes done, kept while done, cleared when it leaves", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const task = await makeTask(org, project.id);
    const patch = (body: Record<string, unknown>) =>
      call<Task>("PATCH", `/v1/tasks/${task.id}`, { key: org.keys.write, body });

    const progress = await patch({ status: "in_progress" });
    expect(progress.body.completedAt).toBeNull();
    const done = await patch({ status: "done" });
    expect(done.body.completedAt).toBe(done.body.updatedAt);
    const stillDone = await patch({ title: "Edited while done" });
    expect(stillDone.body.completedAt).toBe(done.body.completedAt);
    const reopened = await patch({ status: "todo" });
    expect(reopened.body.completedAt).toBeNull();

    const events = await eventsFor(org, task.id);
    // Events of one batch share a timestamp; compare the multiset.
    expect(events.map((e) => e.type).sort()).toEqual([
      "task.completed",
      "task.created",
      "task.updated",
      "task.updated",
      "task.updated",
      "task.updated",
    ]);
    const completed = events.filter((e) => e.type === "task.completed");
    expect(completed).toHaveLength(1);
    expect(completed[0]?.changes).toEqual({
      status: { from: "in_progress", to: "done" },
      completedAt: { from: null, to: done.body.completedAt },
    });
    const reopenEvent = events.at(-1);
    expect(reopenEvent?.changes).toEqual({
      status: { from: "done", to: "todo" },
      completedAt: { from: done.body.completedAt, to: null },
    });
  });

  it("reassigning emits task.assigned (also when unassigning); the same assignee again emits nothing", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const task = await makeTask(org, project.id);
    await call("PATCH", `/v1/tasks/${task.id}`, { key: org.keys.write, body: { assigneeId: org.member.id } });
    const before = await eventCount(org.id);
    const same = await call("PATCH", `/v1/tasks/${task.id}`, {
      key: org.keys.write,
      body: { assigneeId: org.member.id },
    });
    expect(same.status).toBe(200);
    expect(await eventCount(org.id)).toBe(before);
    await call("PATCH", `/v1/tasks/${task.id}`, { key: org.keys.write, body: { assigneeId: null } });
    const assigned = (await eventsFor(org, task.id)).filter((e) => e.type === "task.assigned");
    expect(assigned.map((e) => e.changes)).toEqual([
      { assigneeId: { from: null, to: org.member.id } },
      { assigneeId: { from: org.member.id, to: null } },
    ]);
  });

  it("moves a task to another project of the organization only", async () => {
    const org = await createOrg();
    const other = await createOrg();
    const from = await makeProject(org);
    const to = await makeProject(org);
    const foreign = await makeProject(other);
    const task = await makeTask(org, from.id);
    const moved = await call<Task>("PATCH", `/v1/tasks/${task.id}`, {
      key: org.keys.write,
      body: { projectId: to.id },
    });
    expect(moved.status).toBe(200);
    expect(moved.body.projectId).toBe(to.id);
    expectError(
      await call("PATCH", `/v1/tasks/${task.id}`, { key: org.keys.write, body: { projectId: foreign.id } }),
      400,
      "VALIDATION_ERROR",
      "projectId",
    );
    expectError(
      await call("PATCH", `/v1/tasks/${task.id}`, { key: org.keys.write, body: { projectId: null } }),
      400,
      "VALIDATION_ERROR",
      "projectId",
    );
  });

  it("a failed update writes nothing: no change, no event", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const task = await makeTask(org, project.id);
    const before = await eventCount(org.id);
    expectError(
      await call("PATCH", `/v1/tasks/${task.id}`, { key: org.keys.write, body: { title: "New", status: "nope" } }),
      400,
      "VALIDATION_ERROR",
      "status",
    );
    expectError(
      await call("PATCH", `/v1/tasks/${task.id}`, {
        key: org.keys.write,
        body: { title: "New", assigneeId: "user_x" },
      }),
      400,
      "VALIDATION_ERROR",
      "assigneeId",
    );
    expect(await eventCount(org.id)).toBe(before);
    expect((await call<Task>("GET", `/v1/tasks/${task.id}`, { key: org.keys.read })).body.title).toBe("Task");
  });
});

describe("tasks: delete", () => {
  it("deletes with 200 {id, deleted}, removes its comments, and emits task.deleted with the task as it was", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const task = await makeTask(org, project.id, { tags: ["gone"] });
    const comment = await makeComment(org, task.id);
    const res = await call("DELETE", `/v1/tasks/${task.id}`, { key: org.keys.write });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: task.id, deleted: true });
    expectError(await call("GET", `/v1/tasks/${task.id}`, { key: org.keys.read }), 404, "NOT_FOUND");
    expectError(await call("GET", `/v1/comments/${comment.id}`, { key: org.keys.read }), 404, "NOT_FOUND");
    expect((await call<Page<Task>>("GET", "/v1/tasks?tag=gone", { key: org.keys.read })).body.data).toEqual([]);
    const events = await eventsFor(org, task.id);
    expect(events.map((e) => e.type)).toEqual(["task.created", "task.deleted"]);
    expect(events[1]?.data).toEqual(taskEventData(task, { projectName: project.name }));
    expectError(await call("DELETE", `/v1/tasks/${task.id}`, { key: org.keys.write }), 404, "NOT_FOUND");
  });
});

describe("tasks: security", () => {
  it("401 without a key, 403 for a read key writing, 404 across organizations", async () => {
    const org = await createOrg();
    const other = await createOrg();
    const project = await makeProject(org);
    const task = await makeTask(org, project.id);
    for (const [method, path] of [
      ["GET", "/v1/tasks"],
      ["POST", "/v1/tasks"],
      ["GET", `/v1/tasks/${task.id}`],
      ["PATCH", `/v1/tasks/${task.id}`],
      ["DELETE", `/v1/tasks/${task.id}`],
    ] as const) {
      expectError(await call(method, path, { body: method === "GET" ? undefined : {} }), 401, "UNAUTHORIZED");
    }
    expectError(
      await call("POST", "/v1/tasks", { key: org.keys.read, body: { title: "T", projectId: project.id } }),
      403,
      "FORBIDDEN",
    );
    expectError(
      await call("PATCH", `/v1/tasks/${task.id}`, { key: org.keys.read, body: { title: "X" } }),
      403,
      "FORBIDDEN",
    );
    expectError(await call("DELETE", `/v1/tasks/${task.id}`, { key: org.keys.read }), 403, "FORBIDDEN");

    expectError(await call("GET", `/v1/tasks/${task.id}`, { key: other.keys.admin }), 404, "NOT_FOUND");
    expectError(
      await call("PATCH", `/v1/tasks/${task.id}`, { key: other.keys.admin, body: { title: "Hijack" } }),
      404,
      "NOT_FOUND",
    );
    expectError(await call("DELETE", `/v1/tasks/${task.id}`, { key: other.keys.admin }), 404, "NOT_FOUND");
    expect((await call<Page<Task>>("GET", "/v1/tasks", { key: other.keys.read })).body.pagination.total).toBe(0);
    expect(
      (await call<Page<Task>>("GET", `/v1/tasks?projectId=${project.id}`, { key: other.keys.read })).body.data,
    ).toEqual([]);
    const unchanged = await call("GET", `/v1/tasks/${task.id}`, { key: org.keys.read });
    expect(unchanged.body).toEqual(task);
  });
});
