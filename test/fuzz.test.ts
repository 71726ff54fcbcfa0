import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ERROR_STATUS } from "../src/core/errors";
import { makeComment, makeProject, makeTask } from "./fixtures";
import { type ApiResponse, call, createOrg, type TestOrg } from "./harness";
import { createWebhook, receiverEndpoint } from "./webhook-helpers";

/**
 * Property-based fuzz of the write endpoints' request bodies: any JSON value, hostile
 * objects, and valid bodies with fields replaced, removed or added. Whatever the body,
 * the answer is never a 5xx, every 4xx carries the spec's error body, and a refused
 * request leaves the database exactly as it was (every row of the organization, every
 * column but those written in the background by design).
 */

// ---------------------------------------------------------------------------
// Bodies as text: JSON, plus number literals and nestings JSON.stringify cannot write

/** A piece of JSON text placed verbatim in the body (`1e309`, `-0`, a deep nesting). */
class RawJson {
  constructor(readonly text: string) {}
  toString() {
    return `Raw(${this.text.length > 40 ? `${this.text.slice(0, 40)}…` : this.text})`;
  }
}

function bodyText(value: unknown): string {
  const raws: string[] = [];
  const marker = `__raw_${crypto.randomUUID()}_`;
  const text = JSON.stringify(value, (_key, v) => {
    if (v instanceof RawJson) {
      raws.push(v.text);
      return `${marker}${raws.length - 1}`;
    }
    return v;
  });
  if (text === undefined) return "";
  return text.replace(new RegExp(`"${marker}(\\d+)"`, "g"), (_m, i: string) => raws[Number(i)]!);
}

const rawNumbers = fc
  .constantFrom(
    "1e309",
    "-1e309",
    "-0",
    "-0.0",
    "1e-400",
    "123456789012345678901234567890",
    "0.1e1",
    "1E2",
    "-9007199254740993",
  )
  .map((t) => new RawJson(t));

const deepNesting = fc
  .constantFrom(100, 1000, 20_000)
  .chain((depth) =>
    fc.constantFrom(`${"[".repeat(depth)}${"]".repeat(depth)}`, `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`),
  )
  .map((t) => new RawJson(t));

/** Lengths either side of the schemas' limits (64, 200, 500, 1000, 2048, 10 000, 20 000, 50 000) and past 1 MiB. */
const boundaryStrings = fc
  .constantFrom(
    0,
    1,
    16,
    63,
    64,
    65,
    199,
    200,
    201,
    499,
    500,
    501,
    1000,
    1001,
    2048,
    2049,
    10_001,
    20_001,
    50_001,
    1_100_000,
  )
  .chain((n) =>
    fc.constantFrom(
      "x".repeat(n),
      " ".repeat(n),
      "é".repeat(n),
      "💥".repeat(Math.ceil(n / 2)),
      `${"x".repeat(Math.max(0, n - 1))}\ud800`,
    ),
  );

const oddStrings = fc.constantFrom(
  "",
  " ",
  "\u0000",
  "\ud800",
  "a\udc00b",
  "\u202e\u202d",
  "null",
  "true",
  "0",
  "NaN",
  "Infinity",
  "__proto__",
  "'; DROP TABLE tasks; --",
  "%00",
  "../../etc/passwd",
  "<script>alert(1)</script>",
  "#3B82F6",
  "#zzzzzz",
  "2024-02-30",
  "0000-01-01",
  "9999-12-31T23:59:59-14:00",
  "0000-01-01T00:00:00+14:00",
  "2024-12-31T23:59:59Z",
  "2024-12-31T23:59:59",
  "-271821-04-20T00:00:00Z",
  "user@example.com",
  "a@b",
  "https://example.com/hook",
  "http://127.0.0.1:1/hook",
  "https://user:pass@example.com/",
  "https://[::1]/",
  "https://169.254.169.254/latest",
  "https://10.0.0.1/",
  "https://xn--e1afmkfd.xn--p1ai/",
  "https://例え.jp/",
  "javascript:alert(1)",
  "*",
  "task.created",
  "tasks:create",
  "10.0.0.0/8",
  "::/0",
  "203.0.113.0/33",
  "admin",
  "owner",
  "member",
  "read",
  "write",
  "done",
  "urgent",
);

