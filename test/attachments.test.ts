import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sweepDueObjects } from "../src/attachments/cleanup";
import { firstFilePart } from "../src/attachments/multipart";
import worker from "../src/index";
import type { Attachment, Page, WebhookPayload } from "./api-types";
import { makeAttachment, makeProject, makeTask } from "./fixtures";
import { type ApiResponse, call, createOrg, expectError, type TestOrg } from "./harness";
import { createWebhook, payloadOf, receivedBy, receiverEndpoint, waitFor, waitForRequests } from "./webhook-helpers";

// Task attachments (README "Attachments"): bytes in the FILES bucket, metadata in D1.

const MiB = 1024 * 1024;
const encoder = new TextEncoder();

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Deterministic bytes of every value, so a dropped or repeated chunk shows. */
function bytesOf(length: number, seed = 7): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** A body without Content-Length: the bytes in chunks of `chunk`. */
function streamOf(bytes: Uint8Array, chunk: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunk));
      offset += chunk;
    },
  });
}

/** One upload straight into the Worker, with any body (bytes or a stream without length). */
async function upload(
  org: TestOrg,
  taskId: string,
  body: BodyInit,
  headers: Record<string, string>,
  query = "",
  key = org.keys.write,
): Promise<ApiResponse<Attachment>> {
  const res = await exports.default.fetch(
    new Request(`https://verk.test/v1/tasks/${taskId}/attachments${query}`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${key}`,
        "CF-Connecting-IP": `10.9.${Math.floor(Math.random() * 250)}.1`,
        ...headers,
      },
      body,
    }),
  );
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

/**
 * A body that sends 1000 bytes, then waits for `release()` before it ends: a test
 * changes the database while the file streams.
 */
function gatedBody() {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let sent = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(bytesOf(1000));
        return;
      }
      await gate;
      controller.close();
    },
  });
  return { body, release };
}

/** The organization's rows in pending_object_deletions (reservations and due deletions). */
async function pendingKeys(org: TestOrg): Promise<string[]> {
  const rows = await env.DB.prepare("SELECT key FROM pending_object_deletions WHERE key LIKE ?")
    .bind(`${org.id}/%`)
    .all<{ key: string }>();
  return rows.results.map((r) => r.key);
}

/** Waits until an upload has found its task and reserved its key. */
async function uploadReserved(org: TestOrg): Promise<void> {
  await waitFor(async () => ((await pendingKeys(org)).length === 1 ? true : undefined), "the upload's reservation");
}

/** The real FILES bucket, except that deleting fails: R2 failing, as the platform can. */
function filesFailingDeletes(): R2Bucket {
  const real = env.FILES;
  return {
    head: (key) => real.head(key),
    get: ((key: string, options?: R2GetOptions) => real.get(key, options)) as R2Bucket["get"],
    put: ((key: string, value: Parameters<R2Bucket["put"]>[1], options?: R2PutOptions) =>
      real.put(key, value, options)) as R2Bucket["put"],
    createMultipartUpload: (key, options) => real.createMultipartUpload(key, options),
    resumeMultipartUpload: (key, uploadId) => real.resumeMultipartUpload(key, uploadId),
    list: (options) => real.list(options),
    delete: async () => {
      throw new Error("R2 delete failed (test)");
    },
  };
}

/** An upload into the Worker with `files` as its FILES binding. */
async function uploadWith(
  files: R2Bucket,
  org: TestOrg,
  taskId: string,
  body: ReadableStream<Uint8Array>,
  query: string,
): Promise<ApiResponse<Attachment>> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`https://verk.test/v1/tasks/${taskId}/attachments${query}`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${org.keys.write}`,
        "CF-Connecting-IP": `10.9.${Math.floor(Math.random() * 250)}.2`,
        "Content-Type": "application/octet-stream",
      },
      body,
    }),
    { ...env, FILES: files },
    ctx,
  );
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

async function download(org: TestOrg, id: string, headers: Record<string, string> = {}) {
  return exports.default.fetch(
    new Request(`https://verk.test/v1/attachments/${id}/content`, {
      headers: { Authorization: `Bearer ${org.keys.read}`, ...headers },
    }),
  );
}

