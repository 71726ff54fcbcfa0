import { env } from "cloudflare:workers";
import type { z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import type { WebhookStatsSchema } from "../src/routes/webhooks/webhook-stats.routes";
import { attemptHoursQuery, deliveryHoursQuery } from "../src/webhooks/stats.queries";
import { makeProject, makeTask } from "./fixtures";
import { call, createOrg, expectError, type TestOrg } from "./harness";
import { createWebhook, HOOK_URL, receiverEndpoint, scriptReceiver, settledDelivery } from "./webhook-helpers";

type WebhookStats = z.infer<typeof WebhookStatsSchema>;
const HOUR = 3_600_000;

async function stats(org: TestOrg, webhookId: string, query = "") {
  const res = await call<WebhookStats>("GET", `/v1/webhooks/${webhookId}/stats${query}`, { key: org.keys.admin });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** The clock hour `hoursAgo` before the current one, as the buckets name it. */
function hourLabel(hoursAgo: number): string {
  return new Date((Math.floor(Date.now() / HOUR) - hoursAgo) * HOUR).toISOString();
}

let seq = 0;
/** A delivery created at `at` in `status` with an attempt per response time (null: not timed). */
function seedDelivery(orgId: string, webhookId: string, at: string, status: string, times: (number | null)[]) {
  seq += 1;
  const id = `del_stats${seq}${crypto.randomUUID().slice(0, 8)}`;
  return [
    env.DB.prepare(
      "INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, status, created_at, updated_at) VALUES (?, ?, ?, ?, 'task.created', ?, ?, ?)",
    ).bind(id, orgId, webhookId, `evt_${id}`, status, at, at),
    ...times.map((ms, i) =>
      env.DB.prepare(
        "INSERT INTO delivery_attempts (id, delivery_id, webhook_id, attempt_number, attempted_at, response_time_ms) VALUES (?, ?, ?, ?, ?, ?)",
      ).bind(`att_${id}_${i}`, id, webhookId, i + 1, at, ms),
    ),
  ];
}

/** 20 minutes into the clock hour `hoursAgo` before this one. */
const inHour = (hoursAgo: number) => new Date(Date.parse(hourLabel(hoursAgo)) + 20 * 60_000).toISOString();

describe("webhook stats: per-hour outcomes and p50", () => {
  it("one bucket per hour, oldest first; counts by outcome; median of an odd and an even count; empty hours", async () => {
    const org = await createOrg();
    const hook = await createWebhook(org, { url: HOOK_URL, events: ["task.created"] });
    await env.DB.batch([
      // Two hours ago: three timed attempts, the median is the middle one.
      ...seedDelivery(org.id, hook.id, inHour(2), "succeeded", [300]),
      ...seedDelivery(org.id, hook.id, inHour(2), "failed", [100, 200]),
      // Five hours ago: four timed attempts (the lower middle, 20) and one untimed.
      ...seedDelivery(org.id, hook.id, inHour(5), "succeeded", [40, 10]),
      ...seedDelivery(org.id, hook.id, inHour(5), "pending", [30, 20, null]),
      // Out of a 24 h window.
      ...seedDelivery(org.id, hook.id, inHour(30), "succeeded", [5]),
    ]);
    const body = await stats(org, hook.id);
    expect(body.webhookId).toBe(hook.id);
    expect(body.hours).toBe(24);
    expect(body.buckets).toHaveLength(24);
    expect(body.from).toBe(body.buckets[0]!.hour);
    const labels = body.buckets.map((b) => b.hour);
    expect(labels).toEqual([...labels].sort());
    expect(Date.parse(labels[23]!) - Date.parse(labels[0]!)).toBe(23 * HOUR);
    const at = (hoursAgo: number) => body.buckets.find((b) => b.hour === hourLabel(hoursAgo));
    expect(at(2)).toEqual({
      hour: hourLabel(2),
      succeeded: 1,
      failed: 1,
      pending: 0,
      attempts: 3,
      p50ResponseTimeMs: 200,
    });
    expect(at(5)).toEqual({
      hour: hourLabel(5),
      succeeded: 1,
      failed: 0,
      pending: 1,
      attempts: 5,
      p50ResponseTimeMs: 20,
    });
    const empty = body.buckets.filter((b) => b.hour !== hourLabel(2) && b.hour !== hourLabel(5));
    expect(empty).toHaveLength(22);
    for (const b of empty) {
      expect(b).toEqual({ hour: b.hour, succeeded: 0, failed: 0, pending: 0, attempts: 0, p50ResponseTimeMs: null });
    }

    const week = await stats(org, hook.id, "?hours=168");
    expect(week.buckets).toHaveLength(168);
    expect(week.buckets.find((b) => b.hour === hourLabel(30))).toMatchObject({ succeeded: 1, p50ResponseTimeMs: 5 });
    const one = await stats(org, hook.id, "?hours=1");
    expect(one.buckets.map((b) => b.hour)).toEqual([hourLabel(0)]);
  });

  it("a real delivery's attempt is counted with its response time", async () => {
    const org = await createOrg();
    const endpoint = receiverEndpoint("stats");
    await scriptReceiver(endpoint.name, [{ status: 200 }]);
    const hook = await createWebhook(org, { url: endpoint.url, events: ["task.created"] });
    await makeTask(org, (await makeProject(org)).id);
    await settledDelivery(org, hook.id, "succeeded");
    const body = await stats(org, hook.id, "?hours=2");
    const total = body.buckets.reduce((n, b) => n + b.succeeded, 0);
    const attempted = body.buckets.filter((b) => b.attempts > 0);
    expect(total).toBe(1);
    expect(attempted).toHaveLength(1);
    expect(attempted[0]!.p50ResponseTimeMs).toEqual(expect.any(Number));
  });

  it("another organization's webhook is a 404; hours out of range or not an integer is a 400 naming hours", async () => {
    const org = await createOrg();
    const other = await createOrg();
    const hook = await createWebhook(org, { url: HOOK_URL, events: ["task.created"] });
    expectError(await call("GET", `/v1/webhooks/${hook.id}/stats`, { key: other.keys.admin }), 404, "NOT_FOUND");
    expectError(await call("GET", "/v1/webhooks/wh_missing/stats", { key: org.keys.admin }), 404, "NOT_FOUND");
    for (const hours of ["0", "169", "-1", "1.5", "abc", ""]) {
      expectError(
        await call("GET", `/v1/webhooks/${hook.id}/stats?hours=${hours}`, { key: org.keys.admin }),
        400,
        "VALIDATION_ERROR",
        "hours",
      );
    }
    expectError(
      await call("GET", `/v1/webhooks/${hook.id}/stats?days=1`, { key: org.keys.admin }),
      400,
      "VALIDATION_ERROR",
      "days",
    );
  });

  it("both aggregates read an index range of the webhook's rows, not the table", async () => {
    const db = drizzle(env.DB);
    const planOf = async (query: ReturnType<typeof deliveryHoursQuery>) =>
      (await db.all<{ detail: string }>(sql`EXPLAIN QUERY PLAN ${query}`)).map((r) => r.detail).join(" | ");
    const from = "2026-01-01T00:00:00.000Z";
    expect(await planOf(deliveryHoursQuery("wh_x", from))).toMatch(
      /SEARCH deliveries USING (COVERING )?INDEX deliveries_webhook_(status_)?created \(webhook_id=\?/,
    );
    expect(await planOf(attemptHoursQuery("wh_x", from))).toContain(
      "SEARCH delivery_attempts USING INDEX delivery_attempts_webhook_attempted (webhook_id=? AND attempted_at>?)",
    );
  });
});