const hostileKeys = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "", " ", "TITLE", "a.b", "0"),
);

const hostileValues: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  rawNumbers,
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  oddStrings,
  boundaryStrings,
  deepNesting,
  fc.array(fc.oneof(oddStrings, fc.integer(), fc.constant(null)), { maxLength: 60 }),
  fc.dictionary(hostileKeys, fc.oneof(oddStrings, fc.integer(), fc.constant(null)), { maxKeys: 4 }),
  fc.anything({ maxDepth: 3 }),
  // Objects that break String() and template literals if a message quotes them.
  fc.constantFrom({ toString: 0 }, { toString: 0, valueOf: 0 }, [{ toString: 0 }]),
);

type Body = Record<string, unknown>;

/** Every path into a valid body: its fields, fields of nested objects, array elements. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => [[...prefix, i], ...pathsOf(item, [...prefix, i])]);
  }
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
  }
  return [];
}

type Mutation =
  | { kind: "set"; pick: number; value: unknown }
  | { kind: "delete"; pick: number }
  | { kind: "add"; pick: number; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("set" as const), pick: fc.nat(), value: hostileValues }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("add" as const), pick: fc.nat(), key: hostileKeys, value: hostileValues }),
  },
);

/** The valid body with each mutation applied at a path chosen by `pick` (objects gain keys, arrays lose elements). */
function applyMutations(valid: Body, mutations: Mutation[]): Body {
  const body = structuredClone(valid);
  for (const m of mutations) {
    const paths = pathsOf(body);
    if (m.kind === "add") {
      const holders = [[], ...paths].filter((p) => {
        const target = p.reduce<any>((node, k) => node?.[k], body);
        return target && typeof target === "object" && !Array.isArray(target);
      });
      const holder = holders[m.pick % holders.length]!.reduce<any>((node, k) => node[k], body);
      Object.defineProperty(holder, m.key, {
        value: structuredClone(m.value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      continue;
    }
    if (paths.length === 0) continue;
    const path = paths[m.pick % paths.length]!;
    const parent = path.slice(0, -1).reduce<any>((node, k) => node?.[k], body);
    const last = path[path.length - 1]!;
    if (parent === null || typeof parent !== "object") continue;
    // A copy: generated values (and the shared hostile constants) must never be mutated in
    // place by a later mutation, or one run's body would leak into the next as a cycle.
    if (m.kind === "set") parent[last] = structuredClone(m.value);
    else if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  }
  return body;
}

/** A valid body with one or two fields set to values their schemas admit but the rules may refuse. */
function plausibly(valid: fc.Arbitrary<Body>, plausible: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Body> {
  const fields = Object.keys(plausible);
  const change = fc.constantFrom(...fields).chain((field) => plausible[field]!.map((value) => [field, value] as const));
  return fc
    .tuple(valid, fc.array(change, { minLength: 1, maxLength: 2 }))
    .map(([body, changes]) => ({ ...body, ...Object.fromEntries(changes) }));
}

/** What the fuzz sends: any value, a hostile object, a valid body, one the rules may refuse, or a mutated one. */
function bodies(f: Fuzzed): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.dictionary(hostileKeys, hostileValues, { maxKeys: 5 }) },
    { weight: 1, arbitrary: fc.object({ maxDepth: 2 }) },
    { weight: 1, arbitrary: f.valid },
    { weight: 3, arbitrary: plausibly(f.valid, f.plausible) },
    {
      weight: 5,
      arbitrary: fc
        .tuple(f.valid, fc.array(mutation, { minLength: 1, maxLength: 2 }))
        .map(([v, ms]) => applyMutations(v, ms)),
    },
  );
}

// ---------------------------------------------------------------------------
// The database, compared around every refused request

/**
 * Columns and tables written after the response or by the queue consumer, by design:
 * requests that were refused long ago, or earlier successful ones, may still touch them.
 */
const BACKGROUND_COLUMNS: Record<string, string[]> = {
  api_keys: ["last_used_at"], // authentication touches the key that was used, whatever the answer
  incoming_webhooks: ["last_used_at"],
  events: ["enqueued_at"], // marked after the queue send of an earlier, successful write
  // Delivery outcomes, recorded by the consumer for events of earlier writes (organization setup included).
  webhooks: ["last_triggered_at", "consecutive_failures", "delivered_count", "failed_count"],
};
const BACKGROUND_TABLES = ["deliveries", "delivery_attempts"];

/** One statement that reads the whole state: per table, its row count and every row as text, sorted. */
let snapshotSql = "";
let snapshotTables: string[] = [];

async function prepareSnapshot(): Promise<void> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations' ORDER BY name",
  ).all<{ name: string }>();
  const parts: string[] = [];
  snapshotTables = [];
  for (const { name } of tables.results) {
    if (BACKGROUND_TABLES.includes(name)) continue;
    const info = await env.DB.prepare(`PRAGMA table_info("${name}")`).all<{ name: string }>();
    const columns = info.results.map((c) => c.name).filter((c) => !(BACKGROUND_COLUMNS[name] ?? []).includes(c));
    const row = columns.map((c) => `quote("${c}")`).join(" || ',' || ");
    const where =
      name === "organizations"
        ? " WHERE id = ?1"
        : info.results.some((c) => c.name === "org_id")
          ? " WHERE org_id = ?1"
          : "";
    parts.push(
      `(SELECT count(*) || ':' || coalesce(group_concat(r, char(10) ORDER BY r), '') FROM (SELECT ${row} AS r FROM "${name}"${where}))`,
    );
    snapshotTables.push(name);
  }
  snapshotSql = `SELECT ${parts.map((p, i) => `${p} AS t${i}`).join(", ")}`;
}

