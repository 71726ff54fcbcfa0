import { buildApp } from "./app";
import { sweepDueObjects } from "./attachments/cleanup";
import type { Env, EventsQueueMessage } from "./env";
import { sweepUnsentEvents } from "./events/sweep";
import { pruneIdempotencyKeys } from "./http/idempotency";
import { alertFailingWebhooks } from "./webhooks/alerts";
import { consumeDeadLetters, consumeEvents, isDeadLetterQueue } from "./webhooks/consumer";
import { reencryptWebhookSecrets } from "./webhooks/reencrypt";
import { pruneDeliveryLog } from "./webhooks/retention";
import { resendStalledDeliveries } from "./webhooks/stalled";

export { RateLimiter } from "./ratelimit/rate-limiter";

const app = buildApp();

export default {
  fetch: app.fetch,

  async scheduled(controller, env, ctx) {
    ctx.waitUntil(sweepUnsentEvents(env));
    ctx.waitUntil(pruneIdempotencyKeys(env.DB));
    ctx.waitUntil(pruneDeliveryLog(env));
    ctx.waitUntil(resendStalledDeliveries(env));
    ctx.waitUntil(reencryptWebhookSecrets(env));
    ctx.waitUntil(alertFailingWebhooks(env, controller.scheduledTime));
    ctx.waitUntil(sweepDueObjects(env));
  },

  async queue(batch, env, _ctx) {
    if (isDeadLetterQueue(batch.queue)) await consumeDeadLetters(batch, env);
    else await consumeEvents(batch, env);
  },
} satisfies ExportedHandler<Env, EventsQueueMessage>;
