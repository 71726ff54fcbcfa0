import fc from "fast-check";
import type { CreatedIncomingWebhook, User } from "../api-types";
import { makeComment, makeProject, makeTask } from "../fixtures";
import { call, type TestOrg } from "../harness";
import { createWebhook, receiverEndpoint } from "../webhook-helpers";
import { insertDelivery, insertEvent } from "../webhook-queue";
import { type Fuzzed, RawJson } from "./arbitraries";

// ---------------------------------------------------------------------------
// Endpoints

export interface TargetSpec {
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
export const TARGETS: TargetSpec[] = [
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
      const target = await call<User>("POST", "/v1/users", {
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
        signatureScheme: fc.constantFrom("hmac-sha256", "ed25519", "rsa-sha256"),
      }),
      plausible: { ...webhookPlausible, signatureScheme: fc.constantFrom("ed448", "HMAC-SHA256", "") },
    }),
  },
  {
    name: "POST /v1/webhooks/signing-keys/rotate",
    numRuns: 60,
    build: async () => ({
      path: "/v1/webhooks/signing-keys/rotate",
      valid: fc.record({ algorithm: fc.constantFrom("ed25519", "rsa-sha256") }),
      plausible: { algorithm: fc.constantFrom("hmac-sha256", "Ed25519", "rsa", "", null) },
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
    name: "POST /v1/webhooks/{id}/recover",
    numRuns: 100,
    build: async (org) => {
      const webhook = await createWebhook(org, { url: receiverEndpoint("fuzz").url, events: ["member.added"] });
      await insertDelivery(org, webhook.id, await insertEvent(org, "member.added", { id: org.member.id }), "failed");
      const ago = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();
      return {
        path: `/v1/webhooks/${webhook.id}/recover`,
        valid: fc.record(
          { since: fc.constantFrom(ago(2), ago(24 * 7)), until: fc.constantFrom(ago(1), ago(0.5)) },
          { requiredKeys: ["since"] },
        ),
        plausible: {
          since: fc.oneof(edgeInstants, futureInstants, fc.constant(ago(24 * 40))),
          until: fc.oneof(edgeInstants, futureInstants, fc.constant(ago(3))),
        },
      };
    },
  },
  {
    name: "POST /v1/api-keys",
    numRuns: 200,
    build: async (org) => ({
      path: "/v1/api-keys",
      // A scope or a list of permissions: each valid alone, refused together.
      valid: fc.oneof(
        fc.record(
          {
            name: fc.constant("Fuzz key"),
            scope: fc.constantFrom("read", "write", "admin"),
            expiresAt: fc.constantFrom("2099-01-01T00:00:00Z", "2099-01-01"),
            userId: fc.constantFrom(org.member.id, org.owner.id),
          },
          { requiredKeys: ["name", "scope"] },
        ),
        fc.record(
          {
            name: fc.constant("Fuzz key"),
            permissions: fc.subarray(["tasks:read", "tasks:write", "members:read", "keys:write", "webhooks:write"], {
              minLength: 1,
            }),
            expiresAt: fc.constantFrom("2099-01-01T00:00:00Z", "2099-01-01"),
            userId: fc.constantFrom(org.member.id, org.owner.id),
          },
          { requiredKeys: ["name", "permissions"] },
        ),
      ),
      plausible: {
        userId: fc.constantFrom(UNKNOWN.user, org.owner.id, org.keyIds.read),
        expiresAt: edgeInstants,
        scope: fc.constantFrom("admin", "write"),
        permissions: fc.constantFrom(["webhooks:write"], ["tasks:read", "tasks:read"], ["incoming:write", "keys:read"]),
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
      const created = await call<CreatedIncomingWebhook>("POST", "/v1/incoming-webhooks", {
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
export const REGRESSIONS: Record<string, unknown[]> = {
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
export const NOT_FUZZED: Record<string, string> = {
  "POST /v1/admin/organizations": "operator endpoint: creates organizations, outside any one organization's rows",
  "PATCH /v1/admin/organizations/{id}": "operator endpoint: one enum field (plan)",
  "POST /v1/api-keys/{id}/rotate": "one integer field; a success revokes the key being rotated",
  "POST /v1/webhooks/{id}/rotate-secret": "one pattern-checked string field",
  "POST /v1/webhooks/{id}/test": "one enum field; a success sends an HTTP request",
  "POST /v1/tasks/{taskId}/attachments":
    "the body is a file's bytes, not JSON: names, media types, multipart framing and sizes are tested in test/attachments.test.ts",
  "POST /v1/webhooks/incoming/tasks": "same body schema as POST /v1/tasks; credentials allow 100 requests a minute",
  "PATCH /v1/webhooks/incoming/tasks/{id}": "same body schema as PATCH /v1/tasks/{id}",
  "POST /v1/webhooks/incoming/projects": "same body schema as POST /v1/projects",
  "PATCH /v1/webhooks/incoming/projects/{id}": "same body schema as PATCH /v1/projects/{id}",
  "POST /v1/webhooks/incoming/tasks/{taskId}/comments": "same body schema as POST /v1/tasks/{taskId}/comments",
};