/** Every row of the organization (and of the tables without an organization), per table. */
async function snapshot(orgId: string): Promise<Record<string, string>> {
  const row = await env.DB.prepare(snapshotSql).bind(orgId).first<Record<string, string>>();
  if (!row) throw new Error("snapshot read nothing");
  return Object.fromEntries(snapshotTables.map((t, i) => [t, row[`t${i}`] ?? ""]));
}

function changedTables(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys(before).filter((t) => before[t] !== after[t]);
}

// ---------------------------------------------------------------------------
// Endpoints

interface Target {
  name: string;
  method: string;
  path: string;
}

interface FuzzOrg {
  org: TestOrg;
  /** Admin keys handed out in turn, so that no key reaches its burst limit. */
  keys: string[];
  uses: number;
  /** The state after the last refused request, which the next request starts from (nothing ran in between). */
  state?: Record<string, string>;
}

/** Below the enterprise burst of 500 a minute per key, with room for the harness's own calls. */
const REQUESTS_PER_KEY = 300;

async function keyFor(f: FuzzOrg): Promise<string> {
  f.uses += 1;
  if (f.uses > REQUESTS_PER_KEY * f.keys.length) {
    const res = await call("POST", "/v1/api-keys", {
      key: f.keys[f.keys.length - 1],
      body: { name: `fuzz ${f.keys.length}`, scope: "admin" },
    });
    if (res.status !== 201) throw new Error(`fuzz key create failed: ${res.status} ${JSON.stringify(res.body)}`);
    f.keys.push(res.body.key);
    f.state = undefined;
  }
  return f.keys[f.keys.length - 1]!;
}

function describeResponse(res: ApiResponse): string {
  return `${res.status} ${JSON.stringify(res.body)?.slice(0, 300)}`;
}

function preview(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text;
}

