import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { OpenApiDocument, Page, Project, Task } from "./api-types";
import {
  eventCount,
  eventsFor,
  expectClientError,
  HOSTILE_VALUES,
  ids,
  makeComment,
  makeProject,
  makeTask,
} from "./fixtures";
import { call, createOrg, expectError } from "./harness";

describe("projects: happy path", () => {
  it("creates a project with 201, Location, ETag and the full resource", async () => {
    const org = await createOrg();
    const res = await call<Project>("POST", "/v1/projects", {
      key: org.keys.write,
      body: { name: "  Website  ", description: "Relaunch", icon: "🚀", color: "#3B82F6" },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("Location")).toBe(`/v1/projects/${res.body.id}`);
    expect(res.headers.get("ETag")).toMatch(/^"[0-9A-Za-z]+"$/);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^proj_[0-9A-Za-z]{20}$/),
      name: "Website",
      description: "Relaunch",
      icon: "🚀",
      color: "#3b82f6",
      archived: false,
      createdBy: org.owner.id,
      createdAt: expect.any(String),
      updatedAt: res.body.createdAt,
    });
    const got = await call("GET", `/v1/projects/${res.body.id}`, { key: org.keys.read });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
  });

  it("accepts the seed's create body (empty icon) and update body", async () => {
    const org = await createOrg();
    const created = await call<Project>("POST", "/v1/projects", {
      key: org.keys.write,
      body: { name: "New Project", description: "Project description", icon: "", color: "#3b82f6" },
    });
    expect(created.status).toBe(201);
    expect(created.body.icon).toBe("");
    const updated = await call<Project>("PATCH", `/v1/projects/${created.body.id}`, {
      key: org.keys.write,
      body: { name: "Updated Name", archived: false },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.name).toBe("Updated Name");
  });

  it("updates partially, clears with null, and records the changes in project.updated", async () => {
    const org = await createOrg();
    const project = await makeProject(org, { description: "old", color: "#000000" });
    const res = await call<Project>("PATCH", `/v1/projects/${project.id}`, {
      key: org.keys.write,
      body: { description: null, archived: true },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: "Project", description: null, color: "#000000", archived: true });
    expect(res.body.updatedAt >= res.body.createdAt).toBe(true);
    const events = await eventsFor(org, project.id);
    expect(events.map((e) => e.type)).toEqual(["project.created", "project.updated"]);
    expect(events[1]?.changes).toEqual({
      description: { from: "old", to: null },
      archived: { from: false, to: true },
    });
    expect(events[1]?.data).toEqual(res.body);
  });

  it("answers a no-op PATCH with the current version and writes no event", async () => {
    const org = await createOrg();
    const project = await makeProject(org, { name: "Same" });
    const before = await eventCount(org.id);
    const first = await call("GET", `/v1/projects/${project.id}`, { key: org.keys.read });
    const res = await call("PATCH", `/v1/projects/${project.id}`, { key: org.keys.write, body: { name: "Same" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("ETag")).toBe(first.headers.get("ETag"));
    expect(await eventCount(org.id)).toBe(before);
  });

  it("lists with pagination, sorting by name (case-insensitive) and the archived filter", async () => {
    const org = await createOrg();
    const b = await makeProject(org, { name: "beta" });
    const a = await makeProject(org, { name: "Alpha" });
    const c = await makeProject(org, { name: "Gamma", archived: true });
    const byName = await call<Page<Project>>("GET", "/v1/projects?sortBy=name&order=asc", { key: org.keys.read });
    expect(ids(byName)).toEqual([a.id, b.id, c.id]);
    expect(byName.body.pagination).toEqual({ total: 3, page: 1, limit: 50, totalPages: 1, nextCursor: null });
    const newest = await call<Page<Project>>("GET", "/v1/projects?limit=2", { key: org.keys.read });
    expect(ids(newest)).toEqual([c.id, a.id]);
    expect(newest.body.pagination).toEqual({
      total: 3,
      page: 1,
      limit: 2,
      totalPages: 2,
      nextCursor: expect.any(String),
    });
    const page2 = await call<Page<Project>>("GET", "/v1/projects?limit=2&page=2", { key: org.keys.read });
    expect(ids(page2)).toEqual([b.id]);
    const archived = await call<Page<Project>>("GET", "/v1/projects?archived=true", { key: org.keys.read });
    expect(ids(archived)).toEqual([c.id]);
    const active = await call<Page<Project>>("GET", "/v1/projects?archived=false&sortBy=createdAt&order=asc", {
      key: org.keys.read,
    });
    expect(ids(active)).toEqual([b.id, a.id]);
    expectError(
      await call("GET", "/v1/projects?archived=yes", { key: org.keys.read }),
      400,
      "VALIDATION_ERROR",
      "archived",
    );
    expectError(
      await call("GET", "/v1/projects?sortBy=color", { key: org.keys.read }),
      400,
      "VALIDATION_ERROR",
      "sortBy",
    );
  });
});

describe("projects: delete cascades in one batch", () => {
  it("removes the project's tasks, their tags and comments, and emits project.deleted with the project as it was", async () => {
    const org = await createOrg();
    const doomed = await makeProject(org, { name: "Doomed" });
    const kept = await makeProject(org, { name: "Kept" });
    const t1 = await makeTask(org, doomed.id, { tags: ["x", "y"] });
    const t2 = await makeTask(org, doomed.id);
    const survivor = await makeTask(org, kept.id, { tags: ["x"] });
    await makeComment(org, t1.id);
    await makeComment(org, t2.id);
    const survivorComment = await makeComment(org, survivor.id);

    const res = await call("DELETE", `/v1/projects/${doomed.id}`, { key: org.keys.write });
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();

    expectError(await call("GET", `/v1/projects/${doomed.id}`, { key: org.keys.read }), 404, "NOT_FOUND");
    expectError(await call("GET", `/v1/tasks/${t1.id}`, { key: org.keys.read }), 404, "NOT_FOUND");
    expectError(await call("GET", `/v1/tasks/${t2.id}`, { key: org.keys.read }), 404, "NOT_FOUND");
    const left = await call<Page<Task>>("GET", "/v1/tasks", { key: org.keys.read });
    expect(ids(left)).toEqual([survivor.id]);
    expect(left.body.pagination.total).toBe(1);
    const tagged = await call<Page<Task>>("GET", "/v1/tasks?tag=x", { key: org.keys.read });
    expect(ids(tagged)).toEqual([survivor.id]);
    const orphans = await env.DB.prepare(
      "SELECT (SELECT COUNT(*) FROM comments WHERE org_id = ?1) AS comments, (SELECT COUNT(*) FROM task_tags WHERE org_id = ?1) AS tags",
    )
      .bind(org.id)
      .first<{ comments: number; tags: number }>();
    expect(orphans).toEqual({ comments: 1, tags: 1 });
    expect((await call("GET", `/v1/comments/${survivorComment.id}`, { key: org.keys.read })).status).toBe(200);

    const events = await eventsFor(org, doomed.id);
    expect(events.map((e) => e.type)).toEqual(["project.created", "project.deleted"]);
    expect(events[1]?.data).toMatchObject({ id: doomed.id, name: "Doomed" });
  });

  it("deletes a project with more tasks than D1 binds parameters per statement", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const now = new Date().toISOString();
    const inserts = Array.from({ length: 150 }, (_, i) =>
      env.DB.prepare(
        "INSERT INTO tasks (id, org_id, project_id, title, status, priority, tags, created_by, etag, created_at, updated_at) VALUES (?, ?, ?, ?, 'todo', 'low', '[\"bulk\"]', ?, 'e', ?, ?)",
      ).bind(`task_bulk${i}_${org.id}`, org.id, project.id, `Bulk ${i}`, org.owner.id, now, now),
    );
    const tags = Array.from({ length: 150 }, (_, i) =>
      env.DB.prepare("INSERT INTO task_tags (task_id, org_id, tag) VALUES (?, ?, 'bulk')").bind(
        `task_bulk${i}_${org.id}`,
        org.id,
      ),
    );
    await env.DB.batch([...inserts, ...tags]);
    expect((await call<Page<Task>>("GET", "/v1/tasks?limit=1", { key: org.keys.read })).body.pagination.total).toBe(
      150,
    );

    expect((await call("DELETE", `/v1/projects/${project.id}`, { key: org.keys.write })).status).toBe(204);
    const list = await call<Page<Task>>("GET", "/v1/tasks", { key: org.keys.read });
    expect(list.body.pagination.total).toBe(0);
    expect(list.body.data).toEqual([]);
  });
});

