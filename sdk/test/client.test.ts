import { afterEach, describe, expect, it } from "vitest";
import { parseRetryAfter } from "../src/errors";
import { VerkClient, VerkError } from "../src/index";
import { type Answer, fakeApi, rateLimited, task } from "./fake-api";

const servers: Array<{ close: () => Promise<void> }> = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()?.close();
});

async function setup(respond: Parameters<typeof fakeApi>[0], options: { maxRetries?: number } = {}) {
  const api = await fakeApi(respond);
  servers.push(api);
  const client = new VerkClient({ apiKey: "vk_live_test", baseUrl: api.url, retry: { ...options, baseDelayMs: 10 } });
  return { api, client };
}

const created: Answer = { status: 201, body: task("task_1") };

describe("VerkClient: authentication and Idempotency-Key", () => {
  it("sends the API key as a Bearer token and the JSON body to /v1", async () => {
    const { api, client } = await setup(() => created);
    const result = await client.tasks.create({ title: "Ship it", projectId: "proj_1" });
    expect(result.id).toBe("task_1");
    const [request] = api.received;
    expect(request?.method).toBe("POST");
    expect(request?.url.pathname).toBe("/v1/tasks");
    expect(request?.headers.authorization).toBe("Bearer vk_live_test");
    expect(JSON.parse(request?.body ?? "")).toEqual({ title: "Ship it", projectId: "proj_1" });
  });

  it("gives every POST a fresh Idempotency-Key and GET, PATCH and DELETE none", async () => {
    const { api, client } = await setup((r) => (r.method === "DELETE" ? { status: 204 } : created));
    await client.tasks.create({ title: "a", projectId: "proj_1" });
    await client.tasks.create({ title: "a", projectId: "proj_1" });
    await client.tasks.get("task_1");
    await client.tasks.update("task_1", { status: "done" });
    await client.tasks.delete("task_1");
    const keys = api.received.map((r) => r.headers["idempotency-key"]);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[0]).not.toBe(keys[1]);
    expect(keys.slice(2)).toEqual([undefined, undefined, undefined]);
    expect(api.received.map((r) => `${r.method} ${r.url.pathname}`).slice(2)).toEqual([
      "GET /v1/tasks/task_1",
      "PATCH /v1/tasks/task_1",
      "DELETE /v1/tasks/task_1",
    ]);
  });

  it("accepts a base URL ending in /v1 and refuses a missing API key", async () => {
    const { api } = await setup(() => ({ status: 200, body: task("task_2") }));
    const client = new VerkClient({ apiKey: "vk_live_test", baseUrl: `${api.url}/v1/` });
    await client.tasks.get("task_2");
    expect(api.received[0]?.url.pathname).toBe("/v1/tasks/task_2");
    expect(() => new VerkClient({ apiKey: undefined })).toThrow(/apiKey is required/);
  });
});

