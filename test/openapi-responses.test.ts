import { env } from "cloudflare:workers";
import { dereference, encodePointer, type Schema, validate } from "@cfworker/json-schema";
import { beforeAll, describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../src/core/enums";
import { alertFailingWebhooks } from "../src/webhooks/alerts";
import { minimalBody } from "./contract/bodies";
import { doc, type Operation, operations } from "./contract/document";
import { buildWorld, fullCredential, type OrgWorld, send, show, type World } from "./contract/world";
import { makeAttachment, makeComment, makeProject, makeTask } from "./fixtures";
import { type ApiResponse, call, createOrg } from "./harness";
import { addMember, createWebhook, HOOK_URL, payloadOf, receiverEndpoint, waitForRequests } from "./webhook-helpers";
import { insertDelivery, insertEvent, runQueue } from "./webhook-queue";

/**
 * The document matches what the server sends: real answers of every documented
 * operation — its success, its replay, and the refusals every operation can give — are
 * checked against the document the Worker serves: the status is declared, the body
 * validates against the declared schema (JSON Schema 2020-12, formats included), every
 * header we send is declared there and every required one is present. Real webhook
 * deliveries are checked against the `webhooks` section the same way.
 */

const DOC_URI = "https://verk.test/openapi.json";
/** Every schema of the document, by `DOC_URI#pointer`, so `$ref`s resolve as the document says. */
const lookup = dereference(structuredClone(doc) as unknown as Schema, Object.create(null), new URL(DOC_URI));

/** Headers HTTP itself or the CORS layer adds, which an API description does not list. */
const TRANSPORT_HEADERS = /^(content-type|content-length|vary|cache-control|access-control-.*|x-verk-bookmark)$/;

interface HeaderSpec {
  required?: boolean;
  schema: { type?: string; enum?: string[] };
}
interface ResponseSpec {
  description: string;
  headers?: Record<string, HeaderSpec | { $ref: string }>;
  content?: Record<string, unknown>;
}

/** A JSON pointer fragment, `#/a/b`, from unescaped segments. */
function pointer(...segments: string[]): string {
  return `#${segments.map((s) => `/${encodePointer(s)}`).join("")}`;
}

/** The schema at `fragment` + the further segments, as the lookup holds it. */
function schemaAt(fragment: string, ...segments: string[]): Schema | undefined {
  const schema = lookup[`${DOC_URI}${fragment}${pointer(...segments).slice(1)}`];
  return typeof schema === "object" ? schema : undefined;
}

function deref<T>(value: T | { $ref: string }): { value: T; at: string | undefined } {
  if (value && typeof value === "object" && "$ref" in value) {
    const at = value.$ref;
    const target = at
      .slice(2)
      .split("/")
      .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key.replace(/~1/g, "/")], doc);
    return { value: target as T, at };
  }
  return { value: value as T, at: undefined };
}

/** Checks one real answer against the declaration of `status` at `base` (an operation's pointer segments). */
function expectDocumented(res: ApiResponse, base: string[], context: string): void {
  const operation = base.reduce<Record<string, unknown>>(
    (node, key) => node[key] as Record<string, unknown>,
    doc as unknown as Record<string, unknown>,
  );
  const responses = operation.responses as Record<string, ResponseSpec | { $ref: string }>;
  const declared = responses[String(res.status)];
  expect(declared, `${context}: status ${res.status} is not declared (${show(res)})`).toBeDefined();
  const { value: spec, at } = deref(declared!);
  const where = at ?? pointer(...base, "responses", String(res.status));

  // The body
  const json = spec.content?.["application/json"] as { schema?: unknown } | undefined;
  if (json?.schema) {
    const schema = schemaAt(where, "content", "application/json", "schema");
    expect(schema, `${context}: no schema at ${where}`).toBeDefined();
    const result = validate(res.body, schema!, "2020-12", lookup, false);
    expect(
      result.errors.map((e) => `${e.instanceLocation} ${e.error}`),
      `${context}: ${show(res)}`,
    ).toEqual(result.valid ? [] : ["(valid)"]);
  } else if (spec.content) {
    // Bytes (an attachment's content): the answer's media type is the file's own, any one the document allows.
    expect(Object.keys(spec.content), `${context}: ${res.headers.get("Content-Type")}`).toContain(
      "application/octet-stream",
    );
  } else {
    expect(res.body, `${context}: a ${res.status} with a body the document does not describe`).toBeNull();
  }

  // The headers: every one we send is declared, every required one is sent, values fit their schema.
  const headers = Object.fromEntries(
    Object.entries(spec.headers ?? {}).map(([name, h]) => [name.toLowerCase(), deref<HeaderSpec>(h).value]),
  );
  for (const [name, value] of res.headers) {
    if (TRANSPORT_HEADERS.test(name)) continue;
    const header = headers[name];
    expect(header, `${context}: header ${name} is sent but not declared for ${res.status}`).toBeDefined();
    if (header!.schema.type === "integer") expect(value, `${context}: ${name}`).toMatch(/^\d+$/);
    if (header!.schema.enum) expect(header!.schema.enum, `${context}: ${name}`).toContain(value);
  }
  for (const [name, header] of Object.entries(headers)) {
    if (header.required) expect(res.headers.has(name), `${context}: required header ${name} missing`).toBe(true);
  }
}

