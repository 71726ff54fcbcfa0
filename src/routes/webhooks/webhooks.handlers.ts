import type { Context } from "hono";
import type { AppEnv } from "../../http/context";
import { answerOnce } from "../../http/idempotency";
import { createRouter } from "../../http/openapi";
import { linkNextPage } from "../../http/pagination";
import { type AnswerHooks, writeContext } from "../../http/write-context";
import { getDelivery, listDeliveries, redeliver } from "../../webhooks/deliveries";
import { recoverDeliveries } from "../../webhooks/recovery";
import { listSigningKeys, rotateSigningKey } from "../../webhooks/signing-keys";
import { getWebhookStats } from "../../webhooks/stats";
import { sendTestDelivery } from "../../webhooks/test-delivery";
import {
  createWebhook,
  deleteWebhook,
  findWebhook,
  listWebhooks,
  presentWebhook,
  rotateWebhookSecret,
  updateWebhook,
  type WebhookContext,
} from "../../webhooks/webhooks";
import { answerDeleted } from "../common";
import * as signingKeyRoutes from "./signing-keys.routes";
import * as statsRoutes from "./webhook-stats.routes";
import * as routes from "./webhooks.routes";

/** A webhook write's context: the caller's, plus the plan and the deployment. */
function webhookContext(c: Context<AppEnv>, answer?: AnswerHooks): WebhookContext {
  return { ...writeContext(c, answer), plan: c.get("principal").plan, env: c.env };
}

export const webhooksRouter = createRouter()
  // Before the `/{id}` routes, which would otherwise take `signing-keys` for an id.
  .openapi(signingKeyRoutes.listSigningKeys, async (c) => {
    return c.json(await listSigningKeys(c.env, c.get("db"), c.get("principal").orgId), 200);
  })
  .openapi(signingKeyRoutes.rotateSigningKey, async (c) => {
    const answer = answerOnce(c, (rotated: unknown) => ({ status: 200, body: rotated }));
    return answer.send(await rotateSigningKey(webhookContext(c, answer), c.req.valid("json")));
  })
  .openapi(routes.listWebhooks, async (c) => {
    const page = await listWebhooks(c.get("db"), c.get("principal").orgId, c.req.valid("query"));
    linkNextPage(c, page);
    return c.json(page, 200);
  })
  .openapi(routes.createWebhook, async (c) => {
    const answer = answerOnce(c, (created: { id: string }) => ({
      status: 201,
      body: created,
      location: `/v1/webhooks/${created.id}`,
      secretPaths: ["secret"],
    }));
    return answer.send(await createWebhook(webhookContext(c, answer), c.req.valid("json")));
  })
  .openapi(routes.getWebhook, async (c) => {
    const webhook = await findWebhook(c.get("db"), c.get("principal").orgId, c.req.valid("param").id);
    return c.json(presentWebhook(webhook), 200);
  })
  .openapi(statsRoutes.getWebhookStats, async (c) => {
    const { orgId } = c.get("principal");
    return c.json(await getWebhookStats(c.get("db"), orgId, c.req.valid("param").id, c.req.valid("query").hours), 200);
  })
  .openapi(routes.updateWebhook, async (c) => {
    return c.json(
      await updateWebhook(webhookContext(c), { id: c.req.valid("param").id, patch: c.req.valid("json") }),
      200,
    );
  })
  .openapi(routes.deleteWebhook, async (c) => {
    const { id } = c.req.valid("param");
    await deleteWebhook(writeContext(c), { id });
    return answerDeleted(c, id);
  })
  .openapi(routes.rotateSecret, async (c) => {
    const answer = answerOnce(c, (rotated: unknown) => ({ status: 200, body: rotated, secretPaths: ["secret"] }));
    return answer.send(
      await rotateWebhookSecret(webhookContext(c, answer), { id: c.req.valid("param").id, ...c.req.valid("json") }),
    );
  })
  .openapi(routes.testWebhook, async (c) => {
    const result = await sendTestDelivery(
      { ...webhookContext(c), orgName: c.get("principal").orgName },
      { id: c.req.valid("param").id, eventType: c.req.valid("json").eventType },
    );
    return c.json(result, 200);
  })
  .openapi(routes.listDeliveries, async (c) => {
    const { orgId } = c.get("principal");
    const page = await listDeliveries(c.get("db"), orgId, c.req.valid("param").id, c.req.valid("query"));
    linkNextPage(c, page);
    return c.json(page, 200);
  })
  .openapi(routes.getDelivery, async (c) => {
    const { id, deliveryId } = c.req.valid("param");
    const { orgId, orgName } = c.get("principal");
    return c.json(await getDelivery(c.get("db"), { id: orgId, name: orgName }, id, deliveryId), 200);
  })
  .openapi(routes.redeliver, async (c) => {
    const { id, deliveryId } = c.req.valid("param");
    const answer = answerOnce(c, (redelivered: unknown) => ({ status: 202, body: redelivered }));
    return answer.send(await redeliver(webhookContext(c, answer), { webhookId: id, deliveryId }));
  })
  .openapi(routes.recoverDeliveries, async (c) => {
    // Several batches, so the answer is not stored inside one: the idempotency middleware
    // stores it after a 2xx, and a replay with the same key answers it again, sending nothing.
    const recovery = await recoverDeliveries(webhookContext(c), {
      webhookId: c.req.valid("param").id,
      ...c.req.valid("json"),
    });
    return c.json(recovery, 202);
  });
