import { describe, expect, it } from "vitest";
import { eventCount, expectClientError, HOSTILE_VALUES, makeProject, makeTask } from "./fixtures";
import { call, createOrg, errorOf, expectError } from "./harness";

describe("tasks: validation rules", () => {
  it("title is required, trimmed, at most 500 characters", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const post = (body: Record<string, unknown>) =>
      call("POST", "/v1/tasks", { key: org.keys.write, body: { projectId: project.id, ...body } });
    const missing = await post({});
    expectError(missing, 400, "VALIDATION_ERROR", "title");
    expectError(await post({ title: "" }), 400, "VALIDATION_ERROR", "title");
    expect(errorOf(await post({ title: "" })).message).toContain("Task title is required");
    expectError(await post({ title: "   " }), 400, "VALIDATION_ERROR", "title");
    expectError(await post({ title: "x".repeat(501) }), 400, "VALIDATION_ERROR", "title");
    expect((await post({ title: "x".repeat(500) })).status).toBe(201);
    expectError(await post({ title: 42 }), 400, "VALIDATION_ERROR", "title");
  });

  it("status, priority, dueDate, tags and unknown fields are checked by name", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const post = (body: Record<string, unknown>) =>
      call("POST", "/v1/tasks", { key: org.keys.write, body: { title: "T", projectId: project.id, ...body } });
    expectError(await post({ status: "blocked" }), 400, "VALIDATION_ERROR", "status");
    expectError(await post({ priority: "critical" }), 400, "VALIDATION_ERROR", "priority");
    expectError(await post({ priority: "HIGH" }), 400, "VALIDATION_ERROR", "priority");
    expectError(await post({ dueDate: "tomorrow" }), 400, "VALIDATION_ERROR", "dueDate");
    expectError(await post({ dueDate: "2024-02-30" }), 400, "VALIDATION_ERROR", "dueDate");
    expectError(await post({ dueDate: "2024-12-31T10:00:00" }), 400, "VALIDATION_ERROR", "dueDate");
    expectError(await post({ dueDate: 1735689599 }), 400, "VALIDATION_ERROR", "dueDate");
    expectError(await post({ tags: "a,b" }), 400, "VALIDATION_ERROR", "tags");
    expectError(await post({ tags: [""] }), 400, "VALIDATION_ERROR", "tags.0");
    expectError(await post({ tags: ["ok", 5] }), 400, "VALIDATION_ERROR", "tags.1");
    expectError(await post({ tags: ["t".repeat(51)] }), 400, "VALIDATION_ERROR", "tags.0");
    expectError(await post({ tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }), 400, "VALIDATION_ERROR", "tags");
    expectError(await post({ completedAt: "2024-01-01T00:00:00Z" }), 400, "VALIDATION_ERROR", "completedAt");
    expectError(await post({ createdBy: "user_x" }), 400, "VALIDATION_ERROR", "createdBy");
    expectError(await post({ description: "d".repeat(50_001) }), 400, "VALIDATION_ERROR", "description");
  });

  it("projectId must exist in the organization (400 naming projectId)", async () => {
    const org = await createOrg();
    const other = await createOrg();
    const foreign = await makeProject(other);
    const post = (body: Record<string, unknown>) => call("POST", "/v1/tasks", { key: org.keys.write, body });
    const before = await eventCount(org.id);
    expectError(await post({ title: "T" }), 400, "VALIDATION_ERROR", "projectId");
    expectError(await post({ title: "T", projectId: "proj_nope" }), 400, "VALIDATION_ERROR", "projectId");
    expectError(await post({ title: "T", projectId: foreign.id }), 400, "VALIDATION_ERROR", "projectId");
    expectError(await post({ title: "T", projectId: null }), 400, "VALIDATION_ERROR", "projectId");
    expect(await eventCount(org.id)).toBe(before);
  });

  it("an archived project takes no new tasks (409), nor tasks moved into it", async () => {
    const org = await createOrg();
    const open = await makeProject(org);
    const archived = await makeProject(org, { archived: true });
    const task = await makeTask(org, open.id);
    const before = await eventCount(org.id);
    expectError(
      await call("POST", "/v1/tasks", { key: org.keys.write, body: { title: "T", projectId: archived.id } }),
      409,
      "CONFLICT",
      "projectId",
    );
    expectError(
      await call("PATCH", `/v1/tasks/${task.id}`, { key: org.keys.write, body: { projectId: archived.id } }),
      409,
      "CONFLICT",
      "projectId",
    );
    expect(await eventCount(org.id)).toBe(before);
    // Tasks already in a project that gets archived stay editable.
    await call("PATCH", `/v1/projects/${open.id}`, { key: org.keys.write, body: { archived: true } });
    const edited = await call("PATCH", `/v1/tasks/${task.id}`, {
      key: org.keys.write,
      body: { title: "Still editable" },
    });
    expect(edited.status).toBe(200);
  });

  it("assigneeId must be a member of the organization (400 naming assigneeId)", async () => {
    const org = await createOrg();
    const other = await createOrg();
    const project = await makeProject(org);
    const post = (assigneeId: unknown) =>
      call("POST", "/v1/tasks", { key: org.keys.write, body: { title: "T", projectId: project.id, assigneeId } });
    expectError(await post("user_nobody"), 400, "VALIDATION_ERROR", "assigneeId");
    expectError(await post(other.owner.id), 400, "VALIDATION_ERROR", "assigneeId");
    expectError(await post(""), 400, "VALIDATION_ERROR", "assigneeId");
    expect((await post(null)).status).toBe(201);
    expect((await post(org.owner.id)).status).toBe(201);
    const task = await makeTask(org, project.id);
    expectError(
      await call("PATCH", `/v1/tasks/${task.id}`, { key: org.keys.write, body: { assigneeId: other.member.id } }),
      400,
      "VALIDATION_ERROR",
      "assigneeId",
    );
  });

  it("never answers 500 to hostile values in any field, id or query", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const task = await makeTask(org, project.id);
    const fields = ["title", "description", "status", "priority", "projectId", "assigneeId", "dueDate", "tags"];
    for (const field of fields) {
      for (const value of HOSTILE_VALUES) {
        const label = `${field}=${JSON.stringify(value)?.slice(0, 40)}`;
        const created = await call("POST", "/v1/tasks", {
          key: org.keys.write,
          body: { title: "T", projectId: project.id, [field]: value },
        });
        expect(created.status, `POST ${label}`).toBeLessThan(500);
        const patched = await call("PATCH", `/v1/tasks/${task.id}`, { key: org.keys.write, body: { [field]: value } });
        expect(patched.status, `PATCH ${label}`).toBeLessThan(500);
      }
    }
    for (const [rawBody, label] of [
      ["[1,2]", "array body"],
      ["null", "null body"],
      ["{", "broken json"],
    ] as const) {
      expectClientError(
        await call("POST", "/v1/tasks", {
          key: org.keys.write,
          rawBody,
          headers: { "Content-Type": "application/json" },
        }),
        label,
      );
    }
    for (const id of ["x", `task_${"a".repeat(80)}`, "%00", "task_%27%20OR%201%3D1"]) {
      expectClientError(await call("GET", `/v1/tasks/${id}`, { key: org.keys.read }), `GET ${id}`);
      expectClientError(await call("PATCH", `/v1/tasks/${id}`, { key: org.keys.write, body: {} }), `PATCH ${id}`);
      expectClientError(await call("DELETE", `/v1/tasks/${id}`, { key: org.keys.write }), `DELETE ${id}`);
    }
  });
});
