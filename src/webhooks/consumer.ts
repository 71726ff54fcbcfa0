import { configFrom } from "../config";
import type { Env, EventsQueueMessage } from "../env";
import { invalidateKeyPage } from "../identity/key-cache";
import { handleDeadLetter } from "./dead-letter";
import { attemptDelivery, retryDelaySeconds } from "./deliver";
import { fanOutEvent } from "./fanout";

/** The dead-letter queue's name ends so (`verk-events-dlq`); every other batch is the main queue. */
export function isDeadLetterQueue(queueName: string): boolean {
  return queueName.endsWith("-dlq");
}

/**
 * The events queue consumer. `event` messages fan out to deliveries; `delivery`
 * messages make one attempt each. Messages of a batch run concurrently and are
 * acknowledged or retried one by one, so one slow receiver never holds back the rest.
 */
export async function consumeEvents(batch: MessageBatch<EventsQueueMessage>, env: Env): Promise<void> {
  const schedule = configFrom(env).webhookRetryScheduleSeconds;
  await Promise.all(
    batch.messages.map(async (message) => {
      const body = message.body;
      try {
        if (body?.kind === "event") {
          await fanOutEvent(env, body.eventId);
          message.ack();
        } else if (body?.kind === "invalidate-keys") {
          await invalidateKeyPage(env, body);
          message.ack();
        } else if (body?.kind === "delivery") {
          const verdict = await attemptDelivery(env, body.deliveryId, message.attempts, Math.random, body.after);
          if (verdict.ack) message.ack();
          else message.retry({ delaySeconds: verdict.delaySeconds });
        } else {
          logError("unknown message on the events queue; dropped", { body });
          message.ack();
        }
      } catch (error) {
        // Our own failure (D1 unavailable, say), not the receiver's: try again later.
        logError("events queue message failed; retrying", { body, attempts: message.attempts, error: String(error) });
        message.retry({ delaySeconds: retryDelaySeconds(schedule, message.attempts) });
      }
    }),
  );
}

/** The dead-letter queue consumer: records what the main queue gave up on. */
export async function consumeDeadLetters(batch: MessageBatch<EventsQueueMessage>, env: Env): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        if (message.body?.kind === "event" || message.body?.kind === "delivery")
          await handleDeadLetter(env, message.body);
        message.ack();
      } catch (error) {
        logError("dead-letter message failed; retrying", { body: message.body, error: String(error) });
        message.retry({ delaySeconds: 30 });
      }
    }),
  );
}

function logError(msg: string, fields: Record<string, unknown>): void {
  console.error(JSON.stringify({ level: "error", msg, ...fields }));
}
