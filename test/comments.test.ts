import { describe, expect, it } from "vitest";
import type { Comment, CreatedApiKey, Page, User } from "./api-types";
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

describe("comments: happy path", () => {
  it("creates a comment authored by the key's member, with taskId and projectId", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const task = await makeTask(org, project.id);
    const res = await call<Comment>("POST", `/v1/tasks/${task.id}/comments`, {
      key: org.member.key,
      body: { content: "This is a comment", mentions: [org.owner.id, org.member.id, org.owner.id] },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("Location")).toBe(`/v1/comments/${res.body.id}`);
    expect(res.headers.get("ETag")).toMatch(/^".+"$/);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^cmt_[0-9A-Za-z]{20}$/),
      taskId: task.id,
      projectId: project.id,
      content: "This is a comment",
      mentions: [org.owner.id, org.member.id],
      authorId: org.member.id,
      createdAt: expect.any(String),
      updatedAt: res.body.createdAt,
    });
    const events = await eventsFor(org, res.body.id);
    expect(events.map((e) => e.type)).toEqual(["comment.created"]);
    expect(events[0]?.data).toEqual(res.body);
    expect((await call("GET", `/v1/comments/${res.body.id}`, { key: org.keys.read })).body).toEqual(res.body);
  });

  it("lists a task's comments only, paginated and sortable", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const task = await makeTask(org, project.id);
    const otherTask = await makeTask(org, project.id);
    const c1 = await makeComment(org, task.id, { content: "one" });
    const c2 = await makeComment(org, task.id, { content: "two" });
    const c3 = await makeComment(org, task.id, { content: "three" });
    await makeComment(org, otherTask.id);
    const chronological = [c1, c2, c3].sort(
      (a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id),
    );
    const asc = await call<Page<Comment>>("GET", `/v1/tasks/${task.id}/comments?order=asc`, { key: org.keys.read });
    expect(ids(asc)).toEqual(chronological.map((c) => c.id));
    expect(asc.body.pagination).toEqual({ total: 3, page: 1, limit: 50, totalPages: 1, nextCursor: null });
    const page2 = await call<Page<Comment>>("GET", `/v1/tasks/${task.id}/comments?limit=2&page=2`, {
      key: org.keys.read,
    });
    expect(ids(page2)).toEqual([chronological[0]!.id]);
    await call("PATCH", `/v1/comments/${c1.id}`, { key: org.keys.write, body: { content: "one, edited" } });
    const byUpdate = await call<Page<Comment>>("GET", `/v1/tasks/${task.id}/comments?sortBy=updatedAt&limit=1`, {
      key: org.keys.read,
    });
    expect(ids(byUpdate)).toEqual([c1.id]);
    expectError(
      await call("GET", `/v1/tasks/${task.id}/comments?sortBy=content`, { key: org.keys.read }),
      400,
      "VALIDATION_ERROR",
      "sortBy",
    );
    expectError(await call("GET", `/v1/tasks/task_nope/comments`, { key: org.keys.read }), 404, "NOT_FOUND");
  });

  it("edits content and mentions, emitting comment.updated with changes; the projectId follows the task", async () => {
    const org = await createOrg();
    const p1 = await makeProject(org);
    const p2 = await makeProject(org);
    const task = await makeTask(org, p1.id);
    const comment = await makeComment(org, task.id, { content: "before" });
    await call("PATCH", `/v1/tasks/${task.id}`, { key: org.keys.write, body: { projectId: p2.id } });
    const res = await call("PATCH", `/v1/comments/${comment.id}`, {
      key: org.keys.write,
      body: { content: "after", mentions: [org.member.id] },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ content: "after", mentions: [org.member.id], projectId: p2.id });
    const events = await eventsFor(org, comment.id);
    expect(events.map((e) => e.type)).toEqual(["comment.created", "comment.updated"]);
    expect(events[1]?.changes).toEqual({
      content: { from: "before", to: "after" },
      mentions: { from: [], to: [org.member.id] },
    });
  });

  it("deletes with 204 and emits comment.deleted with the comment as it was", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const task = await makeTask(org, project.id);
    const comment = await makeComment(org, task.id);
    expect((await call("DELETE", `/v1/comments/${comment.id}`, { key: org.keys.write })).status).toBe(204);
    expectError(await call("GET", `/v1/comments/${comment.id}`, { key: org.keys.read }), 404, "NOT_FOUND");
    const events = await eventsFor(org, comment.id);
    expect(events.map((e) => e.type)).toEqual(["comment.created", "comment.deleted"]);
    expect(events[1]?.data).toEqual(comment);
  });
});

