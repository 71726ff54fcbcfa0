import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import { encodeCursor } from "../src/core/cursor";
import { TASK_SORT_FIELDS, type TaskListQuery, taskListQueries } from "../src/tasks/task-query";
import type { ErrorBody, Page, Task } from "./api-types";
import { ids, makeComment, makeProject, makeTask } from "./fixtures";
import { type ApiResponse, call, createOrg, expectError, type TestOrg } from "./harness";
import { createWebhook, HOOK_URL } from "./webhook-helpers";

/** Cursor pagination (README "Lists"): keyset pages, `nextCursor`, `Link: rel="next"`. */

type Listed = { id: string };

async function list(org: TestOrg, path: string, key = org.keys.admin): Promise<ApiResponse<Page<Listed>>> {
  const res = await call<Page<Listed>>("GET", path, { key });
  expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(200);
  return res;
}

const withCursor = (path: string, cursor: string) =>
  `${path}${path.includes("?") ? "&" : "?"}cursor=${encodeURIComponent(cursor)}`;

/** Every row of a list, following nextCursor from an ordinary first request. */
async function walk(org: TestOrg, path: string, key = org.keys.admin): Promise<string[]> {
  const seen: string[] = [];
  let res = await list(org, path, key);
  for (;;) {
    seen.push(...ids(res));
    const next = res.body.pagination.nextCursor;
    if (next === null) return seen;
    res = await list(org, withCursor(path, next), key);
    // Cursor mode counts nothing: no total, page or totalPages.
    expect(Object.keys(res.body.pagination).sort()).toEqual(["limit", "nextCursor"]);
  }
}

/** The pagination cursor of a task list page (first request with `query`). */
async function cursorOf(org: TestOrg, query: string): Promise<string> {
  const res = await list(org, `/v1/tasks?${query}`, org.keys.read);
  const next = res.body.pagination.nextCursor;
  if (next === null) throw new Error(`no next page for ${query}`);
  return next;
}

describe("cursor pagination: tasks while the list changes", () => {
  const SPECS: Record<string, unknown>[] = [
    { title: "banana", priority: "low", dueDate: "2025-03-01" },
    { title: "Apple", priority: "urgent" },
    { title: "cherry", priority: "high", dueDate: "2025-01-15" },
    { title: "apple", priority: "medium", dueDate: "2025-03-01" },
    { title: "Elder", priority: "high" },
    { title: "fig", priority: "urgent", dueDate: "2024-12-31" },
    { title: "grape", priority: "low" },
    { title: "honeydew", priority: "medium", dueDate: "2025-02-01" },
    { title: "Ice", priority: "urgent" },
    { title: "jackfruit", priority: "low", dueDate: "2025-01-15" },
    { title: "kiwi", priority: "medium" },
    { title: "lime", priority: "high", dueDate: "2025-03-01" },
  ];
  // New rows land all over the order: dated and undated, every priority, titles before and after.
  const INSERTS: Record<string, unknown>[] = [
    { title: "aaa", priority: "urgent" },
    { title: "zzz", priority: "low", dueDate: "2024-01-01" },
    { title: "mango", priority: "medium", dueDate: "2025-02-01" },
    { title: "Banana", priority: "high" },
    { title: "date", priority: "low", dueDate: "2026-01-01" },
    { title: "Zebra", priority: "medium" },
  ];

  const sorts = [
    "sortBy=createdAt&order=desc",
    "sortBy=createdAt&order=asc",
    "sortBy=dueDate&order=asc",
    "sortBy=dueDate&order=desc",
    "sortBy=priority&order=desc",
    "sortBy=priority&order=asc",
    "sortBy=title&order=asc",
    "sortBy=updatedAt&order=desc",
  ];

  it.each(sorts)("%s: no row that existed throughout is repeated or skipped", async (sort) => {
    const org = await createOrg();
    const project = await makeProject(org);
    const original: Task[] = [];
    for (const spec of SPECS) original.push(await makeTask(org, project.id, spec));
    const throughout = new Set(original.map((t) => t.id));
    const path = `/v1/tasks?limit=3&${sort}`;

    const seen: string[] = [];
    let res = await list(org, path, org.keys.read);
    let step = 0;
    for (;;) {
      seen.push(...ids(res));
      const next = res.body.pagination.nextCursor;
      if (next === null) break;
      // Between fetches: one new task, and one deletion (a row already sent, then one not yet sent).
      await makeTask(org, project.id, INSERTS[step % INSERTS.length]);
      const sent = seen.filter((id) => throughout.has(id));
      const unsent = [...throughout].filter((id) => !seen.includes(id));
      const victim = step % 2 === 0 ? sent[0] : unsent.at(-1);
      if (victim) {
        const del = await call("DELETE", `/v1/tasks/${victim}`, { key: org.keys.write });
        expect(del.status).toBe(204);
        throughout.delete(victim);
      }
      step += 1;
      res = await list(org, withCursor(path, next), org.keys.read);
    }

    expect(step).toBeGreaterThan(2);
    expect(new Set(seen).size, `repeated: ${seen}`).toBe(seen.length);
    for (const id of throughout) expect(seen, `skipped ${id}`).toContain(id);
  });

  it("a cursor walk and a page walk of an unchanged list agree, for every sort and order", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    for (const spec of SPECS) await makeTask(org, project.id, spec);
    for (const sortBy of TASK_SORT_FIELDS) {
      for (const order of ["asc", "desc"]) {
        const all = ids(await list(org, `/v1/tasks?limit=100&sortBy=${sortBy}&order=${order}`));
        expect(await walk(org, `/v1/tasks?limit=5&sortBy=${sortBy}&order=${order}`), `${sortBy} ${order}`).toEqual(all);
      }
    }
  });
});

