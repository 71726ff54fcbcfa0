import { afterEach, describe, expect, it } from "vitest";
import { VerkClient } from "../src/index";
import { fakeApi, task } from "./fake-api";

const servers: Array<{ close: () => Promise<void> }> = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()?.close();
});

async function client(respond: Parameters<typeof fakeApi>[0]) {
  const api = await fakeApi(respond);
  servers.push(api);
  return { api, client: new VerkClient({ apiKey: "vk_live_test", baseUrl: api.url }) };
}

const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `task_${from + i}`);

describe("listAll", () => {
  it("follows pagination.nextCursor with the cursor parameter, keeping the filters, until it is null", async () => {
    const pages: Record<string, { data: string[]; nextCursor: string | null }> = {
      "": { data: ids(2, 0), nextCursor: "c1" },
      c1: { data: ids(2, 2), nextCursor: "c2" },
      c2: { data: ids(1, 4), nextCursor: null },
    };
    const { api, client: verk } = await client((r) => {
      const page = pages[r.url.searchParams.get("cursor") ?? ""];
      if (!page)
        return { status: 400, body: { error: { code: "VALIDATION_ERROR", message: "cursor", requestId: "r" } } };
      return {
        status: 200,
        body: { data: page.data.map((id) => task(id)), pagination: { limit: 2, nextCursor: page.nextCursor } },
      };
    });
    const seen: string[] = [];
    for await (const t of verk.tasks.listAll({ status: "todo", limit: 2 })) seen.push(t.id);
    expect(seen).toEqual(ids(5));
    expect(api.received.map((r) => r.url.search)).toEqual([
      "?status=todo&limit=2",
      "?status=todo&limit=2&cursor=c1",
      "?status=todo&limit=2&cursor=c2",
    ]);
  });

  it("drops page once it pages by cursor, and asks for the next page only when the loop gets there", async () => {
    const { api, client: verk } = await client((r) => ({
      status: 200,
      body: {
        data: [task(`task_${r.url.search}`)],
        pagination: { page: 1, limit: 1, nextCursor: `after${api.received.length}` },
      },
    }));
    let count = 0;
    for await (const _ of verk.projects.listAll({ page: 1, limit: 1 })) {
      count += 1;
      if (count === 3) break;
    }
    expect(api.received.map((r) => r.url.search)).toEqual([
      "?page=1&limit=1",
      "?limit=1&cursor=after1",
      "?limit=1&cursor=after2",
    ]);
  });

  it("against an API without cursors, counts page up to totalPages", async () => {
    const { api, client: verk } = await client((r) => {
      const page = Number(r.url.searchParams.get("page") ?? 1);
      return {
        status: 200,
        body: {
          data: ids(page < 3 ? 2 : 1, (page - 1) * 2).map((id) => task(id)),
          pagination: { page, limit: 2, total: 5, totalPages: 3 },
        },
      };
    });
    const seen: string[] = [];
    for await (const t of verk.tasks.listAll({ limit: 2 })) seen.push(t.id);
    expect(seen).toEqual(ids(5));
    expect(api.received.map((r) => r.url.search)).toEqual(["?limit=2", "?limit=2&page=2", "?limit=2&page=3"]);
  });

  it("an empty list yields nothing after one request; a failing page throws from the loop", async () => {
    const { api, client: verk } = await client((r) =>
      r.url.pathname === "/v1/events"
        ? {
            status: 200,
            body: { data: [], pagination: { page: 1, limit: 50, total: 0, totalPages: 0, nextCursor: null } },
          }
        : { status: 404, body: { error: { code: "NOT_FOUND", message: "Task not found", requestId: "req_x" } } },
    );
    const events = [];
    for await (const e of verk.events.listAll({ type: "task.created" })) events.push(e);
    expect(events).toEqual([]);
    expect(api.received).toHaveLength(1);
    const loop = async () => {
      for await (const _ of verk.comments.listAll("task_missing")) {
      }
    };
    await expect(loop()).rejects.toMatchObject({ status: 404, code: "NOT_FOUND" });
  });
});
