import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { beforeAll, describe, expect, it } from "vitest";
import { TASK_SORT_FIELDS, type TaskListQuery, taskListQueries } from "../src/tasks/task-query";
import type { Page, Task } from "./api-types";
import { ids, makeProject, makeTask } from "./fixtures";
import { call, createOrg, expectError, type TestOrg } from "./harness";

const RANK: Record<string, number> = { low: 0, medium: 1, high: 2, urgent: 3 };

/** The documented order: sort key, then createdAt, then id, all one direction; no due date = latest. */
function sortKey(task: Task, sortBy: string): (string | number)[] {
  switch (sortBy) {
    case "createdAt":
      return [task.createdAt, task.id];
    case "updatedAt":
      return [task.updatedAt, task.createdAt, task.id];
    case "dueDate":
      return [task.dueDate === null ? 1 : 0, task.dueDate ?? "", task.createdAt, task.id];
    case "priority":
      return [RANK[task.priority]!, task.createdAt, task.id];
    default:
      return [task.title.toLowerCase(), task.createdAt, task.id];
  }
}

function compare(a: (string | number)[], b: (string | number)[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return 0;
}

function expectedOrder(tasks: Task[], sortBy: string, order: "asc" | "desc"): string[] {
  const sorted = [...tasks].sort((a, b) => compare(sortKey(a, sortBy), sortKey(b, sortBy)));
  if (order === "desc") sorted.reverse();
  return sorted.map((t) => t.id);
}

/** Every page of a query, checking the pagination block on the way. */
async function allPages(org: TestOrg, query: string, limit = 4): Promise<{ ids: string[]; total: number }> {
  const seen: string[] = [];
  let page = 1;
  let total = -1;
  for (;;) {
    const res = await call<Page<Task>>("GET", `/v1/tasks?${query}${query ? "&" : ""}limit=${limit}&page=${page}`, {
      key: org.keys.read,
    });
    expect(res.status, `${query} page ${page}: ${JSON.stringify(res.body)}`).toBe(200);
    total = res.body.pagination.total ?? -1;
    const totalPages = Math.ceil(total / limit);
    expect(res.body.pagination).toEqual({
      total,
      page,
      limit,
      totalPages,
      nextCursor: page >= totalPages ? null : expect.any(String),
    });
    seen.push(...ids(res));
    if (page >= totalPages) break;
    page += 1;
  }
  return { ids: seen, total };
}

describe("task lists: filters and sorts over a varied data set", () => {
  let org: TestOrg;
  let tasks: Task[];
  let projectA: string;
  let projectB: string;

  beforeAll(async () => {
    org = await createOrg();
    // Noise: another organization's tasks must never appear or count.
    const noise = await createOrg();
    const noiseProject = await makeProject(noise);
    for (let i = 0; i < 3; i++) await makeTask(noise, noiseProject.id, { tags: ["shared"], status: "done" });

    projectA = (await makeProject(org, { name: "A" })).id;
    projectB = (await makeProject(org, { name: "B" })).id;
    const specs: Record<string, unknown>[] = [
      { title: "banana", projectId: projectA, priority: "low", dueDate: "2025-03-01", tags: ["shared", "x"] },
      { title: "Apple", projectId: projectA, priority: "urgent", status: "in_progress", assigneeId: "OWNER" },
      { title: "cherry", projectId: projectB, priority: "high", dueDate: "2025-01-15", assigneeId: "MEMBER" },
      { title: "date", projectId: projectB, priority: "medium", dueDate: "2025-03-01", tags: ["x"] },
      { title: "Elder", projectId: projectA, priority: "high", status: "in_progress", dueDate: "2024-12-31" },
      { title: "fig", projectId: projectA, priority: "urgent", assigneeId: "MEMBER", tags: ["shared"] },
      { title: "grape", projectId: projectB, priority: "low", status: "in_progress", dueDate: "2025-06-30" },
      { title: "honeydew", projectId: projectA, priority: "medium", assigneeId: "OWNER", dueDate: "2025-02-01" },
      { title: "Ice", projectId: projectB, priority: "urgent", tags: ["y"] },
      { title: "jackfruit", projectId: projectA, priority: "low", dueDate: "2025-01-15", tags: ["y", "x"] },
    ];
    for (const spec of specs) {
      const assigneeId =
        spec.assigneeId === "OWNER" ? org.owner.id : spec.assigneeId === "MEMBER" ? org.member.id : undefined;
      const { projectId, ...rest } = spec;
      await makeTask(org, projectId as string, { ...rest, ...(assigneeId ? { assigneeId } : {}) });
    }
    // Complete four of them one after another, so completedAt values differ.
    const created = (
      await call<Page<Task>>("GET", "/v1/tasks?limit=100&sortBy=title&order=asc", { key: org.keys.read })
    ).body.data;
    for (const title of ["banana", "cherry", "fig", "Ice"]) {
      const task = created.find((t) => t.title === title)!;
      await new Promise((r) => setTimeout(r, 3));
      const res = await call("PATCH", `/v1/tasks/${task.id}`, { key: org.keys.write, body: { status: "done" } });
      expect(res.status).toBe(200);
    }
    tasks = (await call<Page<Task>>("GET", "/v1/tasks?limit=100", { key: org.keys.read })).body.data;
    expect(tasks).toHaveLength(10);
  });

  it("sorts by every field in both directions, ties broken by createdAt then id, across pages", async () => {
    for (const sortBy of TASK_SORT_FIELDS) {
      for (const order of ["asc", "desc"] as const) {
        const { ids: got, total } = await allPages(org, `sortBy=${sortBy}&order=${order}`, 3);
        expect(total).toBe(10);
        expect(got, `${sortBy} ${order}`).toEqual(expectedOrder(tasks, sortBy, order));
      }
    }
  });

  it("defaults to createdAt descending", async () => {
    const res = await call<Page<Task>>("GET", "/v1/tasks", { key: org.keys.read });
    expect(ids(res)).toEqual(expectedOrder(tasks, "createdAt", "desc"));
  });

  it("sorts priority by rank (urgent > high > medium > low), not alphabetically", async () => {
    const res = await call<Page<Task>>("GET", "/v1/tasks?sortBy=priority&order=desc&limit=100", { key: org.keys.read });
    const priorities = res.body.data.map((t) => t.priority);
    expect(priorities).toEqual([...priorities].sort((a, b) => RANK[b]! - RANK[a]!));
    expect(priorities[0]).toBe("urgent");
    expect(priorities.at(-1)).toBe("low");
  });

  it("puts tasks without a due date last when sorting by due date ascending", async () => {
    const res = await call<Page<Task>>("GET", "/v1/tasks?sortBy=dueDate&order=asc&limit=100", { key: org.keys.read });
    const dates = res.body.data.map((t) => t.dueDate);
    expect(dates[0]).toBe("2024-12-31T00:00:00.000Z");
    expect(dates.slice(-3)).toEqual([null, null, null]);
  });

  const filters: [string, (t: Task) => boolean][] = [
    ["projectId=A", (t) => t.projectId === projectA],
    ["status=done", (t) => t.status === "done"],
    ["status=in_progress", (t) => t.status === "in_progress"],
    ["status=todo", (t) => t.status === "todo"],
    ["assigneeId=MEMBER", (t) => t.assigneeId === org.member.id],
    ["assigneeId=OWNER", (t) => t.assigneeId === org.owner.id],
    ["priority=urgent", (t) => t.priority === "urgent"],
    ["priority=low", (t) => t.priority === "low"],
    ["tag=x", (t) => t.tags.includes("x")],
    ["tag=shared", (t) => t.tags.includes("shared")],
    ["tag=none-such", () => false],
    ["dueBefore=2025-01-15", (t) => t.dueDate !== null && t.dueDate < "2025-01-15T00:00:00.000Z"],
    ["dueAfter=2025-01-15", (t) => t.dueDate !== null && t.dueDate >= "2025-01-15T00:00:00.000Z"],
    [
      "dueAfter=2025-01-01&dueBefore=2025-03-01T00:00:00Z",
      (t) => t.dueDate !== null && t.dueDate >= "2025-01-01T00:00:00.000Z" && t.dueDate < "2025-03-01T00:00:00.000Z",
    ],
    ["projectId=A&status=done", (t) => t.projectId === projectA && t.status === "done"],
    ["projectId=B&priority=urgent", (t) => t.projectId === projectB && t.priority === "urgent"],
    ["status=done&tag=shared", (t) => t.status === "done" && t.tags.includes("shared")],
    [
      "projectId=A&assigneeId=MEMBER&priority=urgent&tag=shared",
      (t) => t.projectId === projectA && t.assigneeId === org.member.id && t.priority === "urgent",
    ],
    ["status=todo&dueAfter=2025-01-01", (t) => t.status === "todo" && t.dueDate !== null && t.dueDate >= "2025-01-01"],
  ];

  it("applies every filter and combinations of them, with correct totals", async () => {
    for (const [template, predicate] of filters) {
      const query = template
        .replace("projectId=A", `projectId=${projectA}`)
        .replace("projectId=B", `projectId=${projectB}`)
        .replace("MEMBER", org.member.id)
        .replace("OWNER", org.owner.id);
      const expected = tasks.filter(predicate);
      const { ids: got, total } = await allPages(org, query, 2);
      expect(total, template).toBe(expected.length);
      expect(got, template).toEqual(expectedOrder(expected, "createdAt", "desc"));
    }
    expect(tasks.filter((t) => t.projectId === projectA && t.status === "done").length).toBeGreaterThan(0);
  });

  it("filters by completion time ([completedAfter, completedBefore))", async () => {
    const done = tasks
      .filter((t) => t.completedAt !== null)
      .sort((a, b) => a.completedAt!.localeCompare(b.completedAt!));
    expect(done).toHaveLength(4);
    const second = done[1]!.completedAt!;
    const fourth = done[3]!.completedAt!;
    const after = await allPages(org, `completedAfter=${second}`);
    expect(new Set(after.ids)).toEqual(new Set(done.slice(1).map((t) => t.id)));
    const before = await allPages(org, `completedBefore=${second}`);
    expect(before.ids).toEqual([done[0]!.id]);
    const window = await allPages(org, `completedAfter=${second}&completedBefore=${fourth}&sortBy=title&order=asc`);
    expect(window.ids).toEqual(expectedOrder(done.slice(1, 3), "title", "asc"));
    const withSort = await allPages(org, `status=done&sortBy=priority&order=desc`);
    expect(withSort.ids).toEqual(expectedOrder(done, "priority", "desc"));
  });

  it("answers a page beyond the last with empty data and the true total", async () => {
    const res = await call<Page<Task>>("GET", "/v1/tasks?page=99&limit=5", { key: org.keys.read });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      data: [],
      pagination: { total: 10, page: 99, limit: 5, totalPages: 2, nextCursor: null },
    });
    const filtered = await call<Page<Task>>("GET", `/v1/tasks?projectId=${projectB}&page=3&limit=2`, {
      key: org.keys.read,
    });
    expect(filtered.body.data).toEqual([]);
    expect(filtered.body.pagination.total).toBe(tasks.filter((t) => t.projectId === projectB).length);
    const huge = await call<Page<Task>>("GET", "/v1/tasks?page=9007199254740991", { key: org.keys.read });
    expect(huge.status).toBe(200);
    expect(huge.body.data).toEqual([]);
  });

  it("limit 1 and 100 are accepted; 0, 101, abc, 1.5 are 400 naming limit", async () => {
    expect(ids(await call("GET", "/v1/tasks?limit=1", { key: org.keys.read }))).toHaveLength(1);
    expect(ids(await call("GET", "/v1/tasks?limit=100", { key: org.keys.read }))).toHaveLength(10);
    for (const limit of ["0", "101", "abc", "1.5", "-5", ""]) {
      expectError(
        await call("GET", `/v1/tasks?limit=${limit}`, { key: org.keys.read }),
        400,
        "VALIDATION_ERROR",
        "limit",
      );
    }
    for (const page of ["0", "-1", "abc", "2.5", "1e400"]) {
      expectError(await call("GET", `/v1/tasks?page=${page}`, { key: org.keys.read }), 400, "VALIDATION_ERROR", "page");
    }
  });

  it("refuses bad values and unknown parameters by name", async () => {
    const cases: [string, string][] = [
      ["status=blocked", "status"],
      ["priority=critical", "priority"],
      ["sortBy=assignee", "sortBy"],
      ["order=sideways", "order"],
      ["dueBefore=yesterday", "dueBefore"],
      ["dueAfter=2025-13-01", "dueAfter"],
      ["completedAfter=2025-01-01T25:00:00Z", "completedAfter"],
      ["completedBefore=1735689600", "completedBefore"],
      ["tag=", "tag"],
      [`projectId=${"p".repeat(65)}`, "projectId"],
      [`assigneeId=${"u".repeat(65)}`, "assigneeId"],
      ["assignee=me", "assignee"],
      ["search=foo", "search"],
      ["status=todo&status=done", "status"],
      ["limit=10&limit=20", "limit"],
    ];
    for (const [query, field] of cases) {
      expectError(await call("GET", `/v1/tasks?${query}`, { key: org.keys.read }), 400, "VALIDATION_ERROR", field);
    }
  });

  it("a filter on a project of another organization finds nothing", async () => {
    const other = await createOrg();
    const res = await call("GET", `/v1/tasks?projectId=${projectA}`, { key: other.keys.read });
    expect(res.body).toEqual({
      data: [],
      pagination: { total: 0, page: 1, limit: 50, totalPages: 0, nextCursor: null },
    });
  });
});

