import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../src/env";
import { pruneDeliveryLog } from "../src/webhooks/retention";
import { createOrg } from "./harness";
import { createWebhook, receiverEndpoint } from "./webhook-helpers";
import { insertDelivery, insertEvent } from "./webhook-queue";

describe("webhooks: delivery log retention", () => {
  it("prunes settled deliveries past the retention, with their attempts; keeps pending and recent ones", async () => {
    const org = await createOrg();
    const hook = await createWebhook(org, { url: receiverEndpoint("retention").url, events: ["member.added"] });
    const make = async (status: string, ageDays: number) => {
      const eventId = await insertEvent(org, "member.added", { id: "user_r" });
      const id = await insertDelivery(org, hook.id, eventId, status);
      const at = new Date(Date.now() - ageDays * 86_400_000).toISOString();
      await env.DB.batch([
        env.DB.prepare("UPDATE deliveries SET updated_at = ?, created_at = ? WHERE id = ?").bind(at, at, id),
        env.DB.prepare(
          "INSERT INTO delivery_attempts (id, delivery_id, attempt_number, attempted_at, status_code) VALUES (?, ?, 1, ?, 500)",
        ).bind(`att_${id}`, id, at),
      ]);
      return id;
    };
    const oldFailed = await make("failed", 31);
    const oldSucceeded = await make("succeeded", 45);
    const oldPending = await make("pending", 40);
    const recent = await make("failed", 2);

    expect(await pruneDeliveryLog(env as Env)).toBe(2);
    const left = await env.DB.prepare("SELECT id FROM deliveries WHERE webhook_id = ?")
      .bind(hook.id)
      .all<{ id: string }>();
    expect(left.results.map((r) => r.id).sort()).toEqual([oldPending, recent].sort());
    const orphanAttempts = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM delivery_attempts WHERE delivery_id IN (?, ?)",
    )
      .bind(oldFailed, oldSucceeded)
      .first("n");
    expect(orphanAttempts).toBe(0);
    expect(await pruneDeliveryLog(env as Env)).toBe(0);
  });
});