async function objectsOf(org: TestOrg): Promise<string[]> {
  const listed = await env.FILES.list({ prefix: `${org.id}/` });
  return listed.objects.map((o) => o.key);
}

function multipartBody(boundary: string, file: Uint8Array, filename: string, contentType: string): Uint8Array {
  const head = encoder.encode(
    `preamble to ignore\r\n--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nnot the file\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${contentType}\r\n\r\n`,
  );
  const tail = encoder.encode(
    `\r\n--${boundary}\r\nContent-Disposition: form-data; name="after"\r\n\r\nx\r\n--${boundary}--\r\n`,
  );
  const out = new Uint8Array(head.length + file.length + tail.length);
  out.set(head);
  out.set(file, head.length);
  out.set(tail, head.length + file.length);
  return out;
}

async function world(plan: "free" | "pro" | "enterprise" = "enterprise") {
  const org = await createOrg({ plan });
  const project = await makeProject(org);
  const task = await makeTask(org, project.id);
  return { org, project, task };
}

describe("attachments: upload, read, download", () => {
  it("a raw upload stores the bytes; metadata, list and download agree, sha256 included", async () => {
    const { org, project, task } = await world();
    // Over the 1 MiB JSON body limit, which uploads are exempt from.
    const bytes = bytesOf(2 * MiB + 3);
    const res = await upload(org, task.id, bytes, { "Content-Type": "image/png" }, "?filename=mock%20up.png");
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const sha256 = await sha256Hex(bytes);
    expect(res.body).toMatchObject({
      taskId: task.id,
      projectId: project.id,
      name: "mock up.png",
      size: bytes.length,
      contentType: "image/png",
      sha256,
      uploader: { userId: expect.any(String), apiKeyId: org.keyIds.write },
    });
    expect(res.body.id).toMatch(/^file_[0-9A-Za-z]{20}$/);
    expect(res.headers.get("Location")).toBe(`/v1/attachments/${res.body.id}`);

    const meta = await call<Attachment>("GET", `/v1/attachments/${res.body.id}`, { key: org.keys.read });
    expect(meta.status).toBe(200);
    expect(meta.body).toEqual(res.body);
    const list = await call<Page<Attachment>>("GET", `/v1/tasks/${task.id}/attachments`, { key: org.keys.read });
    expect(list.body.data).toEqual([res.body]);
    expect(list.body.pagination.total).toBe(1);

    const got = await download(org, res.body.id);
    expect(got.status).toBe(200);
    expect(got.headers.get("Content-Type")).toBe("image/png");
    expect(got.headers.get("Content-Length")).toBe(String(bytes.length));
    expect(got.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(got.headers.get("Content-Disposition")).toBe(
      `attachment; filename="mock up.png"; filename*=UTF-8''mock%20up.png`,
    );
    expect(got.headers.get("ETag")).toBe(`"${sha256}"`);
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(bytes);

    const again = await download(org, res.body.id, { "If-None-Match": `"${sha256}"` });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
  });

  it("takes the name from Content-Disposition (UTF-8 filename*) and defaults the type to application/octet-stream", async () => {
    const { org, task } = await world();
    const res = await upload(org, task.id, encoder.encode("hello"), {
      "Content-Disposition": "attachment; filename=\"fallback.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22v2%22.txt",
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ name: 'résumé "v2".txt', contentType: "application/octet-stream", size: 5 });
    const got = await download(org, res.body.id);
    expect(got.headers.get("Content-Disposition")).toBe(
      `attachment; filename="r_sum_ _v2_.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22v2%22.txt`,
    );
    expect(await got.text()).toBe("hello");
  });

  it("an empty body is an empty file", async () => {
    const { org, task } = await world();
    const res = await upload(org, task.id, new Uint8Array(0), { "Content-Type": "text/plain" }, "?filename=empty.txt");
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ size: 0, sha256: await sha256Hex(new Uint8Array(0)) });
    const got = await download(org, res.body.id);
    expect(got.headers.get("Content-Length")).toBe("0");
    expect(await got.text()).toBe("");
  });

  it("streams a body without Content-Length (several R2 parts) and hashes it whole", async () => {
    const { org, task } = await world();
    const bytes = bytesOf(11 * MiB + 12345, 3);
    const res = await upload(
      org,
      task.id,
      streamOf(bytes, 64 * 1024),
      { "Content-Type": "application/zip" },
      "?filename=big.zip",
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ size: bytes.length, sha256: await sha256Hex(bytes) });
    const got = await download(org, res.body.id);
    expect(got.headers.get("Content-Length")).toBe(String(bytes.length));
    expect(await sha256Hex(new Uint8Array(await got.arrayBuffer()))).toBe(res.body.sha256);
  });

  it("a multipart/form-data upload stores the file part, its boundary split across small chunks", async () => {
    const { org, task } = await world();
    const file = bytesOf(70_000, 11);
    const boundary = "----verkBoundary7MA4YWxkTrZu0gW";
    const body = multipartBody(boundary, file, "photo.jpg", "image/jpeg");
    // 7-byte chunks: every delimiter straddles a chunk edge somewhere.
    const res = await upload(org, task.id, streamOf(body, 7), {
      "Content-Type": `multipart/form-data; boundary=${boundary}`,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      name: "photo.jpg",
      contentType: "image/jpeg",
      size: file.length,
      sha256: await sha256Hex(file),
    });
    expect(new Uint8Array(await (await download(org, res.body.id)).arrayBuffer())).toEqual(file);
  });

  it("the multipart reader finds the file whatever chunk edge the delimiter falls on", async () => {
    const boundary = "b0undary";
    const file = encoder.encode("ab\r\n--b0undar\r\n-b0undary --b0undary: no delimiter without CRLF in front\r\n");
    const body = multipartBody(boundary, file, "f.txt", "text/plain");
    for (let chunk = 1; chunk <= 40; chunk++) {
      const part = await firstFilePart(streamOf(body, chunk), boundary);
      expect(part.disposition).toContain('filename="f.txt"');
      expect(part.contentType).toBe("text/plain");
      const got = new Uint8Array(await new Response(part.body).arrayBuffer());
      expect(new TextDecoder().decode(got), `chunks of ${chunk}`).toBe(new TextDecoder().decode(file));
    }
  });
});