describe("comments: rules", () => {
  it("content is required; mentions must be members of this organization (400 naming mentions)", async () => {
    const org = await createOrg();
    const other = await createOrg();
    const project = await makeProject(org);
    const task = await makeTask(org, project.id);
    const post = (body: unknown) => call("POST", `/v1/tasks/${task.id}/comments`, { key: org.keys.write, body });
    const before = await eventCount(org.id);
    expectError(await post({}), 400, "VALIDATION_ERROR", "content");
    expectError(await post({ content: "  " }), 400, "VALIDATION_ERROR", "content");
    expectError(await post({ content: "c".repeat(20_001) }), 400, "VALIDATION_ERROR", "content");
    expectError(await post({ content: "hi", mentions: ["user_ghost"] }), 400, "VALIDATION_ERROR", "mentions");
    expectError(await post({ content: "hi", mentions: [other.owner.id] }), 400, "VALIDATION_ERROR", "mentions");
    expectError(await post({ content: "hi", mentions: "user_x" }), 400, "VALIDATION_ERROR", "mentions");
    expectError(
      await post({ content: "hi", mentions: Array.from({ length: 51 }, (_, i) => `user_${i}`) }),
      400,
      "VALIDATION_ERROR",
      "mentions",
    );
    expectError(await post({ content: "hi", authorId: org.member.id }), 400, "VALIDATION_ERROR", "authorId");
    const comment = await makeComment(org, task.id);
    expectError(
      await call("PATCH", `/v1/comments/${comment.id}`, { key: org.keys.write, body: { mentions: [other.member.id] } }),
      400,
      "VALIDATION_ERROR",
      "mentions",
    );
    expect(await eventCount(org.id)).toBe(before + 1);
  });

  it("only the author or an admin/owner edits or deletes (403 otherwise)", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const task = await makeTask(org, project.id);
    const byOwner = await makeComment(org, task.id, { content: "owner's" });
    const byMember = await makeComment(org, task.id, { content: "member's" }, org.member.key);
    const before = await eventCount(org.id);

    expectError(
      await call("PATCH", `/v1/comments/${byOwner.id}`, { key: org.member.key, body: { content: "hijacked" } }),
      403,
      "FORBIDDEN",
    );
    expectError(await call("DELETE", `/v1/comments/${byOwner.id}`, { key: org.member.key }), 403, "FORBIDDEN");
    expect(await eventCount(org.id)).toBe(before);
    expect((await call<Comment>("GET", `/v1/comments/${byOwner.id}`, { key: org.keys.read })).body.content).toBe(
      "owner's",
    );

    const own = await call("PATCH", `/v1/comments/${byMember.id}`, { key: org.member.key, body: { content: "mine" } });
    expect(own.status).toBe(200);
    // The owner (role owner) moderates anyone's comment.
    const moderated = await call("PATCH", `/v1/comments/${byMember.id}`, {
      key: org.keys.write,
      body: { content: "moderated" },
    });
    expect(moderated.status).toBe(200);
    // An admin who is not the author, too.
    const admin = await call<User>("POST", "/v1/users", {
      key: org.keys.admin,
      body: { name: "Ada Admin", email: `ada-${org.id}@example.com`, role: "admin" },
    });
    const adminKey = await call<CreatedApiKey>("POST", "/v1/api-keys", {
      key: org.keys.admin,
      body: { name: "ada", scope: "write", userId: admin.body.id },
    });
    expect((await call("DELETE", `/v1/comments/${byMember.id}`, { key: adminKey.body.key })).status).toBe(204);
    expect((await call("DELETE", `/v1/comments/${byOwner.id}`, { key: org.keys.write })).status).toBe(204);
  });

  it("never answers 500 to hostile values", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const task = await makeTask(org, project.id);
    const comment = await makeComment(org, task.id);
    for (const field of ["content", "mentions"]) {
      for (const value of HOSTILE_VALUES) {
        const label = `${field}=${JSON.stringify(value)?.slice(0, 40)}`;
        const created = await call("POST", `/v1/tasks/${task.id}/comments`, {
          key: org.keys.write,
          body: { content: "c", [field]: value },
        });
        expect(created.status, `POST ${label}`).toBeLessThan(500);
        const patched = await call("PATCH", `/v1/comments/${comment.id}`, {
          key: org.keys.write,
          body: { [field]: value },
        });
        expect(patched.status, `PATCH ${label}`).toBeLessThan(500);
      }
    }
    for (const id of ["x", `cmt_${"a".repeat(80)}`, "%00"]) {
      expectClientError(await call("GET", `/v1/comments/${id}`, { key: org.keys.read }), `GET ${id}`);
      expectClientError(await call("GET", `/v1/tasks/${id}/comments`, { key: org.keys.read }), `list ${id}`);
      expectClientError(
        await call("POST", `/v1/tasks/${id}/comments`, { key: org.keys.write, body: { content: "c" } }),
        `POST ${id}`,
      );
    }
  });
});

