import { afterEach, expect, it } from "vitest";
import { VerkClient } from "../src/index";
import { fakeApi, task } from "./fake-api";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
});

// The README's SDK example (first published in the product documentation), unchanged
// below the setup lines: it must typecheck and run against the API's shapes.
it("the documented SDK example runs unchanged", async () => {
  const api = await fakeApi((r) => {
    if (r.method === "GET")
      return {
        status: 200,
        body: { data: [task("task_789")], pagination: { page: 1, limit: 50, total: 1, totalPages: 1 } },
      };
    return { status: r.method === "POST" ? 201 : 200, body: task("task_789", JSON.parse(r.body)) };
  });
  close = api.close;
  process.env.VERK_API_KEY = "vk_live_example";
  const VERK_BASE_URL = api.url;

  const client = new VerkClient({
    apiKey: process.env.VERK_API_KEY,
    baseUrl: VERK_BASE_URL,
  });

  // Create a task
  const task_ = await client.tasks.create({
    title: "New task",
    projectId: "proj_123",
    assigneeId: "user_456",
  });

  // List tasks
  const tasks = await client.tasks.list({
    projectId: "proj_123",
    status: "in_progress",
  });

  // Update task
  await client.tasks.update("task_789", {
    status: "done",
  });

  expect(task_.title).toBe("New task");
  expect(tasks.data.map((t) => t.id)).toEqual(["task_789"]);
  expect(api.received.map((r) => `${r.method} ${r.url.pathname}${r.url.search}`)).toEqual([
    "POST /v1/tasks",
    "GET /v1/tasks?projectId=proj_123&status=in_progress",
    "PATCH /v1/tasks/task_789",
  ]);
  expect(JSON.parse(api.received[2]?.body ?? "")).toEqual({ status: "done" });
});
