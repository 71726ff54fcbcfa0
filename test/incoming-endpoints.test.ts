import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { CreatedIncomingWebhook, Project, Task } from "./api-types";
import { taskEventData } from "./fixtures";
import { call, createOrg, expectError, type TestOrg } from "./harness";

const ALL = ["tasks:create", "tasks:update", "projects:create", "projects:update", "comments:create"];

async function credential(org: TestOrg, body: Record<string, unknown> = {}) {
  const res = await call<CreatedIncomingWebhook>("POST", "/v1/incoming-webhooks", {
    key: org.keys.admin,
    body: { name: "automation", permissions: ALL, ...body },
  });
  if (res.status !== 201) throw new Error(JSON.stringify(res.body));
  return res.body;
}

async function project(org: TestOrg) {
  const res = await call<Project>("POST", "/v1/projects", { key: org.keys.write, body: { name: "Inbox" } });
  return res.body.id;
}

describe("incoming-webhook endpoints", () => {
  it("create a task with the same rules and a task.created event whose actor is the credential", async () => {
    const org = await createOrg();
    const cred = await credential(org);
    const projectId = await project(org);
    const res = await call<Task>("POST", "/v1/webhooks/incoming/tasks", {
      key: cred.key,
      body: { title: "From n8n", projectId, priority: "high", tags: ["email"], assigneeId: org.member.id },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("Location")).toBe(`/v1/tasks/${res.body.id}`);
    expect(res.headers.get("X-RateLimit-Limit")).toBe("100");
    expect(res.body).toMatchObject({
      title: "From n8n",
      projectId,
      priority: "high",
      status: "todo",
      createdBy: cred.id,
    });
    const event = await env.DB.prepare(
      "SELECT actor_user_id, actor_api_key_id, actor_incoming_webhook_id, data FROM events WHERE resource_id = ? AND type = 'task.created'",
    )
      .bind(res.body.id)
      .first<Record<string, string | null>>();
    expect(event).toMatchObject({ actor_user_id: null, actor_api_key_id: null, actor_incoming_webhook_id: cred.id });
    expect(JSON.parse(event!.data!)).toEqual(
      taskEventData(res.body, { projectName: "Inbox", assigneeName: org.member.name }),
    );
    // The main API sees the task.
    const seen = await call<Task>("GET", `/v1/tasks/${res.body.id}`, { key: org.keys.read });
    expect(seen.body.title).toBe("From n8n");
  });

  it("update tasks, create and update projects, comment on tasks", async () => {
    const org = await createOrg();
    const cred = await credential(org);
    const projectId = await project(org);
    const task = await call<Task>("POST", "/v1/webhooks/incoming/tasks", {
      key: cred.key,
      body: { title: "t", projectId },
    });
    const done = await call<Task>("PATCH", `/v1/webhooks/incoming/tasks/${task.body.id}`, {
      key: cred.key,
      body: { status: "done" },
    });
    expect(done.status).toBe(200);
    expect(done.body.completedAt).not.toBeNull();
    const types = await env.DB.prepare("SELECT type FROM events WHERE resource_id = ? ORDER BY type")
      .bind(task.body.id)
      .all<{ type: string }>();
    expect(types.results.map((r) => r.type)).toEqual(["task.completed", "task.created", "task.updated"]);

    const proj = await call<Project>("POST", "/v1/webhooks/incoming/projects", {
      key: cred.key,
      body: { name: "CRM", color: "#3b82f6" },
    });
    expect(proj.status).toBe(201);
    const renamed = await call<Project>("PATCH", `/v1/webhooks/incoming/projects/${proj.body.id}`, {
      key: cred.key,
      body: { name: "CRM leads" },
    });
    expect(renamed.body.name).toBe("CRM leads");

    const comment = await call("POST", `/v1/webhooks/incoming/tasks/${task.body.id}/comments`, {
      key: cred.key,
      body: { content: "Customer replied", mentions: [org.member.id] },
    });
    expect(comment.status).toBe(201);
    expect(comment.body).toMatchObject({ content: "Customer replied", taskId: task.body.id });
  });

  it("refuse bad bodies with the field, and apply the main API's rules", async () => {
    const org = await createOrg();
    const cred = await credential(org);
    const projectId = await project(org);
    const post = (body: unknown) => call("POST", "/v1/webhooks/incoming/tasks", { key: cred.key, body });
    expectError(await post({ projectId }), 400, "VALIDATION_ERROR", "title");
    expectError(await post({ title: "x" }), 400, "VALIDATION_ERROR", "projectId");
    expectError(await post({ title: "x", projectId, status: "open" }), 400, "VALIDATION_ERROR", "status");
    expectError(await post({ title: "x", projectId, bogus: true }), 400, "VALIDATION_ERROR", "bogus");
    expectError(
      await post({ title: "x", projectId, assigneeId: "user_nobody" }),
      400,
      "VALIDATION_ERROR",
      "assigneeId",
    );
    expectError(
      await call("POST", "/v1/webhooks/incoming/tasks", {
        key: cred.key,
        rawBody: "{oops",
        headers: { "Content-Type": "application/json" },
      }),
      400,
      "INVALID_JSON",
    );
    const other = await createOrg();
    const foreignProject = await project(other);
    expectError(await post({ title: "x", projectId: foreignProject }), 400, "VALIDATION_ERROR", "projectId");
    expectError(
      await call("PATCH", "/v1/webhooks/incoming/tasks/task_missing", { key: cred.key, body: { title: "y" } }),
      404,
      "NOT_FOUND",
    );
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM tasks WHERE org_id = ?").bind(org.id).first("n");
    expect(count).toBe(0);
  });

  it("401 for missing, unknown, API-key or disabled credentials; 403 for a missing permission", async () => {
    const org = await createOrg();
    const projectId = await project(org);
    const body = { title: "x", projectId };
    const path = "/v1/webhooks/incoming/tasks";
    expectError(await call("POST", path, { body }), 401, "UNAUTHORIZED");
    expectError(await call("POST", path, { key: `ik_live_${"a".repeat(40)}`, body }), 401, "UNAUTHORIZED");
    expectError(await call("POST", path, { key: org.keys.admin, body }), 401, "UNAUTHORIZED");
    const limited = await credential(org, { permissions: ["comments:create"] });
    expectError(await call("POST", path, { key: limited.key, body }), 403, "FORBIDDEN");
    expectError(
      await call("POST", "/v1/webhooks/incoming/projects", { key: limited.key, body: { name: "p" } }),
      403,
      "FORBIDDEN",
    );

    const cred = await credential(org);
    await call("PATCH", `/v1/incoming-webhooks/${cred.id}`, { key: org.keys.admin, body: { enabled: false } });
    expectError(await call("POST", path, { key: cred.key, body }), 401, "UNAUTHORIZED");
    await call("PATCH", `/v1/incoming-webhooks/${cred.id}`, { key: org.keys.admin, body: { enabled: true } });
    expect((await call("POST", path, { key: cred.key, body })).status).toBe(201);

    const rotated = await call<CreatedIncomingWebhook>("POST", `/v1/incoming-webhooks/${cred.id}/rotate`, {
      key: org.keys.admin,
    });
    expectError(await call("POST", path, { key: cred.key, body }), 401, "UNAUTHORIZED");
    expect((await call("POST", path, { key: rotated.body.key, body })).status).toBe(201);

    await call("DELETE", `/v1/incoming-webhooks/${cred.id}`, { key: org.keys.admin });
    expectError(await call("POST", path, { key: rotated.body.key, body }), 401, "UNAUTHORIZED");
  });

  it("cannot reach another organization's resources", async () => {
    const org = await createOrg();
    const other = await createOrg();
    const cred = await credential(org);
    const theirProject = await project(other);
    const theirTask = await call<Task>("POST", "/v1/tasks", {
      key: other.keys.write,
      body: { title: "theirs", projectId: theirProject },
    });
    expectError(
      await call("PATCH", `/v1/webhooks/incoming/tasks/${theirTask.body.id}`, {
        key: cred.key,
        body: { title: "mine" },
      }),
      404,
      "NOT_FOUND",
    );
    expectError(
      await call("PATCH", `/v1/webhooks/incoming/projects/${theirProject}`, { key: cred.key, body: { name: "mine" } }),
      404,
      "NOT_FOUND",
    );
    expectError(
      await call("POST", `/v1/webhooks/incoming/tasks/${theirTask.body.id}/comments`, {
        key: cred.key,
        body: { content: "hi" },
      }),
      404,
      "NOT_FOUND",
    );
  });

  it("enforce the IP allowlist (IPv4 and IPv6) on CF-Connecting-IP", async () => {
    const org = await createOrg();
    const cred = await credential(org, { ipAllowlist: ["203.0.113.0/24", "2001:db8::/32"] });
    const body = { name: "p" };
    const post = (ip: string) => call("POST", "/v1/webhooks/incoming/projects", { key: cred.key, body, ip });
    expect((await post("203.0.113.50")).status).toBe(201);
    expect((await post("2001:db8:1::5")).status).toBe(201);
    expectError(await post("198.51.100.7"), 403, "FORBIDDEN");
    expectError(await post("2001:db9::1"), 403, "FORBIDDEN");
  });

  it("replay an Idempotency-Key without a second task", async () => {
    const org = await createOrg();
    const cred = await credential(org);
    const projectId = await project(org);
    const send = () =>
      call<Task>("POST", "/v1/webhooks/incoming/tasks", {
        key: cred.key,
        body: { title: "once", projectId },
        headers: { "Idempotency-Key": "zap-run-42" },
      });
    const first = await send();
    const second = await send();
    expect(second.status).toBe(201);
    expect(second.body.id).toBe(first.body.id);
    expect(second.headers.get("Idempotent-Replayed")).toBe("true");
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM tasks WHERE org_id = ?").bind(org.id).first("n");
    expect(count).toBe(1);
  });

  it("limit a credential to 100 requests a minute", async () => {
    const intoMinute = (Date.now() / 1000) % 60;
    if (intoMinute > 50) await new Promise((r) => setTimeout(r, (61 - intoMinute) * 1000));
    const org = await createOrg();
    const cred = await credential(org);
    const path = "/v1/webhooks/incoming/projects";
    const responses = await Promise.all(
      Array.from({ length: 105 }, () => call("POST", path, { key: cred.key, body: { name: "" } })),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 400)).toHaveLength(100);
    const refused = responses.filter((r) => r.status === 429);
    expect(refused).toHaveLength(5);
    expectError(refused[0]!, 429, "RATE_LIMITED");
    expect(refused[0]!.headers.get("X-RateLimit-Remaining")).toBe("0");
    expect(Number(refused[0]!.headers.get("Retry-After"))).toBeGreaterThan(0);
    // Another credential has its own budget.
    const fresh = await credential(org);
    expect((await call("POST", path, { key: fresh.key, body: { name: "ok" } })).status).toBe(201);
  });
});
