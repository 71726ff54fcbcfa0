import { describe, expect, it } from "vitest";
import { checkWebhookUrl } from "../src/webhooks/url-policy";
import type { Page, Webhook } from "./api-types";
import { call, createOrg, expectError } from "./harness";
import { createWebhook, HOOK_URL } from "./webhook-helpers";

describe("webhooks: refused input", () => {
  // The tests run with the local-development flag on, which admits 127.0.0.1 and
  // localhost themselves; the flag-off policy for those is checked on the function below.
  const refusedUrls: [string, string][] = [
    ["http://hooks.example.com/verk", "must use https"],
    ["ftp://hooks.example.com/verk", "must use https"],
    ["not a url", "not an absolute URL"],
    ["https://user:pass@hooks.example.com/verk", "credentials"],
    ["https://token@hooks.example.com/verk", "credentials"],
    ["https://127.1.2.3/hook", "loopback"],
    ["http://127.0.0.2/hook", "must use https"],
    ["https://api.localhost/hook", "local name"],
    ["https://metadata.google.internal/computeMetadata/v1/", "local name"],
    ["https://printer.local/hook", "local name"],
    ["https://intranet/hook", "not a public domain name"],
    ["https://10.1.2.3/hook", "private"],
    ["https://172.16.0.1/hook", "private"],
    ["https://172.31.255.255/hook", "private"],
    ["https://192.168.1.10/hook", "private"],
    ["https://100.64.0.1/hook", "carrier-grade NAT"],
    ["https://169.254.169.254/latest/meta-data/", "link-local"],
    ["https://0.0.0.0/hook", "'this network'"],
    ["https://224.0.0.1/hook", "multicast"],
    ["https://[::1]/hook", "loopback"],
    ["https://[::]/hook", "unspecified"],
    ["https://[fe80::1]/hook", "link-local"],
    ["https://[fc00::1]/hook", "unique-local"],
    ["https://[fd00:ec2::254]/latest/meta-data/", "unique-local"],
    ["https://[::ffff:127.0.0.1]/hook", "loopback"],
    ["https://[::ffff:a9fe:a9fe]/hook", "link-local"],
    ["https://[64:ff9b::10.0.0.1]/hook", "private"],
    ["https://[2002:c0a8:101::1]/hook", "private"],
    [`https://hooks.example.com/${"a".repeat(2100)}`, "2048"],
  ];

  it.each(refusedUrls)("refuses %s", async (url, why) => {
    const org = await createOrg();
    const res = await call("POST", "/v1/webhooks", { key: org.keys.admin, body: { url, events: ["*"] } });
    expectError(res, 400, "VALIDATION_ERROR", "url");
    expect(res.body.error.message).toContain(why);
  });

  it("refuses the same URLs on update", async () => {
    const org = await createOrg();
    const hook = await createWebhook(org, { url: HOOK_URL, events: ["*"] });
    const res = await call("PATCH", `/v1/webhooks/${hook.id}`, {
      key: org.keys.admin,
      body: { url: "https://169.254.169.254/" },
    });
    expectError(res, 400, "VALIDATION_ERROR", "url");
    const unchanged = await call<Webhook>("GET", `/v1/webhooks/${hook.id}`, { key: org.keys.admin });
    expect(unchanged.body.url).toBe(HOOK_URL);
  });

  it("admits public hosts and, with the local-development flag only, http to 127.0.0.1 and localhost", () => {
    const dev = { allowLocalhost: true };
    const prod = { allowLocalhost: false };
    expect(checkWebhookUrl("https://hooks.example.com/x?y=1", prod)).toEqual({
      ok: true,
      url: "https://hooks.example.com/x?y=1",
    });
    expect(checkWebhookUrl("https://93.184.215.14/x", prod).ok).toBe(true);
    expect(checkWebhookUrl("https://[2606:4700::1111]/x", prod).ok).toBe(true);
    expect(checkWebhookUrl("http://127.0.0.1:8080/x", dev).ok).toBe(true);
    expect(checkWebhookUrl("http://localhost:8080/x", dev).ok).toBe(true);
    expect(checkWebhookUrl("http://127.0.0.1:8080/x", prod)).toMatchObject({ ok: false });
    expect(checkWebhookUrl("https://127.0.0.1/x", prod)).toMatchObject({ ok: false });
    expect(checkWebhookUrl("https://localhost/x", prod)).toMatchObject({ ok: false });
    expect(checkWebhookUrl("https://localhost./x", prod)).toMatchObject({ ok: false });
    for (const bypass of [
      "https://localhost../x",
      "https://foo.localhost../x",
      "https://[::ffff:0:7f00:1]/x",
      "https://[64:ff9b:1::a9fe:a9fe]/x",
      "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/x",
      "https://example.com:0/x",
    ]) {
      expect(checkWebhookUrl(bypass, prod), bypass).toMatchObject({ ok: false });
    }
    // Decimal and hex spellings of 127.0.0.1 are normalised before the check.
    expect(checkWebhookUrl("https://2130706433/x", prod)).toMatchObject({
      ok: false,
      reason: expect.stringContaining("loopback"),
    });
    expect(checkWebhookUrl("https://0x7f.0.0.1/x", prod)).toMatchObject({
      ok: false,
      reason: expect.stringContaining("loopback"),
    });
    expect(checkWebhookUrl("http://[::1]:8080/x", dev)).toMatchObject({ ok: false });
    expect(checkWebhookUrl("http://10.0.0.1/x", dev)).toMatchObject({ ok: false });
  });

  it("refuses unknown event types, an empty list, and * mixed with types", async () => {
    const org = await createOrg();
    const unknown = await call("POST", "/v1/webhooks", {
      key: org.keys.admin,
      body: { url: HOOK_URL, events: ["task.created", "task.exploded"] },
    });
    expectError(unknown, 400, "VALIDATION_ERROR", "events.1");
    expect(unknown.body.error.message).toContain("task.exploded");
    expectError(
      await call("POST", "/v1/webhooks", { key: org.keys.admin, body: { url: HOOK_URL, events: [] } }),
      400,
      "VALIDATION_ERROR",
      "events",
    );
    expectError(
      await call("POST", "/v1/webhooks", {
        key: org.keys.admin,
        body: { url: HOOK_URL, events: ["*", "task.created"] },
      }),
      400,
      "VALIDATION_ERROR",
      "events",
    );
    expectError(
      await call("POST", "/v1/webhooks", { key: org.keys.admin, body: { url: HOOK_URL, events: "task.created" } }),
      400,
      "VALIDATION_ERROR",
      "events",
    );
  });

  it("refuses missing fields, unknown fields, short secrets and bad filters by name", async () => {
    const org = await createOrg();
    const other = await createOrg();
    const cases: [Record<string, unknown>, string][] = [
      [{ events: ["*"] }, "url"],
      [{ url: HOOK_URL }, "events"],
      [{ url: HOOK_URL, events: ["*"], retries: 3 }, "retries"],
      [{ url: HOOK_URL, events: ["*"], secret: "short" }, "secret"],
      [{ url: HOOK_URL, events: ["*"], secret: "has spaces in the secret" }, "secret"],
      [{ url: HOOK_URL, events: ["*"], enabled: "yes" }, "enabled"],
      [{ url: HOOK_URL, events: ["*"], filters: { tag: "x" } }, "filters.tag"],
      [{ url: HOOK_URL, events: ["*"], filters: { projectId: "proj_missing" } }, "filters.projectId"],
      [{ url: HOOK_URL, events: ["*"], filters: { assigneeId: other.member.id } }, "filters.assigneeId"],
    ];
    for (const [body, field] of cases) {
      expectError(await call("POST", "/v1/webhooks", { key: org.keys.admin, body }), 400, "VALIDATION_ERROR", field);
    }
    const list = await call<Page<Webhook>>("GET", "/v1/webhooks", { key: org.keys.admin });
    expect(list.body.pagination.total).toBe(0);
  });

  it("refuses unknown query parameters and bad filters on the delivery log", async () => {
    const org = await createOrg();
    const hook = await createWebhook(org, { url: HOOK_URL, events: ["*"] });
    expectError(await call("GET", "/v1/webhooks?color=red", { key: org.keys.admin }), 400, "VALIDATION_ERROR", "color");
    expectError(
      await call("GET", `/v1/webhooks/${hook.id}/deliveries?status=lost`, { key: org.keys.admin }),
      400,
      "VALIDATION_ERROR",
      "status",
    );
    expectError(
      await call("GET", `/v1/webhooks/${hook.id}/deliveries?event=task.exploded`, { key: org.keys.admin }),
      400,
      "VALIDATION_ERROR",
      "event",
    );
    expectError(
      await call("POST", `/v1/webhooks/${hook.id}/test`, { key: org.keys.admin, body: { eventType: "nope" } }),
      400,
      "VALIDATION_ERROR",
      "eventType",
    );
  });
});