describe("comments: security", () => {
  it("401 without a key, 403 for a read key writing, 404 across organizations", async () => {
    const org = await createOrg();
    const other = await createOrg();
    const project = await makeProject(org);
    const task = await makeTask(org, project.id);
    const comment = await makeComment(org, task.id);
    for (const [method, path] of [
      ["GET", `/v1/tasks/${task.id}/comments`],
      ["POST", `/v1/tasks/${task.id}/comments`],
      ["GET", `/v1/comments/${comment.id}`],
      ["PATCH", `/v1/comments/${comment.id}`],
      ["DELETE", `/v1/comments/${comment.id}`],
    ] as const) {
      expectError(await call(method, path, { body: method === "GET" ? undefined : {} }), 401, "UNAUTHORIZED");
    }
    expectError(
      await call("POST", `/v1/tasks/${task.id}/comments`, { key: org.keys.read, body: { content: "c" } }),
      403,
      "FORBIDDEN",
    );
    expectError(
      await call("PATCH", `/v1/comments/${comment.id}`, { key: org.keys.read, body: { content: "x" } }),
      403,
      "FORBIDDEN",
    );
    expectError(await call("DELETE", `/v1/comments/${comment.id}`, { key: org.keys.read }), 403, "FORBIDDEN");

    expectError(await call("GET", `/v1/tasks/${task.id}/comments`, { key: other.keys.admin }), 404, "NOT_FOUND");
    expectError(
      await call("POST", `/v1/tasks/${task.id}/comments`, { key: other.keys.admin, body: { content: "spam" } }),
      404,
      "NOT_FOUND",
    );
    expectError(await call("GET", `/v1/comments/${comment.id}`, { key: other.keys.admin }), 404, "NOT_FOUND");
    expectError(
      await call("PATCH", `/v1/comments/${comment.id}`, { key: other.keys.admin, body: { content: "x" } }),
      404,
      "NOT_FOUND",
    );
    expectError(await call("DELETE", `/v1/comments/${comment.id}`, { key: other.keys.admin }), 404, "NOT_FOUND");
    expect(
      (await call<Page<Comment>>("GET", `/v1/tasks/${task.id}/comments`, { key: org.keys.read })).body.pagination.total,
    ).toBe(1);
  });
});
