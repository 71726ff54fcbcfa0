import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { pruneIdempotencyKeys } from "../src/http/idempotency";
import type { ApiKey, Comment, CreatedApiKey, CreatedOrganization, Page, Project, Task } from "./api-types";
import { eventCount, makeProject, makeTask } from "./fixtures";
import { ADMIN_TOKEN, call, createOrg, expectError } from "./harness";

const withKey = (key: string) => ({ "Idempotency-Key": key });

async function taskTotal(key: string): Promise<number> {
  return (await call<Page<Task>>("GET", "/v1/tasks?limit=1", { key })).body.pagination.total ?? -1;
}

describe("Idempotency-Key: replay", () => {
  it("replays the first response for the same key and body, with no second task and no second event", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const body = { title: "Build failed", projectId: project.id, priority: "high" };
    const first = await call("POST", "/v1/tasks", { key: org.keys.write, body, headers: withKey("retry-1") });
    expect(first.status).toBe(201);
    expect(first.headers.get("Idempotent-Replayed")).toBeNull();
    const events = await eventCount(org.id);

    const again = await call("POST", "/v1/tasks", { key: org.keys.write, body, headers: withKey("retry-1") });
    expect(again.status).toBe(201);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.headers.get("Location")).toBe(first.headers.get("Location"));
    expect(again.headers.get("Content-Type")).toContain("application/json");
    expect(again.body).toEqual(first.body);
    expect(again.headers.get("X-Request-Id")).not.toBe(first.headers.get("X-Request-Id"));

    expect(await taskTotal(org.keys.read)).toBe(1);
    expect(await eventCount(org.id)).toBe(events);
  });

  it("works for projects and comments too", async () => {
    const org = await createOrg();
    const body = { name: "Once" };
    const p1 = await call<Project>("POST", "/v1/projects", { key: org.keys.write, body, headers: withKey("p") });
    const p2 = await call("POST", "/v1/projects", { key: org.keys.write, body, headers: withKey("p") });
    expect(p2.body).toEqual(p1.body);
    expect((await call<Page<Project>>("GET", "/v1/projects", { key: org.keys.read })).body.pagination.total).toBe(1);

    const task = await makeTask(org, p1.body.id);
    const path = `/v1/tasks/${task.id}/comments`;
    const c1 = await call("POST", path, { key: org.keys.write, body: { content: "hi" }, headers: withKey("c") });
    const c2 = await call("POST", path, { key: org.keys.write, body: { content: "hi" }, headers: withKey("c") });
    expect(c1.status).toBe(201);
    expect(c2.headers.get("Idempotent-Replayed")).toBe("true");
    expect(c2.body).toEqual(c1.body);
    expect((await call<Page<Comment>>("GET", path, { key: org.keys.read })).body.pagination.total).toBe(1);
  });

  it("without the header, two identical POSTs make two resources", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    await makeTask(org, project.id, { title: "same" });
    await makeTask(org, project.id, { title: "same" });
    expect(await taskTotal(org.keys.read)).toBe(2);
  });

  it("concurrent duplicates create exactly one resource", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const body = { title: "Once only", projectId: project.id };
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        call<Task>("POST", "/v1/tasks", { key: org.keys.write, body, headers: withKey("race") }),
      ),
    );
    for (const res of results) {
      expect([201, 409]).toContain(res.status);
      if (res.status === 409) expectError(res, 409, "CONFLICT", "Idempotency-Key");
    }
    const originals = results.filter((r) => r.status === 201 && r.headers.get("Idempotent-Replayed") === null);
    expect(originals).toHaveLength(1);
    expect(await taskTotal(org.keys.read)).toBe(1);
    // Once the first has finished, every retry replays it.
    const later = await call<Task>("POST", "/v1/tasks", { key: org.keys.write, body, headers: withKey("race") });
    expect(later.headers.get("Idempotent-Replayed")).toBe("true");
    expect(later.body.id).toBe(originals[0]!.body.id);
  });
});

