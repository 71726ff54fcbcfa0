import { describe, expect, it } from "vitest";
import type { OpenApiDocument, Page, Project, Task } from "./api-types";
import { makeProject, makeTask } from "./fixtures";
import { type ApiResponse, call, createOrg, expectError } from "./harness";

// Locally D1 has no replicas, so these tests prove the protocol rather than the latency:
// every answer that reached the database carries a bookmark, a request carrying one is
// served from a session continued from it, and a bad one is refused before D1 sees it.

const HEADER = "X-Verk-Bookmark";
/** D1's bookmark shape: four dash-separated lower-case hex fields. */
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;
/** A well-formed bookmark ahead of anything the local database has committed. */
const AHEAD = `00000000-7fffffff-00000000-${"0".repeat(32)}`;

function bookmarkOf(res: ApiResponse): string {
  const bookmark = res.headers.get(HEADER);
  if (bookmark === null) throw new Error(`no ${HEADER} on ${res.status} ${JSON.stringify(res.body)}`);
  expect(bookmark).toMatch(BOOKMARK);
  return bookmark;
}

/** Bookmarks sort in commit order (D1's glossary): `a` saw at least what `b` saw. */
function expectAtLeast(a: string, b: string): void {
  expect(a >= b, `${a} is older than ${b}`).toBe(true);
}

describe("read-your-writes: the bookmark on writes", () => {
  it("create, update and delete each answer a bookmark, later ones never older", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const created = await call<Task>("POST", "/v1/tasks", {
      key: org.keys.write,
      body: { title: "Bookmarked", projectId: project.id },
    });
    expect(created.status).toBe(201);
    const afterCreate = bookmarkOf(created);

    const updated = await call<Task>("PATCH", `/v1/tasks/${created.body.id}`, {
      key: org.keys.write,
      body: { title: "Renamed" },
    });
    expect(updated.status).toBe(200);
    const afterUpdate = bookmarkOf(updated);
    expectAtLeast(afterUpdate, afterCreate);

    const deleted = await call("DELETE", `/v1/tasks/${created.body.id}`, { key: org.keys.write });
    expect(deleted.status).toBe(200);
    expectAtLeast(bookmarkOf(deleted), afterUpdate);
  });

  it("a refused write that reached the database answers one too (404, 412)", async () => {
    const org = await createOrg();
    const task = await makeTask(org, (await makeProject(org)).id);
    const missing = await call("PATCH", "/v1/tasks/task_00000000000000000000", {
      key: org.keys.write,
      body: { title: "x" },
    });
    expectError(missing, 404, "NOT_FOUND");
    bookmarkOf(missing);
    const stale = await call("PATCH", `/v1/tasks/${task.id}`, {
      key: org.keys.write,
      body: { title: "x" },
      headers: { "If-Match": '"not-the-version"' },
    });
    expectError(stale, 412, "PRECONDITION_FAILED");
    bookmarkOf(stale);
  });

  it("an Idempotency-Key replay answers a bookmark at least as recent as the first answer's", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const send = () =>
      call<Task>("POST", "/v1/tasks", {
        key: org.keys.write,
        body: { title: "Once", projectId: project.id },
        headers: { "Idempotency-Key": "ryw-replay" },
      });
    const first = await send();
    expect(first.status).toBe(201);
    const replay = await send();
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expectAtLeast(bookmarkOf(replay), bookmarkOf(first));
  });
});