/** One request; throws unless the answer is a success or a well-formed refusal that changed nothing. */
async function probe(f: FuzzOrg, target: Target, body: unknown, idempotencyKey: string | null): Promise<number> {
  const key = await keyFor(f);
  const text = bodyText(body);
  const before = f.state ?? (await snapshot(f.org.id));
  f.state = undefined;
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (idempotencyKey && target.method === "POST") headers["Idempotency-Key"] = idempotencyKey;
  const res = await call(target.method, target.path, { key, rawBody: text, headers });

  const context = `${target.name}${headers["Idempotency-Key"] ? " (with an Idempotency-Key)" : ""} with ${preview(text)}`;
  if (res.status >= 500) throw new Error(`${context}: ${describeResponse(res)}`);
  if (res.status === 429) throw new Error(`${context}: rate limited; the fuzz must stay under the key's burst limit`);
  if (res.status >= 400) {
    const error = res.body?.error;
    const code = error?.code as keyof typeof ERROR_STATUS | undefined;
    const shaped =
      code !== undefined &&
      ERROR_STATUS[code] === res.status &&
      typeof error.message === "string" &&
      typeof error.requestId === "string" &&
      res.headers.get("X-Request-Id") === error.requestId;
    if (!shaped) throw new Error(`${context}: error body not in the spec's shape: ${describeResponse(res)}`);
    const after = await snapshot(f.org.id);
    const changed = changedTables(before, after);
    f.state = after;
    if (changed.length > 0) {
      throw new Error(`${context}: refused with ${describeResponse(res)} but changed ${changed.join(", ")}`);
    }
  } else if (res.status !== 200 && res.status !== 201) {
    throw new Error(`${context}: unexpected ${describeResponse(res)}`);
  }
  return res.status;
}

interface Fuzzed {
  /** The path, with the ids of resources made for the endpoint. */
  path: string;
  /** Bodies the endpoint accepts. */
  valid: fc.Arbitrary<Body>;
  /** Per field, values its schema admits that the endpoint's rules may still refuse (unknown ids, taken emails, ...). */
  plausible: Record<string, fc.Arbitrary<unknown>>;
}

interface TargetSpec {
  name: string;
  numRuns: number;
  /** Makes what the endpoint needs in the organization. */
  build: (org: TestOrg) => Promise<Fuzzed>;
}

const UNKNOWN = { project: "proj_00000000000000000000", user: "user_00000000000000000000" };
const futureInstants = fc.constantFrom("2030-01-01", "2030-06-15T12:00:00Z", "2099-12-31T23:59:59+02:00");
const edgeInstants = fc.constantFrom(
  "0000-01-01",
  "0000-01-01T00:00:00-14:00",
  "9999-12-31",
  "9999-12-31T23:59:59-14:00",
  "2024-02-29",
  "2020-01-01T00:00:00Z",
);
const edgeStrings = (max: number) => fc.constantFrom("x".repeat(max), "💥".repeat(Math.floor(max / 2)), "  x  ", "é");

const webhookPlausible = {
  url: fc.constantFrom(
    "https://10.0.0.1/hook",
    "https://169.254.169.254/latest",
    "https://[::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://user:pass@example.com/",
    "http://example.com/",
    "ftp://example.com/",
    "https://0x7f000001/",
    "https://2130706433/",
    "https://intranet/",
    "https://printer.local/",
    "https://example.com:99999/",
    "not a url",
  ),
  filters: fc.constantFrom({ projectId: UNKNOWN.project }, { assigneeId: UNKNOWN.user }, {}),
  secret: fc.constantFrom("0123456789abcde", "x".repeat(256), "x".repeat(257)),
  events: fc.constantFrom(["*", "task.created"], ["task.created", "task.created"]),
};

const incomingPlausible = {
  ipAllowlist: fc.constantFrom(
    ["not-an-ip"],
    ["10.0.0.0/33"],
    ["::1"],
    ["1.2.3.4/0"],
    ["2001:db8::/129"],
    ["010.1.1.1"],
    Array.from({ length: 100 }, (_, i) => `10.0.${i}.0/24`),
  ),
  permissions: fc.constantFrom(["tasks:create", "tasks:create"]),
  name: edgeStrings(200),
};

async function archivedProject(org: TestOrg) {
  return makeProject(org, { name: "Archived", archived: true });
}

/**
 * Each endpoint is fuzzed in an organization of its own, so that successful writes to
 * one (and the events they cause) never run beside another's refused ones.
 */
