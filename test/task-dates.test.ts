import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Page, Task } from "./api-types";
import { makeProject, makeTask } from "./fixtures";
import { call, createOrg, expectError, type TestOrg } from "./harness";

/** Titles of the tasks a list query answers, sorted. */
async function titles(org: TestOrg, query: string): Promise<string[]> {
  const res = await call<Page<Task>>("GET", `/v1/tasks?limit=100&${query}`, { key: org.keys.read });
  expect(res.status, query).toBe(200);
  expect(res.body.pagination.total, query).toBe(res.body.data.length);
  return res.body.data.map((t) => t.title).sort();
}

describe("task date filters: a bare date in …Before covers the whole UTC day", () => {
  it("completedAfter=2024-01-01&completedBefore=2024-01-31 includes a task completed at 23:59:59 on the 31st", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    const completedAt: Record<string, string> = {
      "dec-31-late": "2023-12-31T23:59:59.999Z",
      "jan-01-midnight": "2024-01-01T00:00:00.000Z",
      "jan-15": "2024-01-15T12:00:00.000Z",
      "jan-31-23:59:59": "2024-01-31T23:59:59.000Z",
      "feb-01-midnight": "2024-02-01T00:00:00.000Z",
    };
    for (const [title, at] of Object.entries(completedAt)) {
      const task = await makeTask(org, project.id, { title, status: "done" });
      // Completion time is the server's clock; set the past one straight in D1.
      await env.DB.prepare("UPDATE tasks SET completed_at = ? WHERE id = ?").bind(at, task.id).run();
    }
    expect(await titles(org, "status=done&completedAfter=2024-01-01&completedBefore=2024-01-31")).toEqual([
      "jan-01-midnight",
      "jan-15",
      "jan-31-23:59:59",
    ]);
    // A full timestamp stays exact (strictly before).
    expect(await titles(org, "completedAfter=2024-01-01&completedBefore=2024-01-31T23:59:59Z")).toEqual([
      "jan-01-midnight",
      "jan-15",
    ]);
    expect(await titles(org, "completedBefore=2024-01-31T23:59:59.001Z")).toEqual([
      "dec-31-late",
      "jan-01-midnight",
      "jan-15",
      "jan-31-23:59:59",
    ]);
    // …After with a bare date stays midnight-inclusive.
    expect(await titles(org, "completedAfter=2024-02-01")).toEqual(["feb-01-midnight"]);
    expect(await titles(org, "completedBefore=2023-12-31")).toEqual(["dec-31-late"]);
    // An offset is still honoured: 2024-02-01T01:00+01:00 is midnight UTC, excluded.
    expect(await titles(org, "completedAfter=2024-01-31&completedBefore=2024-02-01T01:00:00%2B01:00")).toEqual([
      "jan-31-23:59:59",
    ]);
  });

  it("dueBefore=<date> includes tasks due at any time that day; dueAfter=<date> starts at its midnight", async () => {
    const org = await createOrg();
    const project = await makeProject(org);
    for (const dueDate of ["2024-12-30T23:59:59Z", "2024-12-31", "2024-12-31T18:30:00Z", "2025-01-01"]) {
      await makeTask(org, project.id, { title: dueDate, dueDate });
    }
    expect(await titles(org, "dueBefore=2024-12-31")).toEqual([
      "2024-12-30T23:59:59Z",
      "2024-12-31",
      "2024-12-31T18:30:00Z",
    ]);
    expect(await titles(org, "dueAfter=2024-12-31&dueBefore=2024-12-31")).toEqual([
      "2024-12-31",
      "2024-12-31T18:30:00Z",
    ]);
    expect(await titles(org, "dueBefore=2024-12-31T00:00:00Z")).toEqual(["2024-12-30T23:59:59Z"]);
    // The last representable day is a valid bound, not a 400.
    expect(await titles(org, "dueBefore=9999-12-31")).toHaveLength(4);
  });

  it("refuses an impossible date in …Before by name", async () => {
    const org = await createOrg();
    for (const [query, field] of [
      ["dueBefore=2024-02-30", "dueBefore"],
      ["completedBefore=2023-02-29", "completedBefore"],
      ["completedBefore=2024-13-01", "completedBefore"],
    ]) {
      expectError(await call("GET", `/v1/tasks?${query}`, { key: org.keys.read }), 400, "VALIDATION_ERROR", field);
    }
  });

  it("documents the whole-day rule on the query parameters", async () => {
    const { body: doc } = await call<{
      paths: Record<string, { get: { parameters: { name: string; description?: string }[] } }>;
    }>("GET", "/openapi.json");
    const params = doc.paths["/v1/tasks"]!.get.parameters;
    for (const name of ["dueBefore", "completedBefore"]) {
      expect(params.find((p) => p.name === name)?.description, name).toMatch(/whole UTC day/);
    }
    for (const name of ["dueAfter", "completedAfter"]) {
      expect(params.find((p) => p.name === name)?.description, name).toMatch(/midnight UTC/);
    }
  });
});
