import { describe, expect, it } from "vitest";
import type { Event, Page } from "./api-types";
import { eventCount, makeComment, makeProject, makeTask } from "./fixtures";
import { call, createOrg, expectError, type TestOrg } from "./harness";

/** Each resource with an ETag: how to make one, its path, and a change to apply. */
const resources = [
  {
    name: "project",
    make: async (org: TestOrg) => `/v1/projects/${(await makeProject(org)).id}`,
    change: { name: "Changed" },
  },
  {
    name: "task",
    make: async (org: TestOrg) => `/v1/tasks/${(await makeTask(org, (await makeProject(org)).id)).id}`,
    change: { title: "Changed" },
  },
  {
    name: "comment",
    make: async (org: TestOrg) => {
      const task = await makeTask(org, (await makeProject(org)).id);
      return `/v1/comments/${(await makeComment(org, task.id)).id}`;
    },
    change: { content: "Changed" },
  },
];

describe.each(resources)("ETag on a $name", ({ make, change }) => {
  it("GET answers an ETag; If-None-Match with it (or W/, *, a list) is a 304 without a body", async () => {
    const org = await createOrg();
    const path = await make(org);
    const res = await call("GET", path, { key: org.keys.read });
    const etag = res.headers.get("ETag")!;
    expect(etag).toMatch(/^"[0-9A-Za-z]+"$/);
    for (const value of [etag, `W/${etag}`, "*", `"other", ${etag}`]) {
      const cached = await call("GET", path, { key: org.keys.read, headers: { "If-None-Match": value } });
      expect(cached.status, value).toBe(304);
      expect(cached.body).toBeNull();
      expect(cached.headers.get("ETag")).toBe(etag);
      expect(cached.headers.get("X-Request-Id")).toBeTruthy();
      expect(cached.headers.get("X-RateLimit-Remaining")).toBeTruthy();
    }
    const stale = await call("GET", path, { key: org.keys.read, headers: { "If-None-Match": '"old"' } });
    expect(stale.status).toBe(200);
  });

  it("PATCH answers the new ETag, which GET then shows; the old one no longer gives 304", async () => {
    const org = await createOrg();
    const path = await make(org);
    const before = (await call("GET", path, { key: org.keys.read })).headers.get("ETag")!;
    const patched = await call("PATCH", path, { key: org.keys.write, body: change });
    expect(patched.status).toBe(200);
    const after = patched.headers.get("ETag")!;
    expect(after).toMatch(/^".+"$/);
    expect(after).not.toBe(before);
    expect((await call("GET", path, { key: org.keys.read })).headers.get("ETag")).toBe(after);
    const cached = await call("GET", path, { key: org.keys.read, headers: { "If-None-Match": before } });
    expect(cached.status).toBe(200);
  });

  it("PATCH and DELETE with a stale If-Match are 412 and change nothing; the current one applies", async () => {
    const org = await createOrg();
    const path = await make(org);
    const original = await call("GET", path, { key: org.keys.read });
    const etag = original.headers.get("ETag")!;
    await call("PATCH", path, { key: org.keys.write, body: change });
    const current = (await call("GET", path, { key: org.keys.read })).headers.get("ETag")!;
    const events = await eventCount(org.id);

    const stalePatch = await call("PATCH", path, {
      key: org.keys.write,
      body: { ...change },
      headers: { "If-Match": etag },
    });
    expectError(stalePatch, 412, "PRECONDITION_FAILED");
    expectError(
      await call("DELETE", path, { key: org.keys.write, headers: { "If-Match": etag } }),
      412,
      "PRECONDITION_FAILED",
    );
    expect(await eventCount(org.id)).toBe(events);
    expect((await call("GET", path, { key: org.keys.read })).status).toBe(200);

    const ok = await call("PATCH", path, {
      key: org.keys.write,
      body: Object.fromEntries(Object.keys(change).map((k) => [k, "Again"])),
      headers: { "If-Match": current },
    });
    expect(ok.status).toBe(200);
    const newest = ok.headers.get("ETag")!;
    expect(
      (await call("DELETE", path, { key: org.keys.write, headers: { "If-Match": `"x", ${newest}` } })).status,
    ).toBe(200);
    expectError(await call("GET", path, { key: org.keys.read }), 404, "NOT_FOUND");
  });

  it("If-Match compares strongly: the current tag marked weak (W/) is 412 and changes nothing", async () => {
    const org = await createOrg();
    const path = await make(org);
    const etag = (await call("GET", path, { key: org.keys.read })).headers.get("ETag")!;
    for (const value of [`W/${etag}`, `"other", W/${etag}`]) {
      const weak = await call("PATCH", path, { key: org.keys.write, body: change, headers: { "If-Match": value } });
      expectError(weak, 412, "PRECONDITION_FAILED", "If-Match");
    }
    expect((await call("GET", path, { key: org.keys.read })).headers.get("ETag")).toBe(etag);
    const strong = await call("PATCH", path, { key: org.keys.write, body: change, headers: { "If-Match": etag } });
    expect(strong.status).toBe(200);
  });

  it("If-Match: * applies to any current version", async () => {
    const org = await createOrg();
    const path = await make(org);
    const res = await call("PATCH", path, { key: org.keys.write, body: change, headers: { "If-Match": "*" } });
    expect(res.status).toBe(200);
  });

  it("two concurrent PATCHes with the same If-Match: exactly one wins, the other is 412", async () => {
    const org = await createOrg();
    const path = await make(org);
    const etag = (await call("GET", path, { key: org.keys.read })).headers.get("ETag")!;
    const field = Object.keys(change)[0]!;
    const events = await eventCount(org.id);
    const results = await Promise.all(
      ["First", "Second"].map((value) =>
        call<Record<string, unknown>>("PATCH", path, {
          key: org.keys.write,
          body: { [field]: value },
          headers: { "If-Match": etag },
        }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 412]);
    const winner = results.find((r) => r.status === 200)!;
    const now = await call<Record<string, unknown>>("GET", path, { key: org.keys.read });
    expect(now.body[field]).toBe(winner.body[field]);
    expect(now.headers.get("ETag")).toBe(winner.headers.get("ETag"));
    expect(await eventCount(org.id)).toBe(events + 1);
  });
});

describe("concurrent writes without If-Match", () => {
  it("never lose an event: every successful PATCH has its event, a collision is a 409", async () => {
    const org = await createOrg();
    const task = await makeTask(org, (await makeProject(org)).id);
    const events = await eventCount(org.id);
    const results = await Promise.all(
      ["a", "b", "c", "d"].map((title) =>
        call("PATCH", `/v1/tasks/${task.id}`, { key: org.keys.write, body: { title } }),
      ),
    );
    for (const res of results) {
      expect([200, 409]).toContain(res.status);
      if (res.status === 409) expectError(res, 409, "CONFLICT");
    }
    const succeeded = results.filter((r) => r.status === 200).length;
    expect(succeeded).toBeGreaterThanOrEqual(1);
    const updates = (
      await call<Page<Event>>("GET", `/v1/events?resourceId=${task.id}&type=task.updated`, { key: org.keys.read })
    ).body.data;
    expect(updates).toHaveLength(succeeded);
    expect(await eventCount(org.id)).toBe(events + succeeded);
  });
});