describe("Idempotency-Key: conflicts and scope", () => {
  it("the same key with another body, path or calling key is a 409 naming the header, and runs nothing", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    await call("POST", "/v1/tasks", {
      key: org.keys.write,
      body: { title: "A", projectId: project.id },
      headers: withKey("k1"),
    });
    const events = await eventCount(org.id);
    const otherBody = await call("POST", "/v1/tasks", {
      key: org.keys.write,
      body: { title: "B", projectId: project.id },
      headers: withKey("k1"),
    });
    expectError(otherBody, 409, "CONFLICT", "Idempotency-Key");
    const otherPath = await call("POST", "/v1/projects", {
      key: org.keys.write,
      body: { name: "A" },
      headers: withKey("k1"),
    });
    expectError(otherPath, 409, "CONFLICT", "Idempotency-Key");
    // A read key replaying a write key's idempotency key gets no replay of the write.
    const otherCaller = await call("POST", "/v1/tasks", {
      key: org.keys.read,
      body: { title: "A", projectId: project.id },
      headers: withKey("k1"),
    });
    expectError(otherCaller, 409, "CONFLICT", "Idempotency-Key");
    expect(await taskTotal(org.keys.read)).toBe(1);
    expect(await eventCount(org.id)).toBe(events);
  });

  it("keys are scoped to the organization", async () => {
    const a = await createOrg();
    const b = await createOrg();
    const pa = await call<Project>("POST", "/v1/projects", {
      key: a.keys.write,
      body: { name: "A" },
      headers: withKey("shared"),
    });
    const pb = await call<Project>("POST", "/v1/projects", {
      key: b.keys.write,
      body: { name: "A" },
      headers: withKey("shared"),
    });
    expect(pb.status).toBe(201);
    expect(pb.headers.get("Idempotent-Replayed")).toBeNull();
    expect(pb.body.id).not.toBe(pa.body.id);
  });

  it("the key must be 1 to 255 characters", async () => {
    const org = await createOrg();
    const post = (key: string) =>
      call("POST", "/v1/projects", { key: org.keys.write, body: { name: "P" }, headers: withKey(key) });
    expectError(await post(""), 400, "VALIDATION_ERROR", "Idempotency-Key");
    expectError(await post("k".repeat(256)), 400, "VALIDATION_ERROR", "Idempotency-Key");
    expect((await post("k".repeat(255))).status).toBe(201);
    expect((await call<Page<Project>>("GET", "/v1/projects", { key: org.keys.read })).body.pagination.total).toBe(1);
  });

  it("is ignored on reads", async () => {
    const org = await createOrg();
    const res = await call("GET", "/v1/tasks", { key: org.keys.read, headers: withKey("") });
    expect(res.status).toBe(200);
  });
});