const TARGETS: TargetSpec[] = [
  {
    name: "POST /v1/projects",
    numRuns: 200,
    build: async () => ({
      path: "/v1/projects",
      valid: fc.record({
        name: fc.constantFrom("Fuzz", "Ünïcødé 🚀"),
        description: fc.constantFrom("d", null),
        icon: fc.constantFrom("🚀", null),
        color: fc.constantFrom("#3B82F6", null),
        archived: fc.boolean(),
      }),
      plausible: { name: edgeStrings(200), description: edgeStrings(10_000), icon: edgeStrings(64) },
    }),
  },
  {
    name: "PATCH /v1/projects/{id}",
    numRuns: 200,
    build: async (org) => {
      const project = await makeProject(org);
      return {
        path: `/v1/projects/${project.id}`,
        valid: fc.record(
          {
            name: fc.constant("Renamed"),
            description: fc.constantFrom("d", null),
            icon: fc.constant(null),
            color: fc.constant("#000000"),
            archived: fc.boolean(),
          },
          { requiredKeys: [] },
        ),
        plausible: { name: edgeStrings(200), color: fc.constantFrom("#ABCDEF", "#abcdef") },
      };
    },
  },
  {
    name: "POST /v1/tasks",
    numRuns: 250,
    build: async (org) => {
      const project = await makeProject(org);
      const archived = await archivedProject(org);
      return {
        path: "/v1/tasks",
        valid: fc.record({
          title: fc.constantFrom("Fuzz task", "💥"),
          description: fc.constantFrom("d", null),
          status: fc.constantFrom("todo", "in_progress", "done"),
          priority: fc.constantFrom("low", "medium", "high", "urgent"),
          projectId: fc.constant(project.id),
          assigneeId: fc.constantFrom(org.member.id, null),
          dueDate: fc.option(futureInstants),
          tags: fc.constantFrom([], ["a", "b", "a"]),
        }),
        plausible: {
          projectId: fc.constantFrom(archived.id, UNKNOWN.project, org.member.id),
          assigneeId: fc.constantFrom(UNKNOWN.user, org.owner.id, project.id),
          dueDate: edgeInstants,
          title: edgeStrings(500),
          tags: fc.constantFrom(
            Array.from({ length: 20 }, (_, i) => `t${i}`),
            ["x".repeat(50)],
            [" a ", "a"],
          ),
        },
      };
    },
  },
  {
    name: "PATCH /v1/tasks/{id}",
    numRuns: 250,
    build: async (org) => {
      const project = await makeProject(org);
      const other = await makeProject(org, { name: "Other" });
      const archived = await archivedProject(org);
      const task = await makeTask(org, project.id);
      return {
        path: `/v1/tasks/${task.id}`,
        valid: fc.record(
          {
            title: fc.constant("Renamed"),
            description: fc.constant(null),
            status: fc.constantFrom("todo", "in_progress", "done"),
            priority: fc.constantFrom("low", "urgent"),
            projectId: fc.constantFrom(project.id, other.id),
            assigneeId: fc.constantFrom(org.member.id, null),
            dueDate: fc.option(futureInstants),
            tags: fc.constantFrom([], ["x"]),
          },
          { requiredKeys: [] },
        ),
        plausible: {
          projectId: fc.constantFrom(archived.id, UNKNOWN.project),
          assigneeId: fc.constantFrom(UNKNOWN.user, org.owner.id),
          dueDate: edgeInstants,
          title: edgeStrings(500),
        },
      };
    },
  },
  {
    name: "POST /v1/tasks/{taskId}/comments",
    numRuns: 200,
    build: async (org) => {
      const task = await makeTask(org, (await makeProject(org)).id);
      return {
        path: `/v1/tasks/${task.id}/comments`,
        valid: fc.record({ content: fc.constantFrom("Hi", "👋"), mentions: fc.constantFrom([], [org.member.id]) }),
        plausible: {
          mentions: fc.constantFrom([UNKNOWN.user], [org.owner.id, org.member.id, org.owner.id], [task.id]),
          content: edgeStrings(20_000),
        },
      };
    },
  },
  {
    name: "PATCH /v1/comments/{id}",
    numRuns: 200,
    build: async (org) => {
      const task = await makeTask(org, (await makeProject(org)).id);
      const comment = await makeComment(org, task.id);
      return {
        path: `/v1/comments/${comment.id}`,
        valid: fc.record(
          { content: fc.constant("Edited"), mentions: fc.constantFrom([], [org.member.id]) },
          { requiredKeys: [] },
        ),
        plausible: { mentions: fc.constantFrom([UNKNOWN.user], [org.owner.id]), content: edgeStrings(20_000) },
      };
    },
  },
  {
    name: "POST /v1/users",
    numRuns: 200,
    build: async (org) => ({
      path: "/v1/users",
      valid: fc.record({
        name: fc.constant("Fuzz Member"),
        email: fc.uuid().map((u) => `${u}@example.com`),
        role: fc.constantFrom("member", "admin"),
      }),
      plausible: {
        email: fc.constantFrom(
          org.owner.email,
          org.member.email,
          org.member.email.toUpperCase(),
          ` ${org.member.email}`,
        ),
        name: edgeStrings(200),
      },
    }),
  },
  {
    name: "PATCH /v1/users/{id}",
    numRuns: 200,
    build: async (org) => {
      const target = await call("POST", "/v1/users", {
        key: org.keys.admin,
        body: { name: "Target", email: `target-${crypto.randomUUID()}@example.com` },
      });
      return {
        path: `/v1/users/${target.body.id}`,
        valid: fc.record(
          { name: fc.constant("Renamed"), role: fc.constantFrom("member", "admin") },
          { requiredKeys: [] },
        ),
        plausible: { role: fc.constantFrom("owner", "admin", "member"), name: edgeStrings(200) },
      };
    },
  },
  {
    name: "POST /v1/webhooks",
    numRuns: 200,
    build: async () => ({
      path: "/v1/webhooks",
      valid: fc.record({
        url: fc.constant(receiverEndpoint("fuzz").url),
        events: fc.constantFrom(["task.created"], ["*"], ["project.created", "comment.deleted"]),
        secret: fc.constant("0123456789abcdef0123"),
        description: fc.constantFrom("d", null),
        enabled: fc.boolean(),
        filters: fc.constantFrom(null, { projectId: null, assigneeId: null }),
      }),
      plausible: webhookPlausible,
    }),
  },
  {
    name: "PATCH /v1/webhooks/{id}",
    numRuns: 200,
    build: async (org) => {
      const webhook = await createWebhook(org, { url: receiverEndpoint("fuzz").url, events: ["task.created"] });
      return {
        path: `/v1/webhooks/${webhook.id}`,
        valid: fc.record(
          {
            url: fc.constant(receiverEndpoint("fuzz").url),
            events: fc.constantFrom(["*"], ["task.updated"]),
            description: fc.constantFrom("d", null),
            enabled: fc.boolean(),
            filters: fc.constantFrom(null, { projectId: null }),
          },
          { requiredKeys: [] },
        ),
        plausible: webhookPlausible,
      };
    },
  },
  {
    name: "POST /v1/api-keys",
    numRuns: 200,
    build: async (org) => ({
      path: "/v1/api-keys",
      valid: fc.record(
        {
          name: fc.constant("Fuzz key"),
          scope: fc.constantFrom("read", "write", "admin"),
          expiresAt: fc.constantFrom("2099-01-01T00:00:00Z", "2099-01-01"),
          userId: fc.constantFrom(org.member.id, org.owner.id),
        },
        { requiredKeys: ["name", "scope"] },
      ),
      plausible: {
        userId: fc.constantFrom(UNKNOWN.user, org.owner.id, org.keyIds.read),
        expiresAt: edgeInstants,
        scope: fc.constantFrom("admin", "write"),
      },
    }),
  },
  {
    name: "POST /v1/incoming-webhooks",
    numRuns: 200,
    build: async () => ({
      path: "/v1/incoming-webhooks",
      valid: fc.record({
        name: fc.constant("Fuzz credential"),
        permissions: fc.constantFrom(["tasks:create"], ["projects:update", "comments:create"]),
        ipAllowlist: fc.constantFrom([], ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"]),
        enabled: fc.boolean(),
      }),
      plausible: incomingPlausible,
    }),
  },
  {
    name: "PATCH /v1/incoming-webhooks/{id}",
    numRuns: 200,
    build: async (org) => {
      const created = await call("POST", "/v1/incoming-webhooks", {
        key: org.keys.admin,
        body: { name: "Target", permissions: ["tasks:create"] },
      });
      return {
        path: `/v1/incoming-webhooks/${created.body.id}`,
        valid: fc.record(
          {
            name: fc.constant("Renamed"),
            permissions: fc.constantFrom(["tasks:update"], ["tasks:create", "comments:create"]),
            ipAllowlist: fc.constantFrom([], ["10.0.0.0/8"]),
            enabled: fc.boolean(),
          },
          { requiredKeys: [] },
        ),
        plausible: incomingPlausible,
      };
    },
  },
];

/** Bodies that once answered 5xx or changed the database: each run tries them first. */
const REGRESSIONS: Record<string, unknown[]> = {
  // String() of the rejected value inside the enum's error message: a deep array overflowed the stack,
  // an object whose toString is no function threw a TypeError (both 500).
  "POST /v1/webhooks": [
    { url: "https://example.com/hook", events: new RawJson(`${"[".repeat(20_000)}${"]".repeat(20_000)}`) },
    { url: "https://example.com/hook", events: [{ toString: 1 }] },
  ],
  "PATCH /v1/webhooks/{id}": [{ events: [{ toString: 1 }] }, { events: [[["task.created"]]] }],
};

/**
 * Documented writes with a body that are not fuzzed here, and why. The first test below
 * fails when a new documented write is neither fuzzed nor listed.
 */
const NOT_FUZZED: Record<string, string> = {
  "POST /v1/admin/organizations": "operator endpoint: creates organizations, outside any one organization's rows",
  "PATCH /v1/admin/organizations/{id}": "operator endpoint: one enum field (plan)",
  "POST /v1/api-keys/{id}/rotate": "one integer field; a success revokes the key being rotated",
  "POST /v1/webhooks/{id}/rotate-secret": "one pattern-checked string field",
  "POST /v1/webhooks/{id}/test": "one enum field; a success sends an HTTP request",
  "POST /v1/webhooks/incoming/tasks": "same body schema as POST /v1/tasks; credentials allow 100 requests a minute",
  "PATCH /v1/webhooks/incoming/tasks/{id}": "same body schema as PATCH /v1/tasks/{id}",
  "POST /v1/webhooks/incoming/projects": "same body schema as POST /v1/projects",
  "PATCH /v1/webhooks/incoming/projects/{id}": "same body schema as PATCH /v1/projects/{id}",
  "POST /v1/webhooks/incoming/tasks/{taskId}/comments": "same body schema as POST /v1/tasks/{taskId}/comments",
};

beforeAll(async () => {
  await prepareSnapshot();
});

describe("fuzz: request bodies of the write endpoints", () => {
  it("fuzzes every documented write with a body, or says why not", async () => {
    const doc = (await call("GET", "/openapi.json")).body as {
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    };
    const writes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([method, op]) => (method === "post" || method === "patch") && op.requestBody)
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    const fuzzed = TARGETS.map((t) => t.name);
    expect(writes.filter((w) => !fuzzed.includes(w) && !NOT_FUZZED[w])).toEqual([]);
    expect(
      [...fuzzed, ...Object.keys(NOT_FUZZED)].filter((w) => !writes.includes(w)),
      "stale entries",
    ).toEqual([]);
  });

  for (const spec of TARGETS) {
    it(`${spec.name}: ${spec.numRuns} generated bodies, no 5xx, spec error bodies, no change from a refused one`, async () => {
      const org = await createOrg();
      const f: FuzzOrg = { org, keys: [org.keys.admin], uses: 0 };
      const fuzzed = await spec.build(org);
      const target: Target = { name: spec.name, method: spec.name.split(" ")[0]!, path: fuzzed.path };
      const statuses: Record<number, number> = {};
      await fc.assert(
        fc.asyncProperty(bodies(fuzzed), fc.option(fc.uuid(), { freq: 4 }), async (body, idempotencyKey) => {
          const status = await probe(f, target, body, idempotencyKey);
          statuses[status] = (statuses[status] ?? 0) + 1;
        }),
        { numRuns: spec.numRuns, examples: (REGRESSIONS[spec.name] ?? []).map((body) => [body, null]) },
      );
      console.log(JSON.stringify({ fuzz: spec.name, statuses }));
      // A fuzz that never gets past validation would only test the validator.
      expect(
        statuses[200] ?? statuses[201],
        `${spec.name} never succeeded: ${JSON.stringify(statuses)}`,
      ).toBeGreaterThan(0);
    }, 180_000);
  }
});
