import { buildApp } from "./app";
import type { Env, EventsQueueMessage } from "./env";
import { sweepUnsentEvents } from "./events/sweep";

export { RateLimiter } from "./ratelimit/rate-limiter";

const app = buildApp();

export default {
  fetch: app.fetch,

  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(sweepUnsentEvents(env));
  },

  async queue(batch, _env, _ctx) {
    // Webhook fan-out and delivery consume these (see src/webhooks).
    for (const message of batch.messages) message.ack();
  },
} satisfies ExportedHandler<Env, EventsQueueMessage>;
