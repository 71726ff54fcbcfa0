import { beforeAll, describe, expect, it } from "vitest";
import { makeComment, makeProject, makeTask } from "./fixtures";
import { ADMIN_TOKEN, type ApiResponse, call, createOrg, type TestOrg } from "./harness";
import { createWebhook, receiverEndpoint, waitFor } from "./webhook-helpers";

/**
 * The security contract, read from the OpenAPI document the Worker serves: for every
 * documented operation, 401 without a credential, 403 below the documented scope (or
 * without the documented permission), 404 for another organization's ids, 400 naming
 * the field for unknown, mistyped and missing body fields — and never a 5xx. A new
 * route gets these tests the day it is documented; a guard that cannot apply to an
 * operation is either structural (no body, no path id, lowest scope) or listed in
 * EXEMPT with its reason.
 */

// ---------------------------------------------------------------------------
// The document

interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  example?: unknown;
  default?: unknown;
  minLength?: number;
  minItems?: number;
  minimum?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

interface Parameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required?: boolean;
}

interface DocumentedOperation {
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
}

interface OpenApiDocument {
  paths: Record<string, Record<string, DocumentedOperation>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, unknown> };
}

const docResponse = await call<OpenApiDocument>("GET", "/openapi.json");
if (docResponse.status !== 200) throw new Error(`GET /openapi.json answered ${docResponse.status}`);
const doc = docResponse.body;

function resolve(schema: JsonSchema): JsonSchema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace("#/components/schemas/", "");
  const target = doc.components.schemas[name];
  if (!target) throw new Error(`unresolvable $ref ${schema.$ref}`);
  return resolve(target);
}

/** The JSON types a schema admits ("integer" counts as "number"). */
function typesOf(schema: JsonSchema): string[] {
  const s = resolve(schema);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return alternatives.flatMap(typesOf);
  if (s.type) return (Array.isArray(s.type) ? s.type : [s.type]).map((t) => (t === "integer" ? "number" : t));
  if (s.enum) return [...new Set(s.enum.map((v) => (v === null ? "null" : typeof v)))];
  return [];
}

type Scheme = "bearerAuth" | "adminToken" | "incomingWebhookKey";
const SCHEMES: Scheme[] = ["bearerAuth", "adminToken", "incomingWebhookKey"];
const SCOPES = ["read", "write", "admin"] as const;
type Scope = (typeof SCOPES)[number];

interface Operation {
  /** "PATCH /v1/tasks/{id}" */
  name: string;
  method: string;
  path: string;
  scheme?: Scheme;
  /** The scope (bearerAuth) or permission (incomingWebhookKey) the document says the operation needs. */
  needs?: string;
  pathParams: string[];
  queryParams: string[];
  body?: { required: boolean; schema: JsonSchema };
}

const operations: Operation[] = Object.entries(doc.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, op]): Operation => {
    const requirement = op.security?.[0] ?? {};
    const scheme = SCHEMES.find((s) => s in requirement);
    const schema = op.requestBody?.content["application/json"]?.schema;
    return {
      name: `${method.toUpperCase()} ${path}`,
      method: method.toUpperCase(),
      path,
      scheme,
      needs: scheme ? requirement[scheme]?.[0] : undefined,
      pathParams: (op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name),
      queryParams: (op.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name),
      body: schema ? { required: op.requestBody?.required ?? false, schema } : undefined,
    };
  }),
);
const secured = operations.filter((op) => op.scheme);

/** Operations anyone may call; every other operation must declare a security requirement. */
const PUBLIC_OPERATIONS = ["GET /health"];
/** Served by the Worker but not operations of the document. */
const PUBLIC_UNDOCUMENTED = ["/openapi.json", "/docs"];

/**
 * Guards an operation is exempt from, other than the structural ones (no body, no path
 * id, read being the lowest scope), each with its reason. The ledger test below fails
 * on an entry that names no operation or a guard the suite would not otherwise generate.
 */