describe("cursor pagination: the answer", () => {
  it("page mode carries nextCursor and totals; Link rel=next keeps the query; the last page has neither", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    for (let i = 0; i < 5; i++) await makeTask(org, project.id, { title: `t${i}`, status: i === 4 ? "done" : "todo" });

    const path = "/v1/tasks?status=todo&sortBy=title&order=asc&limit=3";
    const first = await list(org, path);
    expect(first.body.pagination).toEqual({
      total: 4,
      page: 1,
      limit: 3,
      totalPages: 2,
      nextCursor: expect.any(String),
    });
    const link = first.headers.get("Link");
    const match = link?.match(/^<([^>]+)>; rel="next"$/);
    expect(match, `Link: ${link}`).toBeTruthy();
    const next = new URL(match?.[1] ?? "");
    expect(next.pathname).toBe("/v1/tasks");
    expect(Object.fromEntries(next.searchParams)).toEqual({
      status: "todo",
      sortBy: "title",
      order: "asc",
      limit: "3",
      cursor: first.body.pagination.nextCursor,
    });

    const second = await list(org, `${next.pathname}${next.search}`);
    expect(second.body.data.map((t) => (t as Task).title)).toEqual(["t3"]);
    expect(second.body.pagination).toEqual({ limit: 3, nextCursor: null });
    expect(second.headers.get("Link")).toBeNull();

    // A page request past page 1 drops `page` from its Link: the two cannot go together.
    const paged = await list(org, "/v1/tasks?limit=1&page=2");
    expect(new URL(/<([^>]+)>/.exec(paged.headers.get("Link") ?? "")?.[1] ?? "").searchParams.has("page")).toBe(false);
  });

  it("an empty list and an exactly full last page answer nextCursor null and no Link", async () => {
    const org = await createOrg();
    const empty = await list(org, "/v1/tasks");
    expect(empty.body.pagination.nextCursor).toBeNull();
    expect(empty.headers.get("Link")).toBeNull();
    const project = await makeProject(org);
    for (let i = 0; i < 2; i++) await makeTask(org, project.id);
    const full = await list(org, "/v1/tasks?limit=2");
    expect(full.body.data).toHaveLength(2);
    expect(full.body.pagination.nextCursor).toBeNull();
    expect(full.headers.get("Link")).toBeNull();
  });

  it("limit may change between pages; the rows still follow on", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    for (let i = 0; i < 6; i++) await makeTask(org, project.id);
    const all = ids(await list(org, "/v1/tasks"));
    const cursor = await cursorOf(org, "limit=2");
    const rest = await list(org, withCursor("/v1/tasks?limit=4", cursor));
    expect(ids(rest)).toEqual(all.slice(2));
  });
});