/** Checks a delivered (or sample) payload of `eventType` against its resource's payload in the webhooks section. */
function expectWebhookPayload(eventType: string, payload: unknown): void {
  const resource = eventType.split(".")[0]!;
  const schema = schemaAt(
    pointer("webhooks", `${resource}-event`, "post"),
    "requestBody",
    "content",
    "application/json",
    "schema",
  );
  const result = validate(payload, schema!, "2020-12", lookup, false);
  expect(
    result.errors.map((e) => `${e.instanceLocation} ${e.error}`),
    eventType,
  ).toEqual(result.valid ? [] : ["(valid)"]);
}

const baseOf = (op: Operation) => ["paths", op.path, op.method.toLowerCase()];

/** POSTs that take an Idempotency-Key: sent with one, and replayed. */
function takesIdempotencyKey(op: Operation): boolean {
  const parameters = (doc.paths[op.path]![op.method.toLowerCase()]!.parameters ?? []) as { name: string }[];
  return parameters.some((p) => p.name === "idempotency-key");
}

let world: World;

beforeAll(async () => {
  world = await buildWorld();
}, 90_000);

/**
 * Deletes and the operator's changes (a plan change would rate-limit org A as free) run
 * last, on org B's fixtures, so that org A's stay as they are for every other operation.
 */
const destructive = (op: Operation) => op.method === "DELETE" || op.name === "PATCH /v1/admin/organizations/{id}";

async function succeed(op: Operation, w: OrgWorld): Promise<void> {
  const body = minimalBody(op.body?.schema ?? {}, w);
  const credential = fullCredential(op, w);
  if (!takesIdempotencyKey(op)) {
    const res = await send(op, credential, w.ids, body);
    expect(res.status < 300, `${op.name}: ${show(res)}`).toBe(true);
    expectDocumented(res, baseOf(op), op.name);
    return;
  }
  const key = crypto.randomUUID();
  const headers = { "Idempotency-Key": key };
  const first = await send(op, credential, w.ids, body, "", headers);
  expect(first.status < 300, `${op.name}: ${show(first)}`).toBe(true);
  expectDocumented(first, baseOf(op), op.name);
  const replay = await send(op, credential, w.ids, body, "", headers);
  expect(replay.headers.get("Idempotent-Replayed"), `${op.name} replay`).toBe("true");
  expectDocumented(replay, baseOf(op), `${op.name} (replay)`);
}

describe("OpenAPI: real answers match the document", () => {
  for (const op of operations.filter((o) => !destructive(o))) {
    it(`${op.name}: its success${takesIdempotencyKey(op) ? " and its replay" : ""}`, async () => {
      await succeed(op, world.a);
    });
  }

  for (const op of operations.filter((o) => o.scheme)) {
    it(`${op.name}: its refusals (401, 404, 400)`, async () => {
      const body = minimalBody(op.body?.schema ?? {}, world.a);
      expectDocumented(await send(op, null, world.a.ids, body), baseOf(op), `${op.name} without a key`);
      if (op.pathParams.length > 0) {
        const missing = await send(op, fullCredential(op, world.a), "unknown", body);
        expectDocumented(missing, baseOf(op), `${op.name} unknown id`);
      }
      if (op.body) {
        const bad = await send(op, fullCredential(op, world.a), world.a.ids, { ...body, zzUnknown: 1 });
        expectDocumented(bad, baseOf(op), `${op.name} unknown field`);
      }
      if (op.queryParams.length > 0) {
        const bad = await send(op, fullCredential(op, world.a), world.a.ids, undefined, "?zzUnknown=1");
        expectDocumented(bad, baseOf(op), `${op.name} unknown query parameter`);
      }
    });
  }

  // Attachments and comments before tasks before projects: deleting a project takes its tasks along.
  const order = ["attachments", "comments", "tasks", "projects"];
  const rank = (op: Operation) => {
    const index = order.indexOf(op.path.split("/")[2]!);
    return index === -1 ? order.length : index;
  };
  for (const op of operations.filter(destructive).sort((x, y) => rank(x) - rank(y))) {
    it(`${op.name}: its success`, async () => {
      await succeed(op, world.b);
    });
  }
});

