import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Project, Task, WebhookWithSecret } from "./api-types";
import { makeProject } from "./fixtures";
import { call, createOrg, expectError } from "./harness";

/**
 * Makes D1 refuse, once, to store the answer for `idempotencyKey`: a real failure in
 * the database between the change and its stored answer, injected with a trigger.
 */
async function failStoringAnswerOnce(idempotencyKey: string): Promise<() => Promise<void>> {
  await env.DB.batch([
    env.DB.prepare("CREATE TABLE IF NOT EXISTS fault_once (key TEXT PRIMARY KEY)"),
    env.DB.prepare("INSERT INTO fault_once (key) VALUES (?)").bind(idempotencyKey),
    env.DB.prepare(
      `CREATE TRIGGER IF NOT EXISTS fail_answer_once BEFORE UPDATE OF status ON idempotency_keys
        WHEN NEW.status IS NOT NULL AND EXISTS (SELECT 1 FROM fault_once WHERE key = NEW.key)
        BEGIN SELECT RAISE(ABORT, 'injected failure storing the answer'); END`,
    ),
  ]);
  return async () => {
    await env.DB.prepare("DELETE FROM fault_once WHERE key = ?").bind(idempotencyKey).run();
  };
}

async function countRows(sql: string, ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("Idempotency-Key: the answer commits with the change", () => {
  it("a failure storing the answer rolls the change back, so the retry runs it exactly once", async () => {
    const org = await createOrg();
    const key = `atomic-${crypto.randomUUID()}`;
    const heal = await failStoringAnswerOnce(key);
    const name = `Once ${key}`;
    const first = await call("POST", "/v1/projects", {
      key: org.keys.write,
      body: { name },
      headers: { "Idempotency-Key": key },
    });
    expectError(first, 500, "INTERNAL_ERROR");
    expect(await countRows("SELECT count(*) AS n FROM projects WHERE org_id = ? AND name = ?", org.id, name)).toBe(0);
    await heal();

    const retry = await call<Project>("POST", "/v1/projects", {
      key: org.keys.write,
      body: { name },
      headers: { "Idempotency-Key": key },
    });
    expect(retry.status).toBe(201);
    const again = await call("POST", "/v1/projects", {
      key: org.keys.write,
      body: { name },
      headers: { "Idempotency-Key": key },
    });
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.body).toEqual(retry.body);
    expect(await countRows("SELECT count(*) AS n FROM projects WHERE org_id = ? AND name = ?", org.id, name)).toBe(1);
    expect(
      await countRows(
        "SELECT count(*) AS n FROM events WHERE org_id = ? AND type = 'project.created' AND resource_id = ?",
        org.id,
        retry.body.id,
      ),
    ).toBe(1);
  });

  it("the stored answer is in place the moment the change is: no window without it", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const key = `window-${crypto.randomUUID()}`;
    const created = await call<Task>("POST", "/v1/tasks", {
      key: org.keys.write,
      body: { title: "Stored with its change", projectId: project.id },
      headers: { "Idempotency-Key": key },
    });
    expect(created.status).toBe(201);
    const stored = await env.DB.prepare(
      "SELECT status, location, etag, response_body FROM idempotency_keys WHERE org_id = ? AND key = ?",
    )
      .bind(org.id, key)
      .first<{ status: number; location: string; etag: string; response_body: string }>();
    expect(stored).toMatchObject({ status: 201, location: `/v1/tasks/${created.body.id}` });
    expect(`"${stored?.etag}"`).toBe(created.headers.get("ETag"));
    expect(JSON.parse(stored?.response_body ?? "null")).toEqual(created.body);
  });

  it("a replay answers exactly what the first request answered: status, body, Location and ETag", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const headers = { "Idempotency-Key": `exact-${crypto.randomUUID()}` };
    const body = { title: "Replayed exactly", projectId: project.id, tags: ["a"] };
    const first = await call("POST", "/v1/tasks", { key: org.keys.write, body, headers });
    const replay = await call("POST", "/v1/tasks", { key: org.keys.write, body, headers });
    expect(replay.status).toBe(first.status);
    expect(replay.body).toEqual(first.body);
    for (const name of ["Location", "ETag", "Content-Type"]) {
      expect(replay.headers.get(name), name).toBe(first.headers.get(name));
    }
  });

  it("a refused write stores no answer: over the plan's webhook limit the key stays free", async () => {
    const org = await createOrg({ plan: "free" });
    const make = (headers?: Record<string, string>) =>
      call<WebhookWithSecret>("POST", "/v1/webhooks", {
        key: org.keys.admin,
        body: { url: "https://hooks.example.com/verk", events: ["*"] },
        headers,
      });
    const first = await make();
    expect(first.status).toBe(201);
    expect((await make()).status).toBe(201);
    const key = `limit-${crypto.randomUUID()}`;
    expectError(await make({ "Idempotency-Key": key }), 403, "PLAN_LIMIT");
    expect(
      await countRows("SELECT count(*) AS n FROM idempotency_keys WHERE org_id = ? AND key = ?", org.id, key),
    ).toBe(0);
    await call("DELETE", `/v1/webhooks/${first.body.id}`, { key: org.keys.admin });
    expect((await make({ "Idempotency-Key": key })).status).toBe(201);
  });
});
