import { and, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { newId } from "../core/ids";
import { nowIso } from "../core/time";
import { deliveries } from "../db/schema";
import type { Env, EventsQueueMessage } from "../env";
import { returnToOutbox } from "../events/outbox";
import { alertIds, sendAlerts } from "./alerts";
import { exhaustedAlertStatement } from "./alerts.queries";
import { clearNextAttempt, settleStatements } from "./deliveries.queries";

/**
 * A message the queue gave up on after its last retry. A delivery ends `failed`
 * (still redeliverable), announced by `delivery.exhausted` (README "Alerts"); an event whose fan-out kept failing is handed back to the
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
    await returnToOutbox(env, message.eventId);
    return;
  }
  const [row] = await drizzle(env.DB)
    .select({ webhookId: deliveries.webhookId })
    .from(deliveries)
    .where(and(eq(deliveries.id, message.deliveryId), eq(deliveries.status, "pending")));
  // Deleted with its webhook, or settled by a redelivery meanwhile.
  if (!row) return;
  const now = nowIso();
  const written = await env.DB.batch([
    exhaustedAlertStatement(env.DB, newId("evt"), message.deliveryId, now),
    ...settleStatements(env.DB, message.deliveryId, row.webhookId, "failed", now),
    clearNextAttempt(env.DB, message.deliveryId),
  ]);
  await sendAlerts(env, alertIds(written, [0]));
}