const EXEMPT: Record<string, string> = {
  "POST /v1/admin/organizations: 403":
    "the operator token is all or nothing: there is no lower privilege to try (401 covers a wrong token)",
  "PATCH /v1/admin/organizations/{id}: 403":
    "the operator token is all or nothing: there is no lower privilege to try (401 covers a wrong token)",
  "PATCH /v1/admin/organizations/{id}: 404 across organizations":
    "the operator acts across organizations; an unknown organization id answering 404 is checked by 'the ADMIN_TOKEN passes'",
};

// ---------------------------------------------------------------------------
// The world: two organizations with one resource of every kind, and credentials

type ResourceKind =
  | "project"
  | "task"
  | "comment"
  | "event"
  | "user"
  | "apiKey"
  | "webhook"
  | "delivery"
  | "incomingWebhook"
  | "organization";

/** Which fixture a path parameter names, by the collection segment in front of it. */
const PATH_SEGMENT_KINDS: Record<string, ResourceKind> = {
  projects: "project",
  tasks: "task",
  comments: "comment",
  events: "event",
  users: "user",
  "api-keys": "apiKey",
  webhooks: "webhook",
  deliveries: "delivery",
  "incoming-webhooks": "incomingWebhook",
  organizations: "organization",
};

/** Body fields that refer to another resource, and its kind. A field named `…Id` must be listed here. */
const BODY_REFERENCES: Record<string, ResourceKind> = {
  projectId: "project",
  assigneeId: "user",
  userId: "user",
  mentions: "user",
};

interface OrgWorld {
  org: TestOrg;
  ids: Partial<Record<ResourceKind, string>>;
  /** An incoming-webhook key with every permission. */
  incomingKey: string;
}

interface World {
  a: OrgWorld;
  b: OrgWorld;
  /** Org A's incoming-webhook keys with exactly one permission, and with every permission but one. */
  incomingOnly: Record<string, string>;
  incomingAllBut: Record<string, string>;
}

const INCOMING_PERMISSIONS = (resolve(doc.components.schemas.CreateIncomingWebhook!).properties!.permissions!.items!
  .enum ?? []) as string[];

