import { describe, expect, it } from "vitest";
import type { CreatedApiKey, CreatedIncomingWebhook, OpenApiDocument } from "./api-types";
import { makeAttachment, makeComment, makeProject, makeTask } from "./fixtures";
import { call, createOrg, expectError, type TestOrg } from "./harness";
import { addMember, createWebhook, HOOK_URL } from "./webhook-helpers";

/** Every DELETE route, with a builder making one resource it can delete and the key allowed to. */
const DELETABLE: {
  name: string;
  path: (id: string) => string;
  make: (org: TestOrg) => Promise<string>;
  /** Revoking a revoked key stays a success: the key is listed, revoked, not gone. */
  repeatable?: boolean;
}[] = [
  {
    name: "task",
    path: (id) => `/v1/tasks/${id}`,
    make: async (org) => (await makeTask(org, (await makeProject(org)).id)).id,
  },
  { name: "project", path: (id) => `/v1/projects/${id}`, make: async (org) => (await makeProject(org)).id },
  {
    name: "comment",
    path: (id) => `/v1/comments/${id}`,
    make: async (org) => (await makeComment(org, (await makeTask(org, (await makeProject(org)).id)).id)).id,
  },
  {
    name: "attachment",
    path: (id) => `/v1/attachments/${id}`,
    make: async (org) => (await makeAttachment(org, (await makeTask(org, (await makeProject(org)).id)).id)).id,
  },
  { name: "member", path: (id) => `/v1/users/${id}`, make: async (org) => (await addMember(org)).id },
  {
    name: "API key",
    path: (id) => `/v1/api-keys/${id}`,
    repeatable: true,
    make: async (org) =>
      (await call<CreatedApiKey>("POST", "/v1/api-keys", { key: org.keys.admin, body: { name: "CI", scope: "read" } }))
        .body.id,
  },
  {
    name: "webhook",
    path: (id) => `/v1/webhooks/${id}`,
    make: async (org) => (await createWebhook(org, { url: HOOK_URL, events: ["task.created"] })).id,
  },
  {
    name: "incoming webhook",
    path: (id) => `/v1/incoming-webhooks/${id}`,
    make: async (org) =>
      (
        await call<CreatedIncomingWebhook>("POST", "/v1/incoming-webhooks", {
          key: org.keys.admin,
          body: { name: "n8n", permissions: ["tasks:create"] },
        })
      ).body.id,
  },
];

describe("DELETE answers", () => {
  for (const route of DELETABLE) {
    it(`${route.name}: 200 {id, deleted: true}, or 204 without a body under Prefer: return=minimal`, async () => {
      const org = await createOrg();
      const first = await route.make(org);
      const res = await call("DELETE", route.path(first), { key: org.keys.admin });
      expect(res.status).toBe(200);
      expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
      expect(res.body).toEqual({ id: first, deleted: true });
      // Gone: a second DELETE is a 404, not another 200.
      if (!route.repeatable) {
        expectError(await call("DELETE", route.path(first), { key: org.keys.admin }), 404, "NOT_FOUND");
      }

      const second = await route.make(org);
      const minimal = await call("DELETE", route.path(second), {
        key: org.keys.admin,
        headers: { Prefer: "respond-async, RETURN=minimal" },
      });
      expect(minimal.status).toBe(204);
      expect(minimal.body).toBeNull();
      expect(minimal.headers.get("Preference-Applied")).toBe("return=minimal");
      if (!route.repeatable) {
        expectError(await call("DELETE", route.path(second), { key: org.keys.admin }), 404, "NOT_FOUND");
      }
    });
  }

  it("keeps If-Match: a stale ETag is 412 and deletes nothing, in either form", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const task = await makeTask(org, project.id);
    for (const prefer of [undefined, "return=minimal"]) {
      const headers: Record<string, string> = { "If-Match": '"stale"', ...(prefer ? { Prefer: prefer } : {}) };
      expectError(
        await call("DELETE", `/v1/tasks/${task.id}`, { key: org.keys.write, headers }),
        412,
        "PRECONDITION_FAILED",
      );
    }
    expect((await call("GET", `/v1/tasks/${task.id}`, { key: org.keys.read })).status).toBe(200);
  });

  it("other preferences (return=representation, unknown ones) get the 200 body", async () => {
    const org = await createOrg();
    for (const prefer of ["return=representation", "handling=strict", "return-minimal", ""]) {
      const project = await makeProject(org);
      const res = await call("DELETE", `/v1/projects/${project.id}`, {
        key: org.keys.write,
        headers: { Prefer: prefer },
      });
      expect(res.status, prefer).toBe(200);
      expect(res.body, prefer).toEqual({ id: project.id, deleted: true });
    }
  });

  it("documents both answers and the Prefer header on every DELETE operation, with the shared Deleted schema", async () => {
    const { body: doc } = await call<OpenApiDocument>("GET", "/openapi.json");
    expect(doc.components.schemas.Deleted).toMatchObject({
      type: "object",
      properties: { id: { type: "string" }, deleted: { type: "boolean", enum: [true] } },
      required: ["id", "deleted"],
    });
    const deletes = Object.entries(doc.paths).flatMap(([path, ops]) => (ops.delete ? [{ path, op: ops.delete }] : []));
    expect(deletes.length).toBe(DELETABLE.length);
    for (const { path, op } of deletes) {
      expect(op.responses?.["200"], path).toMatchObject({
        content: { "application/json": { schema: { $ref: "#/components/schemas/Deleted" } } },
      });
      expect(op.responses?.["204"], path).toMatchObject({ description: expect.stringContaining("return=minimal") });
      expect(
        op.parameters?.find((p) => p.in === "header" && p.name === "prefer"),
        path,
      ).toBeDefined();
    }
  });
});