describe("VerkClient: retries", () => {
  it("retries a 429 after Retry-After with the same Idempotency-Key and body", async () => {
    const { api, client } = await setup((_, i) => (i < 2 ? rateLimited(i === 0 ? "1" : "0") : created));
    const started = Date.now();
    const result = await client.tasks.create({ title: "Ship it", projectId: "proj_1" });
    expect(result.id).toBe("task_1");
    expect(api.received).toHaveLength(3);
    // Waited the second Retry-After asked for.
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    const keys = new Set(api.received.map((r) => r.headers["idempotency-key"]));
    expect(keys.size).toBe(1);
    expect(new Set(api.received.map((r) => r.body)).size).toBe(1);
  });

  it("retries the 409 of an Idempotency-Key still in progress, keeping the key", async () => {
    const inProgress: Answer = {
      status: 409,
      headers: { "Retry-After": "0" },
      body: { error: { code: "CONFLICT", message: "in progress", field: "Idempotency-Key", requestId: "req_1" } },
    };
    const { api, client } = await setup((_, i) => (i === 0 ? inProgress : created));
    await client.tasks.create({ title: "a", projectId: "proj_1" });
    expect(api.received).toHaveLength(2);
    expect(api.received[0]?.headers["idempotency-key"]).toBe(api.received[1]?.headers["idempotency-key"]);
  });

  it("gives up after maxRetries and throws the 429 as a VerkError", async () => {
    const { api, client } = await setup(() => rateLimited("0"), { maxRetries: 2 });
    const error = await client.tasks.list().catch((e: unknown) => e);
    expect(api.received).toHaveLength(3);
    expect(error).toBeInstanceOf(VerkError);
    expect(error).toMatchObject({ status: 429, code: "RATE_LIMITED", requestId: "req_limited", retryAfter: 0 });
  });

  it("does not wait longer than maxDelayMs: a longer Retry-After is thrown at once", async () => {
    const api = await fakeApi(() => rateLimited("3600"));
    servers.push(api);
    const client = new VerkClient({ apiKey: "vk_live_test", baseUrl: api.url, retry: { maxDelayMs: 5_000 } });
    const error = await client.projects.list().catch((e: unknown) => e);
    expect(api.received).toHaveLength(1);
    expect(error).toMatchObject({ status: 429, retryAfter: 3600 });
  });

  it("retries a POST whose connection failed, with the same Idempotency-Key; never a PATCH", async () => {
    const sent: Array<{ method: string; key: string | null }> = [];
    let failures = 1;
    const flaky = async (_url: string, init: RequestInit) => {
      const headers = new Headers(init.headers);
      sent.push({ method: init.method ?? "GET", key: headers.get("Idempotency-Key") });
      if (failures-- > 0 || init.method === "PATCH") throw new TypeError("fetch failed");
      return new Response(JSON.stringify(task("task_1")), {
        status: 201,
        headers: { "Content-Type": "application/json" },
      });
    };
    const client = new VerkClient({ apiKey: "vk_live_test", fetch: flaky, retry: { baseDelayMs: 1 } });
    expect((await client.tasks.create({ title: "a", projectId: "proj_1" })).id).toBe("task_1");
    expect(sent).toHaveLength(2);
    expect(sent[0]?.key).toBeTruthy();
    expect(sent[1]?.key).toBe(sent[0]?.key);
    await expect(client.tasks.update("task_1", { title: "b" })).rejects.toThrow("fetch failed");
    expect(sent).toHaveLength(3);
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("7", now)).toBe(7000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 00:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it("retries neither other errors nor PATCH", async () => {
    const { api, client } = await setup(() => ({
      status: 409,
      body: { error: { code: "CONFLICT", message: "archived", requestId: "req_2" } },
    }));
    await expect(client.tasks.update("task_1", { title: "x" })).rejects.toBeInstanceOf(VerkError);
    expect(api.received).toHaveLength(1);
  });
});

describe("VerkClient: errors", () => {
  it("throws a VerkError carrying status, code, message, field and requestId", async () => {
    const { client } = await setup(() => ({
      status: 400,
      headers: { "X-Request-Id": "req_abc" },
      body: { error: { code: "VALIDATION_ERROR", message: "title is required", field: "title", requestId: "req_abc" } },
    }));
    const error = await client.tasks.create({ title: "", projectId: "proj_1" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerkError);
    expect(error).toMatchObject({
      name: "VerkError",
      status: 400,
      code: "VALIDATION_ERROR",
      message: "title is required",
      field: "title",
      requestId: "req_abc",
    });
  });

  it("a body that is not the API's still gives a VerkError with the status and the X-Request-Id", async () => {
    const { client } = await setup(() => ({ status: 502, headers: { "X-Request-Id": "req_gw" }, body: "Bad gateway" }));
    const error = await client.events.get("evt_1").catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 502, code: "UNKNOWN_ERROR", requestId: "req_gw" });
  });
});

describe("VerkClient: resources", () => {
  it("nested paths: comments of a task, webhook deliveries, redeliver, rotate, test, users/me", async () => {
    const { api, client } = await setup((r) => ({
      status: r.method === "POST" ? 201 : 200,
      body: { data: [], pagination: { page: 1, limit: 50, total: 0, totalPages: 0 } },
    }));
    await client.comments.list("task_1", { limit: 10 });
    await client.comments.create("task_1", { content: "hi" });
    await client.webhooks.deliveries.list("wh_1", { status: "failed" });
    await client.webhooks.deliveries.get("wh_1", "del_1");
    await client.webhooks.deliveries.redeliver("wh_1", "del_1");
    await client.webhooks.rotateSecret("wh_1");
    await client.webhooks.test("wh_1", { eventType: "task.created" });
    await client.members.me();
    await client.apiKeys.revoke("key_1");
    await client.incomingWebhooks.rotate("iwh_1");
    expect(api.received.map((r) => `${r.method} ${r.url.pathname}${r.url.search}`)).toEqual([
      "GET /v1/tasks/task_1/comments?limit=10",
      "POST /v1/tasks/task_1/comments",
      "GET /v1/webhooks/wh_1/deliveries?status=failed",
      "GET /v1/webhooks/wh_1/deliveries/del_1",
      "POST /v1/webhooks/wh_1/deliveries/del_1/redeliver",
      "POST /v1/webhooks/wh_1/rotate-secret",
      "POST /v1/webhooks/wh_1/test",
      "GET /v1/users/me",
      "DELETE /v1/api-keys/key_1",
      "POST /v1/incoming-webhooks/iwh_1/rotate",
    ]);
  });

  it("recover: POSTs the window to the webhook's recover path and returns the count", async () => {
    const window = { since: "2026-12-01T10:00:00.000Z", until: "2026-12-01T12:00:00.000Z" };
    const { api, client } = await setup(() => ({
      status: 202,
      body: { webhookId: "wh_1", queued: 42, remaining: 0, ...window },
    }));
    const recovery = await client.webhooks.recover("wh_1", window);
    expect(recovery).toMatchObject({ queued: 42, remaining: 0 });
    const [request] = api.received;
    expect(`${request?.method} ${request?.url.pathname}`).toBe("POST /v1/webhooks/wh_1/recover");
    expect(JSON.parse(request?.body ?? "")).toEqual(window);
    // A POST: the client gives it an Idempotency-Key, so its own retry re-runs nothing.
    expect(request?.headers["idempotency-key"]).toBeTruthy();
  });

  it("webhooks.stats asks for the hours given, and the API's default without them", async () => {
    const { api, client } = await setup(() => ({
      status: 200,
      body: { webhookId: "wh_1", hours: 48, from: "2026-01-01T00:00:00.000Z", buckets: [] },
    }));
    const stats = await client.webhooks.stats("wh_1", { hours: 48 });
    await client.webhooks.stats("wh_1");
    expect(stats.hours).toBe(48);
    expect(api.received.map((r) => `${r.method} ${r.url.pathname}${r.url.search}`)).toEqual([
      "GET /v1/webhooks/wh_1/stats?hours=48",
      "GET /v1/webhooks/wh_1/stats",
    ]);
  });

  it("attachments: upload sends the raw bytes once with filename and type, download returns the streaming Response", async () => {
    const meta = { id: "file_1", name: "a b.txt", size: 5 };
    const { api, client } = await setup((r) =>
      r.url.pathname.endsWith("/content")
        ? { status: 200, headers: { "Content-Type": "text/plain" }, body: "hello" }
        : { status: r.method === "POST" ? 201 : 200, body: meta },
    );
    expect(
      await client.attachments.upload("task_1", "hello", { filename: "a b.txt", contentType: "text/plain" }),
    ).toEqual(meta);
    const response = await client.attachments.download("file_1");
    expect(await response.json()).toBe("hello");
    await client.attachments.get("file_1");
    await client.attachments.delete("file_1");
    expect(api.received.map((r) => `${r.method} ${r.url.pathname}${r.url.search}`)).toEqual([
      "POST /v1/tasks/task_1/attachments?filename=a%20b.txt",
      "GET /v1/attachments/file_1/content",
      "GET /v1/attachments/file_1",
      "DELETE /v1/attachments/file_1",
    ]);
    const [upload] = api.received;
    expect(upload?.body).toBe("hello");
    expect(upload?.headers["content-type"]).toBe("text/plain");
    expect(upload?.headers.authorization).toBe("Bearer vk_live_test");
    expect(upload?.headers["idempotency-key"]).toBeUndefined();
  });

  it("attachments: a refused upload throws the VerkError, without a retry", async () => {
    const { api, client } = await setup(() => ({
      status: 413,
      body: { error: { code: "PAYLOAD_TOO_LARGE", message: "too big", requestId: "req_1" } },
    }));
    await expect(client.attachments.upload("task_1", new Uint8Array(3), { filename: "x.bin" })).rejects.toMatchObject({
      status: 413,
      code: "PAYLOAD_TOO_LARGE",
    });
    expect(api.received).toHaveLength(1);
  });
});