describe("cursor pagination: refusals", () => {
  it("a cursor with other filters, another sort or order, or with page is a 400 naming cursor", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    for (let i = 0; i < 3; i++) await makeTask(org, project.id);
    const cursor = await cursorOf(org, "limit=1&sortBy=title&order=asc&status=todo");
    const refused = [
      "sortBy=title&order=asc",
      "sortBy=title&order=asc&status=done",
      "sortBy=title&order=asc&status=todo&priority=low",
      `sortBy=title&order=asc&status=todo&projectId=${project.id}`,
      "sortBy=createdAt&order=asc&status=todo",
      "sortBy=title&order=desc&status=todo",
      "sortBy=title&order=asc&status=todo&page=1",
      "sortBy=title&order=asc&status=todo&page=2",
    ];
    for (const query of refused) {
      const res = await call("GET", withCursor(`/v1/tasks?${query}`, cursor), { key: org.keys.read });
      expectError(res, 400, "VALIDATION_ERROR", "cursor");
    }
    const same = await call("GET", withCursor("/v1/tasks?status=todo&order=asc&sortBy=title", cursor), {
      key: org.keys.read,
    });
    expect(same.status).toBe(200);
  });

  it("a malformed, altered or forged cursor is a 400 naming cursor, never a 500", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    for (let i = 0; i < 3; i++) await makeTask(org, project.id, { dueDate: i === 0 ? null : "2025-01-01" });
    const cursor = await cursorOf(org, "limit=1&sortBy=dueDate");
    const [body = "", sum = ""] = cursor.split(".");
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);
    const request = { limit: 1, sortBy: "dueDate", order: "desc" } as const;
    const bad = [
      "x",
      ".",
      "%00",
      `${body}.`,
      `.${sum}`,
      body,
      `${flip(body, 5)}.${sum}`,
      `${body}.${flip(sum, 0)}`,
      `${body.slice(0, -2)}.${sum}`,
      `${body}.${sum}.${sum}`,
      `${body}=.${sum}`,
      "a".repeat(3000),
      // The checksum right, the content not: wrong arity, wrong types, another version.
      await encodeCursor(request, ["2025-01-01", "id"]),
      await encodeCursor(request, ["2025-01-01", "2025-01-01", "x", "id"]),
      await encodeCursor(request, [{} as never, "2025-01-01", "id"]),
      await encodeCursor(request, [Number.NaN, "2025-01-01", "id"]),
    ];
    for (const token of bad) {
      const res = await call<ErrorBody>("GET", withCursor("/v1/tasks?limit=1&sortBy=dueDate", token), {
        key: org.keys.read,
      });
      expectError(res, 400, "VALIDATION_ERROR", "cursor");
    }
    // A well-formed cursor at a made-up position is simply a position: the rows after it.
    const forged = await encodeCursor(request, ["2025-06-01", "2025-01-01", "zzz"]);
    const after = await call<Page<Task>>("GET", withCursor("/v1/tasks?limit=1&sortBy=dueDate", forged), {
      key: org.keys.read,
    });
    expect(after.status).toBe(200);
    expect(after.body.data[0]?.dueDate).toBe("2025-01-01T00:00:00.000Z");
  });

  it("a comment cursor is refused on another task's comments", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const a = await makeTask(org, project.id);
    const b = await makeTask(org, project.id);
    for (const task of [a, b]) for (let i = 0; i < 2; i++) await makeComment(org, task.id, { content: `c${i}` });
    const first = await list(org, `/v1/tasks/${a.id}/comments?limit=1`);
    const cursor = first.body.pagination.nextCursor ?? "";
    const own = await list(org, withCursor(`/v1/tasks/${a.id}/comments?limit=1`, cursor));
    expect(ids(own)).toHaveLength(1);
    const other = await call("GET", withCursor(`/v1/tasks/${b.id}/comments?limit=1`, cursor), { key: org.keys.read });
    expectError(other, 400, "VALIDATION_ERROR", "cursor");
  });
});