describe("attachments: the multipart reader, property-based", () => {
  it("hands on exactly the file part's bytes for any bytes and any chunking", async () => {
    const boundary = "fcBoundary0123456789";
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 8 }),
        async (file, sizes) => {
          const body = multipartBody(boundary, file, "p.bin", "application/octet-stream");
          let i = 0;
          let offset = 0;
          const stream = new ReadableStream<Uint8Array>({
            pull(controller) {
              if (offset >= body.length) return controller.close();
              const size = sizes[i++ % sizes.length]!;
              controller.enqueue(body.slice(offset, offset + size));
              offset += size;
            },
          });
          const part = await firstFilePart(stream, boundary);
          expect(new Uint8Array(await new Response(part.body).arrayBuffer())).toEqual(file);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("attachments: limits and validation", () => {
  it("413 on a free plan when Content-Length says more than 10 MiB: nothing stored", async () => {
    const { org, task } = await world("free");
    const res = await upload(
      org,
      task.id,
      new Uint8Array(10 * MiB + 1),
      { "Content-Type": "application/octet-stream" },
      "?filename=a.bin",
    );
    expectError(res, 413, "PAYLOAD_TOO_LARGE");
    expect(await objectsOf(org)).toEqual([]);
    const list = await call<Page<Attachment>>("GET", `/v1/tasks/${task.id}/attachments`, { key: org.keys.read });
    expect(list.body.data).toEqual([]);
  });

  it("413 on a free plan when a body without length grows past 10 MiB: the partial object is gone, nothing in D1", async () => {
    const { org, task } = await world("free");
    const res = await upload(org, task.id, streamOf(bytesOf(10 * MiB + 100), MiB), {}, "?filename=grow.bin");
    expectError(res, 413, "PAYLOAD_TOO_LARGE");
    expect(await objectsOf(org)).toEqual([]);
    const list = await call<Page<Attachment>>("GET", `/v1/tasks/${task.id}/attachments`, { key: org.keys.read });
    expect(list.body.data).toEqual([]);
    // A pro organization may store the same file.
    const pro = await world("pro");
    const ok = await upload(pro.org, pro.task.id, streamOf(bytesOf(10 * MiB + 100), MiB), {}, "?filename=grow.bin");
    expect(ok.status).toBe(201);
  });

  it("413 on a free plan for a multipart file part past 10 MiB, counted as it streams", async () => {
    const { org, task } = await world("free");
    const boundary = "limitBoundary";
    const body = multipartBody(boundary, bytesOf(10 * MiB + 1, 5), "big.bin", "application/octet-stream");
    const res = await upload(org, task.id, streamOf(body, MiB), {
      "Content-Type": `multipart/form-data; boundary=${boundary}`,
    });
    expectError(res, 413, "PAYLOAD_TOO_LARGE");
    expect(await objectsOf(org)).toEqual([]);
  });

  it("400 for a missing or unsafe name and for a malformed media type; nothing stored", async () => {
    const { org, task } = await world();
    const bad: [string, Record<string, string>][] = [
      ["", {}],
      ["?filename=", {}],
      [`?filename=${encodeURIComponent("../etc/passwd")}`, {}],
      [`?filename=${encodeURIComponent("a\\b.txt")}`, {}],
      [`?filename=${encodeURIComponent("bell\u0007.txt")}`, {}],
      [`?filename=${"x".repeat(256)}`, {}],
      ["?filename=ok.txt", { "Content-Type": "not a type" }],
      ["", { "Content-Disposition": 'attachment; filename="dir/x.txt"' }],
    ];
    for (const [query, headers] of bad) {
      const res = await upload(org, task.id, "bytes", headers, query);
      expect(res.status, `${query} ${JSON.stringify(headers)}: ${JSON.stringify(res.body)}`).toBe(400);
      expect((res.body as unknown as { error: { code: string } }).error.code).toBe("VALIDATION_ERROR");
    }
    expect(await objectsOf(org)).toEqual([]);
  });

  it("400 for a multipart body without a file part", async () => {
    const { org, task } = await world();
    const body = '--b\r\nContent-Disposition: form-data; name="x"\r\n\r\nv\r\n--b--\r\n';
    const res = await upload(org, task.id, body, { "Content-Type": "multipart/form-data; boundary=b" });
    expectError(res, 400, "VALIDATION_ERROR", "body");
    expect(await objectsOf(org)).toEqual([]);
  });

  it("400 naming Idempotency-Key for an upload that carries one, twice over: uploads are not idempotent, nothing stored", async () => {
    const { org, task } = await world();
    for (let i = 0; i < 2; i++) {
      const res = await upload(
        org,
        task.id,
        "same bytes",
        { "Content-Type": "text/plain", "Idempotency-Key": "upload-once" },
        "?filename=twice.txt",
      );
      expectError(res, 400, "VALIDATION_ERROR", "Idempotency-Key");
      expect(res.body.error.message).toMatch(/not idempotent/);
    }
    expect(await objectsOf(org)).toEqual([]);
    expect(await pendingKeys(org)).toEqual([]);
    const list = await call<Page<Attachment>>("GET", `/v1/tasks/${task.id}/attachments`, { key: org.keys.read });
    expect(list.body.data).toEqual([]);
  });
});

describe("attachments: tenancy and permissions", () => {
  it("404 for another organization's attachment and task; a read key reads but cannot upload or delete", async () => {
    const a = await world();
    const b = await world();
    const file = await makeAttachment(a.org, a.task.id);
    for (const [method, path] of [
      ["GET", `/v1/attachments/${file.id}`],
      ["GET", `/v1/attachments/${file.id}/content`],
      ["DELETE", `/v1/attachments/${file.id}`],
      ["GET", `/v1/tasks/${a.task.id}/attachments`],
    ] as const) {
      expectError(await call(method, path, { key: b.org.keys.admin }), 404, "NOT_FOUND");
    }
    expectError(await upload(b.org, a.task.id, "x", {}, "?filename=x.txt", b.org.keys.admin), 404, "NOT_FOUND");
    expect(await objectsOf(b.org)).toEqual([]);

    expectError(await upload(a.org, a.task.id, "x", {}, "?filename=x.txt", a.org.keys.read), 403, "FORBIDDEN");
    expectError(await call("DELETE", `/v1/attachments/${file.id}`, { key: a.org.keys.read }), 403, "FORBIDDEN");
    expect((await download(a.org, file.id)).status).toBe(200);
    expect(await objectsOf(a.org)).toEqual([`${a.org.id}/${file.id}`]);
  });
});

describe("attachments: deletion leaves no object behind", () => {
  it("DELETE removes the row and the object; Prefer: return=minimal answers 204", async () => {
    const { org, task } = await world();
    const one = await makeAttachment(org, task.id, { name: "one.txt" });
    const two = await makeAttachment(org, task.id, { name: "two.txt" });
    const res = await call("DELETE", `/v1/attachments/${one.id}`, { key: org.keys.write });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: one.id, deleted: true });
    expect(await objectsOf(org)).toEqual([`${org.id}/${two.id}`]);
    expectError(await call("GET", `/v1/attachments/${one.id}`, { key: org.keys.read }), 404, "NOT_FOUND");
    expect((await download(org, one.id)).status).toBe(404);
    const minimal = await call("DELETE", `/v1/attachments/${two.id}`, {
      key: org.keys.write,
      headers: { Prefer: "return=minimal" },
    });
    expect(minimal.status).toBe(204);
    expect(await objectsOf(org)).toEqual([]);
    expectError(await call("DELETE", `/v1/attachments/${two.id}`, { key: org.keys.write }), 404, "NOT_FOUND");
  });

  it("deleting a task removes its attachments' objects and tells of each (file.deleted), other tasks' files stay", async () => {
    const { org, project } = await world();
    const task = await makeTask(org, project.id, { assigneeId: org.member.id });
    const other = await makeTask(org, project.id);
    const a1 = await makeAttachment(org, task.id);
    const a2 = await makeAttachment(org, task.id, { name: "b.txt" });
    const kept = await makeAttachment(org, other.id);
    expect((await call("DELETE", `/v1/tasks/${task.id}`, { key: org.keys.write })).status).toBe(200);
    expect(await objectsOf(org)).toEqual([`${org.id}/${kept.id}`]);
    const events = await call<Page<{ resourceId: string; data: unknown }>>("GET", "/v1/events?type=file.deleted", {
      key: org.keys.read,
    });
    expect(new Map(events.body.data.map((e) => [e.resourceId, e.data]))).toEqual(
      // The set-based events carry the task's assignee, as an upload's event does.
      new Map([
        [a1.id, { ...a1, assigneeId: org.member.id }],
        [a2.id, { ...a2, assigneeId: org.member.id }],
      ]),
    );
  });

  it("deleting a project removes every object of its tasks' attachments", async () => {
    const { org, project, task } = await world();
    const t2 = await makeTask(org, project.id);
    const elsewhere = await makeProject(org);
    const t3 = await makeTask(org, elsewhere.id);
    await makeAttachment(org, task.id);
    await makeAttachment(org, t2.id);
    await makeAttachment(org, t2.id, { name: "c.txt" });
    const kept = await makeAttachment(org, t3.id);
    expect(await objectsOf(org)).toHaveLength(4);
    expect((await call("DELETE", `/v1/projects/${project.id}`, { key: org.keys.write })).status).toBe(200);
    expect(await objectsOf(org)).toEqual([`${org.id}/${kept.id}`]);
    const events = await call<Page<unknown>>("GET", "/v1/events?type=file.deleted", { key: org.keys.read });
    expect(events.body.data).toHaveLength(3);
  });
});

describe("attachments: events", () => {
  it("file.uploaded and file.deleted reach a webhook filtered on the project, and only for that project", async () => {
    const { org, project, task } = await world();
    const other = await makeProject(org);
    const otherTask = await makeTask(org, other.id);
    const endpoint = receiverEndpoint("files");
    await createWebhook(org, {
      url: endpoint.url,
      events: ["file.uploaded", "file.deleted"],
      filters: { projectId: project.id },
    });
    await makeAttachment(org, otherTask.id, { name: "not-for-you.txt" });
    const file = await makeAttachment(org, task.id, { name: "for-you.txt" });
    expect((await call("DELETE", `/v1/attachments/${file.id}`, { key: org.keys.write })).status).toBe(200);
    await waitForRequests(endpoint.name, 2);
    // Give a wrongly matched third delivery the time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const received = (await receivedBy(endpoint.name)).map(payloadOf);
    expect(received.map((p) => p.event).sort()).toEqual(["file.deleted", "file.uploaded"]);
    const byEvent = new Map<string, WebhookPayload>(received.map((p) => [p.event, p]));
    expect(byEvent.get("file.uploaded")?.data).toEqual({ ...file, assigneeId: null });
    expect(byEvent.get("file.deleted")?.data).toEqual({ ...file, assigneeId: null });
  });

  it("a webhook filtered on an assignee gets the file events of that member's tasks, and only those", async () => {
    const { org, project, task: unassigned } = await world();
    const theirs = await makeTask(org, project.id, { assigneeId: org.member.id });
    const endpoint = receiverEndpoint("files-assignee");
    await createWebhook(org, {
      url: endpoint.url,
      events: ["file.uploaded", "file.deleted"],
      filters: { assigneeId: org.member.id },
    });
    await makeAttachment(org, unassigned.id, { name: "not-for-you.txt" });
    const file = await makeAttachment(org, theirs.id, { name: "for-you.txt" });
    expect((await call("DELETE", `/v1/attachments/${file.id}`, { key: org.keys.write })).status).toBe(200);
    await waitForRequests(endpoint.name, 2);
    // Give a wrongly matched third delivery the time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const received = (await receivedBy(endpoint.name)).map(payloadOf);
    expect(received.map((p) => p.event).sort()).toEqual(["file.deleted", "file.uploaded"]);
    for (const payload of received) expect(payload.data).toEqual({ ...file, assigneeId: org.member.id });
  });

  it("file.uploaded and the 201 name the project the task is in when the upload commits, not when it began", async () => {
    const { org, task } = await world();
    const moved = await makeProject(org);
    const { body, release } = gatedBody();
    const pending = upload(org, task.id, body, { "Content-Type": "text/plain" }, "?filename=moved.txt");
    await uploadReserved(org);
    const patched = await call("PATCH", `/v1/tasks/${task.id}`, { key: org.keys.write, body: { projectId: moved.id } });
    expect(patched.status).toBe(200);
    release();
    const res = await pending;
    expect(res.status).toBe(201);
    expect(res.body.projectId).toBe(moved.id);
    const events = await call<Page<{ resourceId: string; data: { projectId: string } }>>(
      "GET",
      "/v1/events?type=file.uploaded",
      { key: org.keys.read },
    );
    expect(events.body.data.map((e) => [e.resourceId, e.data.projectId])).toEqual([[res.body.id, moved.id]]);
  });
});

describe("attachments: the cron deletes what a crash left behind", () => {
  it("an upload reservation past its hour is deleted with its object; one still running and committed objects stay", async () => {
    const { org, task } = await world();
    const kept = await makeAttachment(org, task.id);
    const orphan = `${org.id}/file_orphanOfACrashedUpload`;
    const running = `${org.id}/file_uploadStillRunning00`;
    await env.FILES.put(orphan, "half a file");
    await env.FILES.put(running, "still streaming");
    const past = new Date(Date.now() - 60_000).toISOString();
    const future = new Date(Date.now() + 3_600_000).toISOString();
    await env.DB.batch([
      env.DB.prepare("INSERT INTO pending_object_deletions (key, due_at) VALUES (?, ?)").bind(orphan, past),
      env.DB.prepare("INSERT INTO pending_object_deletions (key, due_at) VALUES (?, ?)").bind(running, future),
    ]);
    expect(await sweepDueObjects(env)).toBeGreaterThanOrEqual(1);
    expect((await objectsOf(org)).sort()).toEqual([`${org.id}/${kept.id}`, running].sort());
    const left = await env.DB.prepare("SELECT key FROM pending_object_deletions WHERE key IN (?, ?)")
      .bind(orphan, running)
      .all<{ key: string }>();
    expect(left.results.map((r) => r.key)).toEqual([running]);
  });
});

describe("attachments: no orphans under races and at scale", () => {
  it("a task deleted while its file streams: 404, the object deleted, no row, no reservation left", async () => {
    const { org, task } = await world();
    const { body, release } = gatedBody();
    const pending = upload(org, task.id, body, { "Content-Type": "text/plain" }, "?filename=late.txt");
    // The upload has found the task and reserved its key before the task goes.
    await uploadReserved(org);
    expect((await call("DELETE", `/v1/tasks/${task.id}`, { key: org.keys.write })).status).toBe(200);
    release();
    expectError(await pending, 404, "NOT_FOUND");
    expect(await objectsOf(org)).toEqual([]);
    expect(await pendingKeys(org)).toEqual([]);
  });

  it("R2 failing to delete the object of an upload that cannot commit: its key stays due, and the cron deletes it later", async () => {
    const { org, task } = await world();
    const { body, release } = gatedBody();
    const pending = uploadWith(filesFailingDeletes(), org, task.id, body, "?filename=late.txt");
    await uploadReserved(org);
    const [key] = await pendingKeys(org);
    expect((await call("DELETE", `/v1/tasks/${task.id}`, { key: org.keys.write })).status).toBe(200);
    release();
    expectError(await pending, 404, "NOT_FOUND");
    // The object could not be deleted: its key is still recorded, due now, not released.
    expect(await objectsOf(org)).toEqual([key]);
    const due = await env.DB.prepare("SELECT due_at AS dueAt FROM pending_object_deletions WHERE key = ?")
      .bind(key)
      .first<{ dueAt: string }>();
    expect(Date.parse(due!.dueAt)).toBeLessThanOrEqual(Date.now());
    // R2 deletes again: the cron's sweep removes the object and forgets the key.
    await sweepDueObjects(env);
    expect(await objectsOf(org)).toEqual([]);
    expect(await pendingKeys(org)).toEqual([]);
  });

  it("R2 failing to delete the partial object of an upload stopped at the limit: the key stays for the cron", async () => {
    const { org, task } = await world("free");
    const res = await uploadWith(
      filesFailingDeletes(),
      org,
      task.id,
      streamOf(bytesOf(11 * MiB), 256 * 1024),
      "?filename=big.bin",
    );
    expectError(res, 413, "PAYLOAD_TOO_LARGE");
    const keys = await pendingKeys(org);
    expect(keys).toHaveLength(1);
    await sweepDueObjects(env);
    expect(await objectsOf(org)).toEqual([]);
    expect(await pendingKeys(org)).toEqual([]);
  });

  it("a project whose tasks hold 1,100 attachments leaves none of their objects (R2 deletes 1,000 keys per call)", async () => {
    const { org, project, task } = await world();
    const t2 = await makeTask(org, project.id);
    // Seeded straight into D1 and R2: 1,100 uploads through the API would take minutes.
    const ids = Array.from({ length: 1100 }, (_, i) => `file_seed${String(i).padStart(15, "0")}`);
    const now = new Date().toISOString();
    const insert = env.DB.prepare(
      `INSERT INTO attachments (id, org_id, task_id, name, size, content_type, sha256, uploaded_by_user_id, uploaded_by_api_key_id, created_at)
       VALUES (?, ?, ?, ?, 1, 'text/plain', 'x', NULL, NULL, ?)`,
    );
    await env.DB.batch(ids.map((id, i) => insert.bind(id, org.id, i % 2 ? task.id : t2.id, `${id}.txt`, now)));
    for (let i = 0; i < ids.length; i += 100) {
      await Promise.all(ids.slice(i, i + 100).map((id) => env.FILES.put(`${org.id}/${id}`, "x")));
    }
    const before = await env.FILES.list({ prefix: `${org.id}/`, limit: 1000 });
    expect(before.truncated).toBe(true);

    expect((await call("DELETE", `/v1/projects/${project.id}`, { key: org.keys.write })).status).toBe(200);
    const after = await env.FILES.list({ prefix: `${org.id}/`, limit: 1000 });
    expect(after.objects).toEqual([]);
    expect(after.truncated).toBe(false);
    const left = await env.DB.prepare("SELECT count(*) AS n FROM pending_object_deletions WHERE key LIKE ?")
      .bind(`${org.id}/%`)
      .first<{ n: number }>();
    expect(left?.n).toBe(0);
    const events = await call<Page<unknown>>("GET", "/v1/events?type=file.deleted&limit=1", { key: org.keys.read });
    expect(events.body.pagination.total).toBe(1100);
  });
});
