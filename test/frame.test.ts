import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { OpenApiDocument, Page, RotatedApiKey, User } from "./api-types";
import { call, createOrg, expectError } from "./harness";

describe("HTTP frame", () => {
  it("answers /health with a request id", async () => {
    const res = await call("GET", "/health");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
    expect(res.headers.get("X-Request-Id")).toMatch(/^req_/);
  });

  it("echoes a sane caller-supplied X-Request-Id and replaces an unsafe one", async () => {
    const kept = await call("GET", "/health", { headers: { "X-Request-Id": "trace-123.abc" } });
    expect(kept.headers.get("X-Request-Id")).toBe("trace-123.abc");
    const replaced = await call("GET", "/health", { headers: { "X-Request-Id": "bad id with spaces" } });
    expect(replaced.headers.get("X-Request-Id")).toMatch(/^req_/);
  });

  it("answers unknown routes with a 404 in the error shape", async () => {
    const res = await call("GET", "/v2/nothing");
    expectError(res, 404, "NOT_FOUND");
    expect(res.headers.get("X-Request-Id")).toBe(res.body.error.requestId);
  });

  it("refuses non-JSON bodies with 415", async () => {
    const org = await createOrg();
    const res = await call("POST", "/v1/users", {
      key: org.keys.admin,
      rawBody: "name=x",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    expectError(res, 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("refuses malformed JSON with INVALID_JSON", async () => {
    const org = await createOrg();
    const res = await call("POST", "/v1/users", {
      key: org.keys.admin,
      rawBody: '{"name": ',
      headers: { "Content-Type": "application/json" },
    });
    expectError(res, 400, "INVALID_JSON");
  });

  it("refuses bodies over 1 MiB with 413", async () => {
    const org = await createOrg();
    const res = await call("POST", "/v1/users", {
      key: org.keys.admin,
      body: { name: "x".repeat(1024 * 1024 + 10), email: "big@example.com" },
    });
    expectError(res, 413, "PAYLOAD_TOO_LARGE");
    const list = await call<Page<User>>("GET", "/v1/users", { key: org.keys.admin });
    expect(list.body.data.map((u) => u.email)).not.toContain("big@example.com");
  });

  it("refuses unknown fields by name", async () => {
    const org = await createOrg();
    const res = await call("POST", "/v1/users", {
      key: org.keys.admin,
      body: { name: "Ann", email: "ann@example.com", nickname: "A" },
    });
    expectError(res, 400, "VALIDATION_ERROR", "nickname");
  });

  it("refuses a body that is JSON but not an object", async () => {
    const org = await createOrg();
    const res = await call("POST", "/v1/users", { key: org.keys.admin, body: [1, 2] });
    expectError(res, 400, "VALIDATION_ERROR");
  });

  it("serves the OpenAPI 3.1 document generated from the schemas, and the reference page", async () => {
    const doc = await call<OpenApiDocument>("GET", "/openapi.json");
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe("3.1.0");
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(["/v1/users", "/v1/users/me", "/v1/api-keys", "/v1/admin/organizations"]),
    );
    expect(doc.body.components.schemas.CreateUser!.required).toEqual(expect.arrayContaining(["name", "email"]));
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        "/health",
        "/v1/tasks",
        "/v1/webhooks",
        "/v1/webhooks/incoming/tasks",
        "/v1/incoming-webhooks",
      ]),
    );
    // Every POST documents Idempotency-Key, but the attachment upload: its body streams to
    // storage unread, so it cannot be fingerprinted (README "Attachments").
    for (const [path, operations] of Object.entries(doc.body.paths)) {
      if (!operations.post || path === "/v1/tasks/{taskId}/attachments") continue;
      const names = (operations.post.parameters ?? []).map((p) => p.name.toLowerCase());
      expect(names, path).toContain("idempotency-key");
    }
    // What Verk sends to webhook URLs is described too: one typed payload per resource.
    for (const resource of ["task", "project", "member", "comment", "file"]) {
      const schema = doc.body.webhooks[`${resource}-event`]!.post!.requestBody!.content["application/json"]!.schema;
      expect(schema.$ref, resource).toBe(`#/components/schemas/${resource[0]!.toUpperCase()}${resource.slice(1)}Event`);
    }
    const docs = await call("GET", "/docs");
    expect(docs.status).toBe(200);
    expect(String(docs.body)).toContain("/openapi.json");
  });
});

describe("request bodies as clients really send them", () => {
  it("treat a POST with no body and no Content-Type as {}", async () => {
    const org = await createOrg();
    const res = await call<RotatedApiKey>("POST", `/v1/api-keys/${org.keyIds.read}/rotate`, {
      key: org.keys.admin,
      rawBody: "",
    });
    expect(res.status).toBe(201);
    expect(res.body.key).toMatch(/^vk_live_/);
  });

  it("accept JSON media types with parameters and spacing", async () => {
    const org = await createOrg();
    for (const [i, contentType] of [
      "application/json ; charset=utf-8",
      "application/json;charset=UTF-8",
      "application/merge-patch+json",
    ].entries()) {
      const res = await call("POST", "/v1/users", {
        key: org.keys.admin,
        rawBody: JSON.stringify({ name: `Ct ${i}`, email: `ct${i}@example.com` }),
        headers: { "Content-Type": contentType },
      });
      expect(res.status, contentType).toBe(201);
    }
  });

  it("refuse an over-1 MiB body sent without Content-Length, once authenticated", async () => {
    const org = await createOrg();
    const chunk = new TextEncoder().encode(`"${"x".repeat(64 * 1024)}",`);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > 2 * 1024 * 1024) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const response = await exports.default.fetch(
      new Request("https://verk.test/v1/users", {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${org.keys.admin}` },
        body: stream,
        duplex: "half",
      } as RequestInit),
    );
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");
  });
});

describe("OpenAPI document: names for generated clients", async () => {
  const { body: doc } = await call<OpenApiDocument>("GET", "/openapi.json");
  const operations = [
    ...Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, op })),
    ),
    ...Object.entries(doc.webhooks).flatMap(([hook, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ name: `webhook ${hook} ${method.toUpperCase()}`, op })),
    ),
  ];

  it("gives every operation a camelCase operationId, a summary and exactly one tag", () => {
    expect(operations.length).toBeGreaterThan(40);
    for (const { name, op } of operations) {
      expect(op.operationId, name).toMatch(/^[a-z][a-zA-Z0-9]+$/);
      expect(op.summary?.trim(), name).toBeTruthy();
      expect(op.tags, name).toHaveLength(1);
    }
  });

  it("keeps operationIds unique and stable: generated SDKs name their methods after them", () => {
    const ids = operations.map(({ op }) => op.operationId ?? "");
    expect(new Set(ids).size).toBe(ids.length);
    // Renaming one breaks every generated client: change this list only on purpose.
    expect([...ids].sort()).toEqual(
      [
        ...["getHealth", "createOrganization", "updateOrganization"],
        ...["listTasks", "getTask", "createTask", "updateTask", "deleteTask"],
        ...["listProjects", "getProject", "createProject", "updateProject", "deleteProject"],
        ...["listComments", "getComment", "createComment", "updateComment", "deleteComment"],
        ...["listUsers", "getCurrentUser", "getUser", "createUser", "updateUser", "deleteUser"],
        ...["listApiKeys", "createApiKey", "revokeApiKey", "rotateApiKey", "listEvents", "getEvent"],
        ...["listWebhooks", "getWebhook", "createWebhook", "updateWebhook", "deleteWebhook"],
        ...["rotateWebhookSecret", "sendWebhookTest", "listWebhookDeliveries", "getWebhookDelivery"],
        ...["redeliverWebhookDelivery", "receiveTaskEvent", "receiveProjectEvent", "receiveMemberEvent"],
        ...["getWebhookStats", "listWebhookSigningKeys", "rotateWebhookSigningKey"],
        ...["receiveWebhookEvent", "receiveDeliveryEvent"],
        ...["receiveCommentEvent", "recoverWebhookDeliveries"],
        ...["listAttachments", "uploadAttachment", "getAttachment", "downloadAttachment", "deleteAttachment"],
        ...["receiveFileEvent"],
        ...["listIncomingWebhooks", "getIncomingWebhook", "createIncomingWebhook", "updateIncomingWebhook"],
        ...["deleteIncomingWebhook", "rotateIncomingWebhookKey"],
        ...["createTaskViaIntake", "updateTaskViaIntake", "createProjectViaIntake", "updateProjectViaIntake"],
        ...["createCommentViaIntake"],
      ].sort(),
    );
  });

  it("declares every tag it uses, once, with a description, and no tag it does not use", () => {
    const declared = (doc.tags ?? []).map((t) => t.name);
    expect(new Set(declared).size).toBe(declared.length);
    for (const tag of doc.tags ?? []) expect(tag.description?.trim(), tag.name).toBeTruthy();
    const used = new Set(operations.flatMap(({ op }) => op.tags ?? []));
    expect([...used].sort()).toEqual([...declared].sort());
  });

  it("names its servers and declares every security scheme an operation requires", () => {
    expect(doc.servers?.map((s) => s.url)).toEqual(expect.arrayContaining(["http://127.0.0.1:8787"]));
    const schemes = new Set(Object.keys(doc.components.securitySchemes));
    for (const { name, op } of operations) {
      for (const requirement of op.security ?? []) {
        for (const scheme of Object.keys(requirement)) expect(schemes.has(scheme), `${name}: ${scheme}`).toBe(true);
      }
    }
  });
});