async function createIncomingKey(org: TestOrg, name: string, permissions: string[]) {
  const res = await call("POST", "/v1/incoming-webhooks", { key: org.keys.admin, body: { name, permissions } });
  if (res.status !== 201) throw new Error(`incoming webhook create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; key: string };
}

async function buildOrgWorld(org: TestOrg, withDelivery: boolean): Promise<OrgWorld> {
  const project = await makeProject(org);
  const task = await makeTask(org, project.id);
  const comment = await makeComment(org, task.id);
  // A key of its own, so that a broken guard on revoke or rotate cannot take the suite's keys with it.
  const apiKey = await call("POST", "/v1/api-keys", { key: org.keys.admin, body: { name: "fixture", scope: "read" } });
  const webhook = await createWebhook(org, { url: receiverEndpoint("contract").url, events: ["project.created"] });
  const credential = await createIncomingKey(org, "fixture", ["tasks:create"]);
  const full = await createIncomingKey(org, "every permission", INCOMING_PERMISSIONS);
  const ids: OrgWorld["ids"] = {
    organization: org.id,
    project: project.id,
    task: task.id,
    comment: comment.id,
    user: org.member.id,
    apiKey: apiKey.body.id,
    webhook: webhook.id,
    incomingWebhook: credential.id,
  };
  if (withDelivery) {
    await makeProject(org, { name: "Delivered" }); // project.created → a delivery to the webhook
    ids.delivery = await waitFor(async () => {
      const res = await call("GET", `/v1/webhooks/${webhook.id}/deliveries`, { key: org.keys.admin });
      return (res.body?.data?.[0]?.id as string | undefined) ?? undefined;
    }, "a delivery of the fixture webhook");
  }
  const events = await call("GET", "/v1/events?limit=1", { key: org.keys.read });
  ids.event = events.body.data[0].id;
  return { org, ids, incomingKey: full.key };
}

let world: World;

beforeAll(async () => {
  const [orgA, orgB] = [await createOrg(), await createOrg()];
  const a = await buildOrgWorld(orgA, true);
  const b = await buildOrgWorld(orgB, false);
  const incomingOnly: Record<string, string> = {};
  const incomingAllBut: Record<string, string> = {};
  for (const permission of INCOMING_PERMISSIONS) {
    incomingOnly[permission] = (await createIncomingKey(orgA, `only ${permission}`, [permission])).key;
    const others = INCOMING_PERMISSIONS.filter((p) => p !== permission);
    incomingAllBut[permission] = (await createIncomingKey(orgA, `all but ${permission}`, others)).key;
  }
  world = { a, b, incomingOnly, incomingAllBut };
}, 90_000);

// ---------------------------------------------------------------------------
// Requests

const UNKNOWN_ID = "zz_0000000000000000000";

function pathFixtureKind(op: Operation, param: string): ResourceKind {
  const segments = op.path.split("/");
  const index = segments.indexOf(`{${param}}`);
  const kind = PATH_SEGMENT_KINDS[segments[index - 1] ?? ""];
  if (!kind) throw new Error(`${op.name}: no fixture for {${param}}; add its collection to PATH_SEGMENT_KINDS`);
  return kind;
}

/** The path with each parameter replaced by this organization's fixture (or UNKNOWN_ID). */
function urlOf(op: Operation, ids: OrgWorld["ids"] | "unknown", query = ""): string {
  let url = op.path;
  for (const param of op.pathParams) {
    const kind = pathFixtureKind(op, param);
    const id = ids === "unknown" ? UNKNOWN_ID : ids[kind];
    if (!id) throw new Error(`${op.name}: the world has no ${kind} for {${param}}`);
    url = url.replace(`{${param}}`, encodeURIComponent(id));
  }
  return url + query;
}

function send(op: Operation, key: string | null, ids: OrgWorld["ids"] | "unknown", body?: unknown, query = "") {
  const hasBody = op.method !== "GET" && op.method !== "DELETE";
  return call(op.method, urlOf(op, ids, query), { key, body: hasBody ? (body ?? {}) : undefined });
}

/** The credential of org `w` that can do everything this operation's scheme allows. */
function fullCredential(op: Operation, w: OrgWorld): string {
  if (op.scheme === "adminToken") return ADMIN_TOKEN;
  if (op.scheme === "incomingWebhookKey") return w.incomingKey;
  return w.org.keys.admin;
}

function show(res: ApiResponse): string {
  return `${res.status} ${JSON.stringify(res.body)?.slice(0, 400)}`;
}

/** A refusal in the spec's shape: status, code, the field when given, and the request id in body and header. */
function expectRefused(res: ApiResponse, status: number, code: string, field?: string): void {
  const error = res.body?.error;
  const shaped =
    typeof error?.message === "string" &&
    typeof error?.requestId === "string" &&
    res.headers.get("X-Request-Id") === error.requestId;
  if (res.status !== status || error?.code !== code || (field !== undefined && error?.field !== field) || !shaped) {
    throw new Error(`expected ${status} ${code}${field === undefined ? "" : ` naming '${field}'`}, got ${show(res)}`);
  }
}

// ---------------------------------------------------------------------------
// Bodies, derived from the requestBody schema

let unique = 0;

/** Values the schema cannot tell: ids that must exist, a URL the webhook policy admits (localhost is allowed in tests). */
const BODY_VALUES: Record<string, (w: OrgWorld) => unknown> = {
  projectId: (w) => w.ids.project,
  url: () => receiverEndpoint("contract").url,
};

function valueFor(name: string, schema: JsonSchema, w: OrgWorld, path: string): unknown {
  const fixed = BODY_VALUES[name];
  if (fixed) return fixed(w);
  const s = resolve(schema);
  const types = typesOf(s);
  if (s.enum) return s.enum[0];
  if (types.includes("object")) return minimalBody(s, w, path);
  if (types.includes("array")) {
    return Array.from({ length: s.minItems ?? 0 }, () => valueFor(name, s.items ?? {}, w, `${path}[]`));
  }
  if (types.includes("string")) {
    unique += 1;
    if (s.format === "email") return `contract-${unique}-${crypto.randomUUID().slice(0, 8)}@example.com`;
    if (s.pattern || s.format) {
      if (typeof s.example === "string") return s.example;
      throw new Error(`${path}: cannot make a value for ${JSON.stringify(s)}; add it to BODY_VALUES`);
    }
    return `contract ${unique}`.padEnd(s.minLength ?? 1, "x");
  }
  if (types.includes("number")) return s.example ?? s.minimum ?? 1;
  if (types.includes("boolean")) return false;
  throw new Error(`${path}: cannot make a value for ${JSON.stringify(s)}; add it to BODY_VALUES`);
}

/** The required properties only, each with a valid value. */
function minimalBody(schema: JsonSchema, w: OrgWorld, path = ""): Record<string, unknown> {
  const s = resolve(schema);
  const body: Record<string, unknown> = {};
  for (const name of s.required ?? []) {
    body[name] = valueFor(name, s.properties?.[name] ?? {}, w, path ? `${path}.${name}` : name);
  }
  return body;
}

/** A JSON value of a type the schema does not admit. */
function wrongTypeFor(schema: JsonSchema): unknown {
  const admitted = typesOf(schema);
  const candidates: [string, unknown][] = [
    ["number", 12345],
    ["string", "zz-wrong-type"],
    ["boolean", true],
    ["object", { zz: 1 }],
    ["array", ["zz"]],
  ];
  const found = candidates.find(([type]) => !admitted.includes(type));
  if (!found) throw new Error(`no wrong type for ${JSON.stringify(schema)}`);
  return found[1];
}

interface FieldCase {
  /** Dotted path, as the error's `field` names it. */
  field: string;
  schema: JsonSchema;
  required: boolean;
}

/** Every property, one level into nested objects (`owner.email`, `filters.projectId`). */
function fieldsOf(schema: JsonSchema, prefix = ""): FieldCase[] {
  const s = resolve(schema);
  return Object.entries(s.properties ?? {}).flatMap(([name, property]) => {
    const field = prefix + name;
    const own: FieldCase = { field, schema: property, required: (s.required ?? []).includes(name) };
    const nested = resolve(property).properties && !prefix ? fieldsOf(property, `${field}.`) : [];
    return [own, ...nested];
  });
}

/** Nested objects a field path goes through (for the unknown-field test inside them). */
function objectFields(schema: JsonSchema): FieldCase[] {
  return fieldsOf(schema).filter((f) => !f.field.includes(".") && resolve(f.schema).properties);
}

/** The minimal body with `value` at the dotted `field` (parents made minimal), or the field removed. */
function bodyWith(schema: JsonSchema, w: OrgWorld, field: string, value: unknown, remove = false) {
  const body = minimalBody(schema, w);
  const [head, tail] = field.split(".") as [string, string | undefined];
  if (tail === undefined) {
    if (remove) delete body[head];
    else body[head] = value;
    return body;
  }
  const parentSchema = resolve(schema).properties?.[head] ?? {};
  const parent = (body[head] as Record<string, unknown> | undefined) ?? minimalBody(parentSchema, w, head);
  if (remove) delete parent[tail];
  else parent[tail] = value;
  body[head] = parent;
  return body;
}

// ---------------------------------------------------------------------------
// The document itself

describe("contract: the document", () => {
  it("declares a security requirement on every operation but the public ones", () => {
    const open = operations.filter((op) => !op.scheme).map((op) => op.name);
    expect(open.sort()).toEqual([...PUBLIC_OPERATIONS].sort());
  });

  it("defines every security scheme its operations use", () => {
    for (const op of secured) expect(doc.components.securitySchemes, op.name).toHaveProperty(op.scheme!);
  });

  for (const path of [...PUBLIC_UNDOCUMENTED, ...PUBLIC_OPERATIONS.map((name) => name.split(" ")[1]!)]) {
    it(`GET ${path}: answers without a key`, async () => {
      const res = await call("GET", path);
      expect(res.status, show(res)).toBe(200);
    });
  }

  it("lists only exemptions for documented operations and guards the suite would otherwise run", () => {
    const wouldRun = new Set(
      secured.flatMap((op) => [
        `${op.name}: 403`,
        ...(op.pathParams.length ? [`${op.name}: 404 across organizations`] : []),
      ]),
    );
    for (const entry of Object.keys(EXEMPT)) expect(wouldRun, `stale exemption '${entry}'`).toContain(entry);
  });
});

// ---------------------------------------------------------------------------
// Per operation

for (const op of secured) {
  describe("contract", () => {
    const scheme = op.scheme!;

    // --- what the document says the operation needs
    if (scheme === "bearerAuth") {
      it(`${op.name}: documents the key scope it needs`, () => {
        expect(SCOPES as readonly string[], `security ${JSON.stringify(op)}`).toContain(op.needs);
      });
    }
    if (scheme === "incomingWebhookKey") {
      it(`${op.name}: documents the credential permission it needs`, () => {
        expect(INCOMING_PERMISSIONS, `security of ${op.name}`).toContain(op.needs);
      });
    }

    // --- 401
    it(`${op.name}: 401 without a key`, async () => {
      expectRefused(
        await send(op, null, world.a.ids, minimalBody(op.body?.schema ?? {}, world.a)),
        401,
        "UNAUTHORIZED",
      );
    });
    it(`${op.name}: 401 with a credential of another scheme`, async () => {
      // An API key is no operator token nor incoming-webhook key, and an incoming-webhook key no API key.
      const other = scheme === "bearerAuth" ? world.a.incomingKey : world.a.org.keys.admin;
      expectRefused(
        await send(op, other, world.a.ids, minimalBody(op.body?.schema ?? {}, world.a)),
        401,
        "UNAUTHORIZED",
      );
    });

    // --- 403 below the documented scope or permission, and passing with exactly it
    if (scheme === "bearerAuth" && op.needs && SCOPES.includes(op.needs as Scope)) {
      const needed = op.needs as Scope;
      for (const lower of SCOPES.slice(0, SCOPES.indexOf(needed))) {
        it(`${op.name}: 403 with a ${lower} key`, async () => {
          const body = minimalBody(op.body?.schema ?? {}, world.a);
          expectRefused(await send(op, world.a.org.keys[lower], world.a.ids, body), 403, "FORBIDDEN");
        });
      }
      it(`${op.name}: ${needed === "admin" ? "an" : "a"} ${needed} key passes the scope check`, async () => {
        await expectPasses(op, world.a.org.keys[needed]);
      });
    }
    if (scheme === "incomingWebhookKey" && op.needs) {
      const permission = op.needs;
      it(`${op.name}: 403 with a credential without ${permission}`, async () => {
        const body = minimalBody(op.body?.schema ?? {}, world.a);
        expectRefused(await send(op, world.incomingAllBut[permission]!, world.a.ids, body), 403, "FORBIDDEN");
      });
      it(`${op.name}: a credential with only ${permission} passes the permission check`, async () => {
        await expectPasses(op, world.incomingOnly[permission]!);
      });
    }
    if (scheme === "adminToken") {
      it(`${op.name}: the ADMIN_TOKEN passes`, async () => {
        await expectPasses(op, ADMIN_TOKEN);
      });
    }
    // An exempt guard (EXEMPT, with its reason) gets no test; the ledger test keeps the list honest.

    // --- 404 across organizations: org B's credential, org A's ids
    if (op.pathParams.length > 0) {
      if (!EXEMPT[`${op.name}: 404 across organizations`]) {
        it(`${op.name}: 404 for ${op.pathParams.map((p) => `{${p}}`).join(", ")} of another organization`, async () => {
          const body = minimalBody(op.body?.schema ?? {}, world.b);
          expectRefused(await send(op, fullCredential(op, world.b), world.a.ids, body), 404, "NOT_FOUND");
        });
      }
    }

    // --- body references across organizations: org B's credential, a body naming org A's resource
    if (op.body) {
      const schema = op.body.schema;
      for (const f of fieldsOf(schema)) {
        const leaf = f.field.split(".").pop()!;
        const kind = BODY_REFERENCES[leaf];
        if (!kind && !/Ids?$/.test(leaf)) continue;
        it(`${op.name}: refuses ${f.field} of another organization (404, or 400 naming it)`, async () => {
          expect(kind, `no fixture kind for reference field ${f.field}: add it to BODY_REFERENCES`).toBeDefined();
          const foreign = world.a.ids[kind!]!;
          const value = typesOf(f.schema).includes("array") ? [foreign] : foreign;
          const body = bodyWith(schema, world.b, f.field, value);
          const res = await send(op, fullCredential(op, world.b), world.b.ids, body);
          if (res.status === 404) expectRefused(res, 404, "NOT_FOUND");
          else expectRefused(res, 400, "VALIDATION_ERROR", f.field);
        });
      }
    }

    // --- 400 naming the field
    if (op.body) {
      const schema = op.body.schema;
      const attempt = (body: unknown) => send(op, fullCredential(op, world.a), world.a.ids, body);

      it(`${op.name}: 400 naming an unknown field`, async () => {
        const body = { ...minimalBody(schema, world.a), zzUnknown: 1 };
        expectRefused(await attempt(body), 400, "VALIDATION_ERROR", "zzUnknown");
      });
      for (const f of objectFields(schema)) {
        it(`${op.name}: 400 naming an unknown field inside ${f.field}`, async () => {
          const inner = { ...minimalBody(f.schema, world.a, f.field), zzUnknown: 1 };
          expectRefused(
            await attempt(bodyWith(schema, world.a, f.field, inner)),
            400,
            "VALIDATION_ERROR",
            `${f.field}.zzUnknown`,
          );
        });
      }
      it(`${op.name}: 400 when the body is a JSON array`, async () => {
        expectRefused(await attempt([minimalBody(schema, world.a)]), 400, "VALIDATION_ERROR");
      });
      for (const f of fieldsOf(schema)) {
        it(`${op.name}: 400 naming ${f.field} when it has the wrong type`, async () => {
          const body = bodyWith(schema, world.a, f.field, wrongTypeFor(f.schema));
          expectRefused(await attempt(body), 400, "VALIDATION_ERROR", f.field);
        });
        if (f.required) {
          it(`${op.name}: 400 naming ${f.field} when it is missing`, async () => {
            const body = bodyWith(schema, world.a, f.field, undefined, true);
            expectRefused(await attempt(body), 400, "VALIDATION_ERROR", f.field);
          });
        }
      }
    }

    // --- 400 naming an unknown query parameter
    if (op.queryParams.length > 0) {
      it(`${op.name}: 400 naming an unknown query parameter`, async () => {
        const res = await send(op, fullCredential(op, world.a), world.a.ids, undefined, "?zzUnknown=1");
        expectRefused(res, 400, "VALIDATION_ERROR", "zzUnknown");
      });
    }
  });
}

/**
 * A credential that holds exactly what the operation documents gets past the guard:
 * with unknown ids the handler itself answers 404, and an operation without ids succeeds.
 * Together with the 403 one step below, the documented requirement is the enforced one.
 */
async function expectPasses(op: Operation, key: string): Promise<void> {
  const res = await send(op, key, "unknown", minimalBody(op.body?.schema ?? {}, world.a));
  if (op.pathParams.length > 0) {
    expectRefused(res, 404, "NOT_FOUND");
    expect(res.body.error.message, "the handler's 404, not a route miss").not.toMatch(/^No route/);
  } else {
    expect(res.status >= 200 && res.status < 300, `${op.name} with its documented credential: ${show(res)}`).toBe(true);
  }
}
