import { nowIso } from "../core/time";
import type { Env, EventsQueueMessage } from "../env";
import { settleStatements } from "./deliveries";

/**
 * A message the queue gave up on after its last retry. A delivery ends `failed`
 * (still redeliverable); an event whose fan-out kept failing is handed back to the
 * outbox (marked unsent), so the cron sweep sends it again rather than losing it.
 */
export async function handleDeadLetter(
  env: Env,
  message: Extract<EventsQueueMessage, { kind: "event" | "delivery" }>,
): Promise<void> {
  if (message.kind === "event") {
    console.error(
      JSON.stringify({
        level: "error",
        msg: "event fan-out dead-lettered; back to the outbox",
        eventId: message.eventId,
      }),
    );
    await env.DB.prepare("UPDATE events SET enqueued_at = NULL WHERE id = ?").bind(message.eventId).run();
    return;
  }
  const [row] = (
    await env.DB.prepare("SELECT webhook_id FROM deliveries WHERE id = ? AND status = 'pending'")
      .bind(message.deliveryId)
      .all<{ webhook_id: string }>()
  ).results;
  // Deleted with its webhook, or settled by a redelivery meanwhile.
  if (!row) return;
  const now = nowIso();
  await env.DB.batch([
    ...settleStatements(env.DB, message.deliveryId, row.webhook_id, "failed", now),
    env.DB.prepare("UPDATE deliveries SET next_attempt_at = NULL WHERE id = ?").bind(message.deliveryId),
  ]);
}
