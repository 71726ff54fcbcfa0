import { configFrom } from "../config";
import type { Env, EventsQueueMessage } from "../env";
import { invalidateKeyPage } from "../identity/key-cache";
import { attemptDeliveries } from "./attempts";
import { handleDeadLetter } from "./dead-letter";
import { retryDelaySeconds } from "./deliver";
import { fanOutEvent } from "./fanout";

/** The dead-letter queue's name ends so (`verk-events-dlq`); every other batch is the main queue. */
export function isDeadLetterQueue(queueName: string): boolean {
  return queueName.endsWith("-dlq");
}

/**
 * The events queue consumer. `delivery` messages (retries, and deliveries handed over
 * by dispatch) are attempted together, one D1 read and one D1 write for the batch
 * (attempts.ts); `event` messages (the outbox sweep's, and fan-outs too wide to send
 * straight after the commit) fan out to deliveries; `invalidate-keys` walks key records.
 * Every message is acknowledged or retried on its own.
 */
export async function consumeEvents(batch: MessageBatch<EventsQueueMessage>, env: Env): Promise<void> {
  const schedule = configFrom(env).webhookRetryScheduleSeconds;
  const retryLater = (message: Message<EventsQueueMessage>, error: unknown) => {
    // Our own failure (D1 unavailable, say), not the receiver's: try again later.
    logError("events queue message failed; retrying", {
      body: message.body,
      attempts: message.attempts,
      error: String(error),
    });
    message.retry({ delaySeconds: retryDelaySeconds(schedule, message.attempts) });
  };
  const sends = batch.messages.filter((m) => m.body?.kind === "delivery");
  const deliver = async () => {
    if (sends.length === 0) return;
    try {
      const verdicts = await attemptDeliveries(
        env,
        sends.map((m) => {
          const body = m.body as Extract<EventsQueueMessage, { kind: "delivery" }>;
          return { deliveryId: body.deliveryId, attempts: m.attempts, after: body.after };
        }),
      );
      sends.forEach((message, i) => {
        const verdict = verdicts[i]!;
        if (verdict.ack) message.ack();
        else message.retry({ delaySeconds: verdict.delaySeconds });
      });
    } catch (error) {
      for (const message of sends) retryLater(message, error);
    }
  };
  await Promise.all([
    deliver(),
    ...batch.messages
      .filter((m) => m.body?.kind !== "delivery")
      .map(async (message) => {
        const body = message.body;
        try {
          if (body?.kind === "event") await fanOutEvent(env, body.eventId);
          else if (body?.kind === "invalidate-keys") await invalidateKeyPage(env, body);
          else logError("unknown message on the events queue; dropped", { body });
          message.ack();
        } catch (error) {
          retryLater(message, error);
        }
      }),
  ]);
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