describe("projects: validation", () => {
  it("requires a name and refuses bad fields by name", async () => {
    const org = await createOrg();
    const post = (body: unknown) => call("POST", "/v1/projects", { key: org.keys.write, body });
    expectError(await post({}), 400, "VALIDATION_ERROR", "name");
    expectError(await post({ name: "   " }), 400, "VALIDATION_ERROR", "name");
    expectError(await post({ name: "x".repeat(201) }), 400, "VALIDATION_ERROR", "name");
    expectError(await post({ name: "P", color: "blue" }), 400, "VALIDATION_ERROR", "color");
    expectError(await post({ name: "P", color: "#12345" }), 400, "VALIDATION_ERROR", "color");
    expectError(await post({ name: "P", archived: "yes" }), 400, "VALIDATION_ERROR", "archived");
    expectError(await post({ name: "P", description: "d".repeat(10_001) }), 400, "VALIDATION_ERROR", "description");
    expectError(await post({ name: "P", owner: "me" }), 400, "VALIDATION_ERROR", "owner");
    const patch = (body: unknown) => call("PATCH", `/v1/projects/proj_x`, { key: org.keys.write, body });
    expectError(await patch({ name: null }), 400, "VALIDATION_ERROR", "name");
    expectError(await patch({ id: "proj_other" }), 400, "VALIDATION_ERROR", "id");
  });

  it("never answers 500 to hostile values in any field", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    for (const field of ["name", "description", "icon", "color", "archived"]) {
      for (const value of HOSTILE_VALUES) {
        const created = await call("POST", "/v1/projects", {
          key: org.keys.write,
          body: { name: "P", [field]: value },
        });
        expect(created.status, `POST ${field}=${JSON.stringify(value)?.slice(0, 40)}`).toBeLessThan(500);
        const patched = await call("PATCH", `/v1/projects/${project.id}`, {
          key: org.keys.write,
          body: { [field]: value },
        });
        expect(patched.status, `PATCH ${field}=${JSON.stringify(value)?.slice(0, 40)}`).toBeLessThan(500);
      }
    }
    for (const id of ["x", `proj_${"a".repeat(64)}`, "%00", "proj_%27%3B", "..%2F..%2Fusers"]) {
      expectClientError(await call("GET", `/v1/projects/${id}`, { key: org.keys.read }), `GET ${id}`);
      expectClientError(await call("DELETE", `/v1/projects/${id}`, { key: org.keys.write }), `DELETE ${id}`);
    }
    for (const query of ["page=0", "page=-1", "page=abc", "limit=0", "limit=101", "limit=abc", "order=up", "x=1"]) {
      expectError(await call("GET", `/v1/projects?${query}`, { key: org.keys.read }), 400, "VALIDATION_ERROR");
    }
  });
});