describe("OpenAPI: the shared answers match the document", () => {
  const createProject = operations.find((o) => o.name === "POST /v1/projects")!;
  const getTask = operations.find((o) => o.name === "GET /v1/tasks/{id}")!;
  const updateTask = operations.find((o) => o.name === "PATCH /v1/tasks/{id}")!;

  it("415 for a body that is not JSON, 413 for one over 1 MiB", async () => {
    const key = world.a.org.keys.admin;
    const text = await call("POST", "/v1/projects", {
      key,
      rawBody: "name=x",
      headers: { "Content-Type": "text/plain" },
    });
    expect(text.status).toBe(415);
    expectDocumented(text, baseOf(createProject), "415");
    const big = await call("POST", "/v1/projects", { key, body: { name: "x", description: "y".repeat(1_100_000) } });
    expect(big.status).toBe(413);
    expectDocumented(big, baseOf(createProject), "413");
  });

  it("304 for If-None-Match, 412 for a stale If-Match", async () => {
    const key = world.a.org.keys.admin;
    const task = await call("GET", `/v1/tasks/${world.a.ids.task}`, { key });
    const etag = task.headers.get("ETag")!;
    const same = await call("GET", `/v1/tasks/${world.a.ids.task}`, { key, headers: { "If-None-Match": etag } });
    expect(same.status).toBe(304);
    expectDocumented(same, baseOf(getTask), "304");
    const stale = await call("PATCH", `/v1/tasks/${world.a.ids.task}`, {
      key,
      body: { title: "stale" },
      headers: { "If-Match": '"0000000000000000"' },
    });
    expect(stale.status).toBe(412);
    expectDocumented(stale, baseOf(updateTask), "412");
  });

  it("429 with Retry-After and the rate-limit headers", async () => {
    const org = await createOrg({ plan: "free" });
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => call("GET", "/v1/users/me", { key: org.keys.read })),
    );
    const refused = answers.find((r) => r.status === 429);
    expect(refused, "the free plan's burst is 20 a minute").toBeDefined();
    expectDocumented(refused!, ["paths", "/v1/users/me", "get"], "429");
  });
});

/** What the HTTP client adds to a delivery, or the body's media type, which a header list does not name. */
const DELIVERY_TRANSPORT_HEADERS =
  /^(host|connection|content-type|content-length|user-agent|accept|accept-encoding|accept-language|sec-fetch-mode|cf-.*)$/;

/** A delivery's headers against its resource's `webhooks` entry: each sent one declared and fitting its schema, each required one sent. */
function expectDeclaredHeaders(headers: Record<string, string>, resource: string, context: string) {
  const parameters = (doc.webhooks[`${resource}-event`]!.post!.parameters ?? []) as {
    name: string;
    in: string;
    required?: boolean;
    schema: Schema;
  }[];
  const declared = new Map(parameters.filter((p) => p.in === "header").map((p) => [p.name.toLowerCase(), p]));
  for (const [name, value] of Object.entries(headers)) {
    if (DELIVERY_TRANSPORT_HEADERS.test(name)) continue;
    const parameter = declared.get(name);
    expect(parameter, `${context}: header ${name} is sent but not declared`).toBeDefined();
    const result = validate(value, parameter!.schema, "2020-12", lookup, false);
    expect(result.valid, `${context}: ${name}: ${value}`).toBe(true);
  }
  for (const [name, parameter] of declared) {
    if (parameter.required) expect(headers[name], `${context}: required header ${name} missing`).toBeTruthy();
  }
}