describe("Idempotency-Key: what is kept", () => {
  it("an error response is not kept: the same key can be retried, even with a corrected body", async () => {
    const org = await createOrg();
    const project = await makeProject(org, { archived: true });
    const bad = await call("POST", "/v1/tasks", {
      key: org.keys.write,
      body: { title: "", projectId: project.id },
      headers: withKey("fix-me"),
    });
    expectError(bad, 400, "VALIDATION_ERROR", "title");
    const archived = await call("POST", "/v1/tasks", {
      key: org.keys.write,
      body: { title: "T", projectId: project.id },
      headers: withKey("fix-me"),
    });
    expectError(archived, 409, "CONFLICT", "projectId");
    await call("PATCH", `/v1/projects/${project.id}`, { key: org.keys.write, body: { archived: false } });
    const ok = await call("POST", "/v1/tasks", {
      key: org.keys.write,
      body: { title: "T", projectId: project.id },
      headers: withKey("fix-me"),
    });
    expect(ok.status).toBe(201);
    expect(ok.headers.get("Idempotent-Replayed")).toBeNull();
  });

  it("an expired key is free again", async () => {
    const org = await createOrg();
    await call("POST", "/v1/projects", { key: org.keys.write, body: { name: "First" }, headers: withKey("old") });
    await env.DB.prepare("UPDATE idempotency_keys SET expires_at = ? WHERE org_id = ? AND key = ?")
      .bind("2000-01-01T00:00:00.000Z", org.id, "old")
      .run();
    const res = await call<Project>("POST", "/v1/projects", {
      key: org.keys.write,
      body: { name: "Second" },
      headers: withKey("old"),
    });
    expect(res.status).toBe(201);
    expect(res.body.name).toBe("Second");
  });

  it("the cron forgets expired keys and keeps live ones", async () => {
    const org = await createOrg();
    await call("POST", "/v1/projects", { key: org.keys.write, body: { name: "A" }, headers: withKey("live") });
    await call("POST", "/v1/projects", { key: org.keys.write, body: { name: "B" }, headers: withKey("dead") });
    await env.DB.prepare(
      "UPDATE idempotency_keys SET expires_at = '2000-01-01T00:00:00.000Z' WHERE org_id = ? AND key = 'dead'",
    )
      .bind(org.id)
      .run();
    expect(await pruneIdempotencyKeys(env.DB)).toBeGreaterThanOrEqual(1);
    const { results } = await env.DB.prepare("SELECT key FROM idempotency_keys WHERE org_id = ?").bind(org.id).all();
    expect(results.map((r) => r.key)).toEqual(["live"]);
  });

  it("a key still in progress is a 409 with Retry-After; one abandoned long ago is taken over", async () => {
    const org = await createOrg();
    const send = () =>
      call<Project>("POST", "/v1/projects", { key: org.keys.write, body: { name: "P" }, headers: withKey("busy") });
    const first = await send();
    // Put the row back to "claimed, still running" (what a concurrent retry would see).
    const markRunning = (createdAt: string) =>
      env.DB.prepare(
        "UPDATE idempotency_keys SET status = NULL, response_body = NULL, created_at = ? WHERE org_id = ? AND key = 'busy'",
      )
        .bind(createdAt, org.id)
        .run();
    await markRunning(new Date().toISOString());
    const busy = await send();
    expectError(busy, 409, "CONFLICT", "Idempotency-Key");
    expect(busy.headers.get("Retry-After")).toBe("1");
    await markRunning(new Date(Date.now() - 10 * 60_000).toISOString());
    const takenOver = await send();
    expect(takenOver.status).toBe(201);
    expect(takenOver.headers.get("Idempotent-Replayed")).toBeNull();
    expect(takenOver.body.id).not.toBe(first.body.id);
  });

  it("a response carrying a secret is replayed without it, and the secret is never stored", async () => {
    const org = await createOrg();
    const body = { name: "CI", scope: "read" };
    const first = await call<CreatedApiKey>("POST", "/v1/api-keys", {
      key: org.keys.admin,
      body,
      headers: withKey("key-once"),
    });
    expect(first.status).toBe(201);
    expect(first.body.key).toMatch(/^vk_live_/);
    const again = await call<ApiKey>("POST", "/v1/api-keys", {
      key: org.keys.admin,
      body,
      headers: withKey("key-once"),
    });
    expect(again.status).toBe(201);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.body.id).toBe(first.body.id);
    expect(again.body).not.toHaveProperty("key");
    const { key: _secret, ...withoutSecret } = first.body;
    expect(again.body).toEqual(withoutSecret);
    const stored = await env.DB.prepare("SELECT response_body FROM idempotency_keys WHERE org_id = ? AND key = ?")
      .bind(org.id, "key-once")
      .first<{ response_body: string }>();
    expect(stored?.response_body).not.toContain(first.body.key);
    const keys = await call<Page<ApiKey>>("GET", "/v1/api-keys?limit=100", { key: org.keys.admin });
    expect(keys.body.data.filter((k) => k.name === "CI")).toHaveLength(1);
  });

  it("the operator's organization create is idempotent too, replayed without the first key", async () => {
    const body = { name: "Idem Org", plan: "pro", owner: { name: "O", email: `o-${crypto.randomUUID()}@example.com` } };
    const key = `org-${crypto.randomUUID()}`;
    const first = await call<CreatedOrganization>("POST", "/v1/admin/organizations", {
      key: ADMIN_TOKEN,
      body,
      headers: withKey(key),
    });
    expect(first.status).toBe(201);
    const again = await call<CreatedOrganization>("POST", "/v1/admin/organizations", {
      key: ADMIN_TOKEN,
      body,
      headers: withKey(key),
    });
    expect(again.status).toBe(201);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.body.organization).toEqual(first.body.organization);
    expect(again.body.apiKey).not.toHaveProperty("key");
    expect(again.body.apiKey.id).toBe(first.body.apiKey.id);
  });
});