describe("projects: security", () => {
  it("401 without a key on every endpoint", async () => {
    for (const [method, path] of [
      ["GET", "/v1/projects"],
      ["POST", "/v1/projects"],
      ["GET", "/v1/projects/proj_x"],
      ["PATCH", "/v1/projects/proj_x"],
      ["DELETE", "/v1/projects/proj_x"],
    ] as const) {
      expectError(await call(method, path, { body: method === "GET" ? undefined : {} }), 401, "UNAUTHORIZED");
    }
  });

  it("a read key reads but cannot write (403), and nothing changes", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    expect((await call("GET", "/v1/projects", { key: org.keys.read })).status).toBe(200);
    expectError(await call("POST", "/v1/projects", { key: org.keys.read, body: { name: "P" } }), 403, "FORBIDDEN");
    expectError(
      await call("PATCH", `/v1/projects/${project.id}`, { key: org.keys.read, body: { name: "Q" } }),
      403,
      "FORBIDDEN",
    );
    expectError(await call("DELETE", `/v1/projects/${project.id}`, { key: org.keys.read }), 403, "FORBIDDEN");
    const after = await call<Project>("GET", `/v1/projects/${project.id}`, { key: org.keys.read });
    expect(after.body.name).toBe("Project");
  });

  it("another organization's project is 404 everywhere, and its list never shows it", async () => {
    const org = await createOrg();
    const other = await createOrg();
    const project = await makeProject(org);
    expectError(await call("GET", `/v1/projects/${project.id}`, { key: other.keys.admin }), 404, "NOT_FOUND");
    expectError(
      await call("PATCH", `/v1/projects/${project.id}`, { key: other.keys.admin, body: { name: "Hijack" } }),
      404,
      "NOT_FOUND",
    );
    expectError(await call("DELETE", `/v1/projects/${project.id}`, { key: other.keys.admin }), 404, "NOT_FOUND");
    const list = await call<Page<Project>>("GET", "/v1/projects", { key: other.keys.read });
    expect(list.body.data).toEqual([]);
    expect((await call<Project>("GET", `/v1/projects/${project.id}`, { key: org.keys.read })).body.name).toBe(
      "Project",
    );
  });
});

describe("OpenAPI document", () => {
  it("documents the projects, tasks, comments and events operations from the same schemas", async () => {
    const doc = await call<OpenApiDocument>("GET", "/openapi.json");
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        "/v1/projects",
        "/v1/projects/{id}",
        "/v1/tasks",
        "/v1/tasks/{id}",
        "/v1/tasks/{taskId}/comments",
        "/v1/comments/{id}",
        "/v1/events",
        "/v1/events/{id}",
      ]),
    );
    const listParams = doc.body.paths["/v1/tasks"]!.get!.parameters!.map((p) => p.name);
    expect(listParams).toEqual(
      expect.arrayContaining(["page", "limit", "sortBy", "order", "projectId", "status", "tag", "dueBefore"]),
    );
    const createTask = doc.body.paths["/v1/tasks"]!.post!;
    expect(createTask.parameters!.map((p) => p.name)).toContain("idempotency-key");
    expect(doc.body.components.schemas.CreateTask!.required).toEqual(expect.arrayContaining(["title", "projectId"]));
    expect(doc.body.paths["/v1/tasks/{id}"]!.patch!.responses).toHaveProperty("412");
    expect(doc.body.paths["/v1/tasks/{id}"]!.get!.responses).toHaveProperty("304");
  });
});