describe("read-your-writes: reads", () => {
  it("a read sent with a write's bookmark sees that write, by id and in lists", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const created = await call<Task>("POST", "/v1/tasks", {
      key: org.keys.write,
      body: { title: "Just written", projectId: project.id },
    });
    const written = bookmarkOf(created);

    const one = await call<Task>("GET", `/v1/tasks/${created.body.id}`, {
      key: org.keys.read,
      headers: { [HEADER]: written },
    });
    expect(one.status).toBe(200);
    expect(one.body.title).toBe("Just written");
    expectAtLeast(bookmarkOf(one), written);

    const renamed = await call<Task>("PATCH", `/v1/tasks/${created.body.id}`, {
      key: org.keys.write,
      body: { title: "Renamed at once" },
      headers: { [HEADER]: bookmarkOf(one) },
    });
    const list = await call<Page<Task>>("GET", `/v1/tasks?projectId=${project.id}`, {
      key: org.keys.read,
      headers: { [HEADER]: bookmarkOf(renamed) },
    });
    expect(list.status).toBe(200);
    expect(list.body.data.map((t) => t.title)).toEqual(["Renamed at once"]);
    expectAtLeast(bookmarkOf(list), bookmarkOf(renamed));
  });

  it("a read without a bookmark works, and answers one to continue from", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const res = await call<Project>("GET", `/v1/projects/${project.id}`, { key: org.keys.read });
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(project.id);
    bookmarkOf(res);
  });

  it("a read continues from the client's bookmark: what it answers is never older than what it was sent", async () => {
    // Locally every read sees the latest commit, so only a bookmark ahead of the
    // database shows the session started from it (a fresh session would answer less).
    const org = await createOrg();
    const res = await call("GET", "/v1/users/me", { key: org.keys.read, headers: { [HEADER]: AHEAD } });
    expect(res.status).toBe(200);
    expectAtLeast(bookmarkOf(res), AHEAD);
  });

  it("a write starts on the primary, whatever bookmark it carries", async () => {
    // The primary is never behind a bookmark D1 issued; its answer is its own position.
    const org = await createOrg();
    const res = await call<Project>("POST", "/v1/projects", {
      key: org.keys.write,
      body: { name: "On the primary" },
      headers: { [HEADER]: AHEAD },
    });
    expect(res.status).toBe(201);
    expect(bookmarkOf(res) < AHEAD).toBe(true);
  });

  it("/health, which never touches storage, answers no bookmark", async () => {
    const res = await call("GET", "/health");
    expect(res.status).toBe(200);
    expect(res.headers.get(HEADER)).toBeNull();
  });
});

describe("read-your-writes: a malformed bookmark", () => {
  const MALFORMED = [
    "garbage",
    "zzzzzzzz-zzzzzzzz-zzzzzzzz-zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
    AHEAD.toUpperCase().replace(/^0/, "A"),
    `${AHEAD}-0`,
    AHEAD.slice(1),
    "first-primary",
    "first-unconstrained",
  ];

  it("is a 400 naming the header, on reads", async () => {
    const org = await createOrg();
    for (const bad of MALFORMED) {
      const res = await call("GET", "/v1/tasks", { key: org.keys.read, headers: { [HEADER]: bad } });
      expectError(res, 400, "VALIDATION_ERROR", HEADER);
      expect(res.headers.get(HEADER), bad).toBeNull();
    }
  });

  it("is a 400 on writes, and nothing is written", async () => {
    const org = await createOrg();
    const res = await call("POST", "/v1/projects", {
      key: org.keys.write,
      body: { name: "Never" },
      headers: { [HEADER]: "garbage" },
    });
    expectError(res, 400, "VALIDATION_ERROR", HEADER);
    const list = await call<Page<Project>>("GET", "/v1/projects", { key: org.keys.read });
    expect(list.body.data.map((p) => p.name)).not.toContain("Never");
  });

  it("an empty header counts as none", async () => {
    const org = await createOrg();
    const res = await call("GET", "/v1/tasks", { key: org.keys.read, headers: { [HEADER]: " " } });
    expect(res.status).toBe(200);
    bookmarkOf(res);
  });
});

describe("read-your-writes: the OpenAPI document", () => {
  it("declares the request header and the response header on every /v1 operation, once", async () => {
    const doc = await call<OpenApiDocument>("GET", "/openapi.json");
    for (const [path, methods] of Object.entries(doc.body.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const name = `${method.toUpperCase()} ${path}`;
        const params = (op.parameters ?? []).filter((p) => p.name === HEADER);
        const headers = Object.values(op.responses ?? {}).map(
          (r) => (r as { headers?: Record<string, unknown> }).headers?.[HEADER],
        );
        if (!path.startsWith("/v1/")) {
          expect(params, name).toHaveLength(0);
          continue;
        }
        expect(params, name).toEqual([expect.objectContaining({ in: "header", required: false })]);
        expect(headers.length, name).toBeGreaterThan(0);
        expect(
          headers.every((h) => h !== undefined),
          name,
        ).toBe(true);
      }
    }
  });
});