describe("OpenAPI: real deliveries match the webhooks section", () => {
  it("a task, project, member, comment and file event each validate against their resource's payload and headers", async () => {
    const org = await createOrg();
    const endpoint = receiverEndpoint("openapi-webhooks");
    await createWebhook(org, {
      url: endpoint.url,
      events: ["task.created", "project.created", "member.added", "comment.created", "file.uploaded"],
    });
    const project = await makeProject(org);
    const task = await makeTask(org, project.id, { assigneeId: org.member.id });
    await makeComment(org, task.id);
    await makeAttachment(org, task.id);
    await addMember(org, "Grace");
    const received = await waitForRequests(endpoint.name, 5);
    const resources = new Set<string>();
    for (const request of received) {
      const payload = payloadOf(request);
      const resource = payload.event.split(".")[0]!;
      resources.add(resource);
      expectWebhookPayload(payload.event, payload);
      expectDeclaredHeaders(request.headers, resource, payload.event);
    }
    expect([...resources].sort()).toEqual(["comment", "file", "member", "project", "task"]);
  });

  it("ed25519 and rsa-sha256 deliveries during key rotations: every signature header is declared", async () => {
    const org = await createOrg();
    const ed = receiverEndpoint("openapi-ed25519");
    const rsa = receiverEndpoint("openapi-rsa");
    await createWebhook(org, { url: ed.url, events: ["member.added"], signatureScheme: "ed25519" });
    await createWebhook(org, { url: rsa.url, events: ["member.added"], signatureScheme: "rsa-sha256" });
    // Rotated, so the overlap's headers (two v1a entries, X-Verk-Signature-RSA-Next) are sent too.
    for (const algorithm of ["ed25519", "rsa-sha256"]) {
      const rotated = await call("POST", "/v1/webhooks/signing-keys/rotate", {
        key: org.keys.admin,
        body: { algorithm },
      });
      expect(rotated.status, show(rotated)).toBe(200);
    }
    await addMember(org, "Grace");
    const [edRequest] = await waitForRequests(ed.name, 1);
    const [rsaRequest] = await waitForRequests(rsa.name, 1);
    expect(edRequest!.headers["webhook-signature"]!.split(" ").filter((s) => s.startsWith("v1a,"))).toHaveLength(2);
    expect(edRequest!.headers["x-verk-signature-key-id"]).toMatch(/^sk_\S+ sk_\S+$/);
    expect(rsaRequest!.headers["x-verk-signature-rsa"]).toBeTruthy();
    expect(rsaRequest!.headers["x-verk-signature-rsa-next"]).toBeTruthy();
    expect(rsaRequest!.headers["x-verk-signature-key-id"]).toMatch(/^sk_\S+ sk_\S+$/);
    for (const request of [edRequest!, rsaRequest!]) {
      const payload = payloadOf(request);
      expectWebhookPayload(payload.event, payload);
      expectDeclaredHeaders(request.headers, "member", payload.event);
    }
  });

  it("real failure alerts (webhook.disabled, webhook.failing, delivery.exhausted) validate against their payloads", async () => {
    const org = await createOrg();
    const endpoint = receiverEndpoint("openapi-alerts");
    await createWebhook(org, {
      url: endpoint.url,
      events: ["webhook.disabled", "webhook.failing", "delivery.exhausted"],
    });
    const other = await createWebhook(org, { url: HOOK_URL, events: ["member.added"], description: "Other" });
    // webhook.disabled: by hand.
    await call("PATCH", `/v1/webhooks/${other.id}`, { key: org.keys.admin, body: { enabled: false } });
    // delivery.exhausted: its message reached the dead-letter queue.
    const eventId = await insertEvent(org, "member.added", { id: org.member.id, name: "Max Member" });
    const deliveryId = await insertDelivery(org, other.id, eventId);
    await runQueue("verk-events-dlq", [{ kind: "delivery", deliveryId }]);
    // webhook.failing: ten failed attempts (sent: with their request headers) within the
    // hour before a clock of its own.
    const failing = await createWebhook(org, { url: HOOK_URL, events: ["member.added"] });
    const failed = await insertDelivery(org, failing.id, `evt_${crypto.randomUUID()}`, "failed");
    const t0 = Date.now() + 2000 * 3_600_000;
    await env.DB.batch(
      Array.from({ length: 10 }, (_, i) =>
        env.DB.prepare(
          `INSERT INTO delivery_attempts
             (id, delivery_id, webhook_id, attempt_number, attempted_at, status_code, error, request_headers)
           VALUES (?, ?, ?, ?, ?, 503, 'HTTP 503', '{"Content-Type":"application/json"}')`,
        ).bind(`att_${crypto.randomUUID()}`, failed, failing.id, i + 1, new Date(t0 - 60_000 + i).toISOString()),
      ),
    );
    await alertFailingWebhooks(env, t0);

    const received = await waitForRequests(endpoint.name, 3);
    expect(received.map((r) => payloadOf(r).event).sort()).toEqual([
      "delivery.exhausted",
      "webhook.disabled",
      "webhook.failing",
    ]);
    for (const request of received) {
      const payload = payloadOf(request);
      expectWebhookPayload(payload.event, payload);
    }
  });

  it("the sample payload of a test event of every type validates against its resource's payload", async () => {
    const org = await createOrg();
    const hook = await createWebhook(org, { url: receiverEndpoint("openapi-samples").url, events: ["task.created"] });
    for (const event of EVENT_TYPES) {
      const res = await call<{ payload: { event: string } }>("POST", `/v1/webhooks/${hook.id}/test`, {
        key: org.keys.admin,
        body: { eventType: event },
      });
      expect(res.status, show(res)).toBe(200);
      expectWebhookPayload(event, res.body.payload);
    }
  });
});