describe("cursor pagination: every list", () => {
  it("each list and sort, followed by cursor, gives the rows of its page-mode answer, once each", async () => {
    const org = await createOrg();
    const project = await makeProject(org, { name: "b" });
    await makeProject(org, { name: "A" });
    await makeProject(org, { name: "c", archived: true });
    const task = await makeTask(org, project.id);
    for (let i = 0; i < 3; i++) await makeComment(org, task.id, { content: `c${i}` });
    const hooks = [];
    for (const path of ["c", "a", "b"])
      hooks.push(await createWebhook(org, { url: `${HOOK_URL}/${path}`, events: ["*"] }));
    for (const name of ["one", "Two", "three"]) {
      const res = await call("POST", "/v1/incoming-webhooks", {
        key: org.keys.admin,
        body: { name, permissions: ["tasks:create"] },
      });
      expect(res.status).toBe(201);
    }
    // One key used, the others not: lastUsedAt sorts with NULLs.
    await call("GET", "/v1/tasks", { key: org.keys.read });
    const hook = hooks[0]?.id ?? "";
    const now = Date.now();
    for (let i = 0; i < 4; i++) {
      const at = new Date(now - i * 1000).toISOString();
      await env.DB.prepare(
        "INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, status, attempt_count, created_at, updated_at) VALUES (?, ?, ?, ?, 'task.created', 'delivered', 1, ?, ?)",
      )
        .bind(`dlv_cursor${i}`, org.id, hook, `evt_cursor${i}`, at, i % 2 ? at : new Date(now).toISOString())
        .run();
    }

    const lists: [string, string[]][] = [
      ["/v1/projects", ["createdAt", "updatedAt", "name"]],
      ["/v1/projects?archived=false", ["name"]],
      [`/v1/tasks/${task.id}/comments`, ["createdAt", "updatedAt"]],
      ["/v1/users", ["createdAt", "name", "email"]],
      ["/v1/api-keys", ["createdAt", "name", "lastUsedAt"]],
      ["/v1/webhooks", ["createdAt", "updatedAt", "url"]],
      [`/v1/webhooks/${hook}/deliveries`, ["createdAt", "updatedAt"]],
      ["/v1/events", ["createdAt"]],
      ["/v1/events?type=comment.created", ["createdAt"]],
      ["/v1/incoming-webhooks", ["createdAt", "name", "lastUsedAt"]],
    ];
    for (const [path, sorts] of lists) {
      for (const sortBy of sorts) {
        for (const order of ["asc", "desc"]) {
          const query = `${path}${path.includes("?") ? "&" : "?"}sortBy=${sortBy}&order=${order}`;
          const all = ids(await list(org, `${query}&limit=100`));
          expect(all.length, query).toBeGreaterThan(1);
          expect(await walk(org, `${query}&limit=1`), query).toEqual(all);
        }
      }
    }
  });
});

describe("cursor pagination: the keyset query reads an index range", () => {
  it("every task sort and order, unfiltered and with an equality filter, seeks its index at the cursor", async () => {
    const db = drizzle(env.DB);
    const after: Record<string, (string | number)[]> = {
      createdAt: ["2025-01-01T00:00:00.000Z", "task_x"],
      updatedAt: ["2025-01-01T00:00:00.000Z", "2025-01-01T00:00:00.000Z", "task_x"],
      dueDate: ["~", "2025-01-01T00:00:00.000Z", "task_x"],
      priority: [2, "2025-01-01T00:00:00.000Z", "task_x"],
      title: ["abc", "2025-01-01T00:00:00.000Z", "task_x"],
    };
    for (const sortBy of TASK_SORT_FIELDS) {
      for (const order of ["asc", "desc"] as const) {
        const request: TaskListQuery = { limit: 100, sortBy, order };
        const cursor = await encodeCursor(request, after[sortBy] ?? []);
        const { page, total } = await taskListQueries(db, "org_plan", { ...request, cursor });
        expect(total, "cursor mode counts nothing").toBeUndefined();
        const built = page.toSQL();
        const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${built.sql}`)
          .bind(...built.params)
          .all<{ detail: string }>();
        const plan = results.map((r) => r.detail).join(" | ");
        const op = order === "asc" ? ">" : "<";
        expect(plan, `${sortBy} ${order}: ${plan}`).toMatch(
          new RegExp(`SEARCH tasks USING INDEX \\w+ \\(org_id=\\? AND \\([a-z_,]+\\)${op}\\(\\?(,\\?)+\\)\\)`),
        );
        expect(plan, `${sortBy} ${order}`).not.toContain("TEMP B-TREE");
      }
    }
    const request: TaskListQuery = { limit: 100, sortBy: "createdAt", order: "desc", status: "todo" };
    const cursor = await encodeCursor(request, after.createdAt ?? []);
    const built = (await taskListQueries(db, "org_plan", { ...request, cursor })).page.toSQL();
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${built.sql}`)
      .bind(...built.params)
      .all<{ detail: string }>();
    expect(results.map((r) => r.detail).join(" | ")).toContain(
      "tasks_org_status_created (org_id=? AND status=? AND (created_at,id)<(?,?))",
    );
  });
});