describe("task lists: totals stay right as tasks change", () => {
  it("kept counts match COUNT(*) after creates, status/priority changes, moves and deletes", async () => {
    const org = await createOrg();
    const a = await makeProject(org);
    const b = await makeProject(org);
    const made = [];
    for (let i = 0; i < 6; i++)
      made.push(await makeTask(org, i % 2 ? a.id : b.id, { priority: i % 3 ? "low" : "high" }));
    await call("PATCH", `/v1/tasks/${made[0]!.id}`, { key: org.keys.write, body: { status: "done", projectId: a.id } });
    await call("PATCH", `/v1/tasks/${made[1]!.id}`, { key: org.keys.write, body: { priority: "urgent" } });
    await call("PATCH", `/v1/tasks/${made[2]!.id}`, { key: org.keys.write, body: { status: "in_progress" } });
    await call("DELETE", `/v1/tasks/${made[3]!.id}`, { key: org.keys.write });

    const queries = [
      "",
      `projectId=${a.id}`,
      `projectId=${b.id}`,
      "status=done",
      "status=todo",
      "priority=low",
      "priority=urgent",
      `projectId=${a.id}&status=done`,
      `projectId=${b.id}&status=todo&priority=high`,
    ];
    for (const query of queries) {
      const res = await call<Page<Task>>("GET", `/v1/tasks?${query}&limit=100`, { key: org.keys.read });
      expect(res.body.pagination.total, query).toBe(res.body.data.length);
    }
    expect((await call<Page<Task>>("GET", "/v1/tasks", { key: org.keys.read })).body.pagination.total).toBe(5);
    expect(
      (await call<Page<Task>>("GET", `/v1/tasks?projectId=${a.id}&status=done`, { key: org.keys.read })).body.pagination
        .total,
    ).toBe(1);

    await call("DELETE", `/v1/projects/${a.id}`, { key: org.keys.write });
    const left = await call<Page<Task>>("GET", "/v1/tasks?limit=100", { key: org.keys.read });
    expect(left.body.pagination.total).toBe(left.body.data.length);
    const counters = await env.DB.prepare("SELECT COUNT(*) AS n FROM task_counts WHERE org_id = ? AND project_id = ?")
      .bind(org.id, a.id)
      .first<{ n: number }>();
    expect(counters?.n).toBe(0);
  });
});

describe("task lists: query plans use an index, never a scan of tasks", () => {
  const base: TaskListQuery = { page: 1, limit: 50, sortBy: "createdAt", order: "desc" };

  async function planOf(query: TaskListQuery): Promise<string[]> {
    const { page, total } = await taskListQueries(drizzle(env.DB), "org_plan", query);
    const lines: string[] = [];
    for (const built of [page.toSQL(), ...(total ? [total.toSQL()] : [])]) {
      const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${built.sql}`)
        .bind(...built.params)
        .all<{ detail: string }>();
      lines.push(...results.map((r) => r.detail));
    }
    return lines;
  }

  it("every sort, unfiltered, reads its own index in order (no temp sort)", async () => {
    for (const sortBy of TASK_SORT_FIELDS) {
      for (const order of ["asc", "desc"] as const) {
        const plan = await planOf({ ...base, sortBy, order });
        const text = plan.join(" | ");
        expect(text, `${sortBy} ${order}: ${text}`).toMatch(/SEARCH tasks USING (COVERING )?INDEX/);
        expect(text, `${sortBy} ${order}: ${text}`).not.toMatch(/SCAN tasks(?! USING)/);
        expect(text, `${sortBy} ${order}: ${text}`).not.toContain("TEMP B-TREE");
        // The total comes from the kept counts, not a count over tasks.
        expect(text).toMatch(/task_counts/);
      }
    }
  });

  it("equality filters with the default sort read a matching index in order", async () => {
    const cases: Partial<TaskListQuery>[] = [
      { projectId: "p" },
      { status: "todo" },
      { projectId: "p", status: "done" },
      { assigneeId: "u" },
      { priority: "high" },
    ];
    for (const filter of cases) {
      const plan = (await planOf({ ...base, ...filter })).join(" | ");
      expect(plan, JSON.stringify(filter)).toMatch(/SEARCH tasks USING (COVERING )?INDEX \w+ \(org_id=\? AND/);
      expect(plan, JSON.stringify(filter)).not.toContain("TEMP B-TREE");
      expect(plan, JSON.stringify(filter)).not.toMatch(/SCAN tasks(?! USING)/);
    }
  });

  it("other filters and sorts still search by organization through an index", async () => {
    const cases: Partial<TaskListQuery>[] = [
      { tag: "x" },
      { dueAfter: "2025-01-01T00:00:00.000Z", dueBefore: "2025-02-01T00:00:00.000Z", sortBy: "dueDate" },
      { completedAfter: "2025-01-01T00:00:00.000Z" },
      { status: "done", sortBy: "priority" },
      { projectId: "p", status: "todo", sortBy: "dueDate", order: "asc" },
      { assigneeId: "u", tag: "x", sortBy: "title" },
    ];
    for (const filter of cases) {
      const plan = (await planOf({ ...base, ...filter })).join(" | ");
      expect(plan, JSON.stringify(filter)).toMatch(/SEARCH tasks USING/);
      expect(plan, JSON.stringify(filter)).not.toMatch(/SCAN tasks(?! USING)/);
      expect(plan, JSON.stringify(filter)).not.toMatch(/SCAN tasks USING/);
      // A tag query starts from the tag's own index, so its cost follows that tag's tasks.
      if (filter.tag)
        expect(plan).toContain("SEARCH task_tags USING COVERING INDEX task_tags_org_tag (org_id=? AND tag=?)");
    }
  });
});
