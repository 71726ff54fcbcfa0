import type { Context } from "hono";
import type { AppEnv } from "../../http/context";
import { answerOnce } from "../../http/idempotency";
import { createRouter } from "../../http/openapi";
import { getDelivery, listDeliveries, redeliver } from "../../webhooks/deliveries";
import { sendTestDelivery } from "../../webhooks/test-delivery";
import {
  createWebhook,
  deleteWebhook,
  findWebhook,
  listWebhooks,
  presentWebhook,
  rotateWebhookSecret,
  updateWebhook,
  type WebhookScope,
} from "../../webhooks/webhooks";
import * as routes from "./webhooks.routes";

function scopeOf(
  c: Context<AppEnv>,
  answer?: { record: WebhookScope["recordAnswer"]; release?: WebhookScope["releaseAnswer"] },
): WebhookScope {
  const { orgId, plan } = c.get("principal");
  return { db: c.get("db"), orgId, plan, recordAnswer: answer?.record, releaseAnswer: answer?.release };
}

export const webhooksRouter = createRouter()
  .openapi(routes.listWebhooks, async (c) => {
    return c.json(await listWebhooks(c.get("db"), c.get("principal").orgId, c.req.valid("query")), 200);
  })
  .openapi(routes.createWebhook, async (c) => {
    const answer = answerOnce(c, (created: { id: string }) => ({
      status: 201,
      body: created,
      location: `/v1/webhooks/${created.id}`,
      secretPaths: ["secret"],
    }));
    return answer.send(await createWebhook(c.env, scopeOf(c, answer), c.req.valid("json")));
  })
  .openapi(routes.getWebhook, async (c) => {
    const webhook = await findWebhook(c.get("db"), c.get("principal").orgId, c.req.valid("param").id);
    return c.json(presentWebhook(webhook), 200);
  })
  .openapi(routes.updateWebhook, async (c) => {
    return c.json(await updateWebhook(c.env, scopeOf(c), c.req.valid("param").id, c.req.valid("json")), 200);
  })
  .openapi(routes.deleteWebhook, async (c) => {
    await deleteWebhook(scopeOf(c), c.req.valid("param").id);
    return c.body(null, 204);
  })
  .openapi(routes.rotateSecret, async (c) => {
    const answer = answerOnce(c, (rotated: unknown) => ({ status: 200, body: rotated, secretPaths: ["secret"] }));
    return answer.send(
      await rotateWebhookSecret(c.env, scopeOf(c, answer), c.req.valid("param").id, c.req.valid("json")),
    );
  })
  .openapi(routes.testWebhook, async (c) => {
    const { orgName, userId, apiKeyId } = c.get("principal");
    const result = await sendTestDelivery(
      c.env,
      { ...scopeOf(c), orgName, actor: { userId, apiKeyId } },
      c.req.valid("param").id,
      c.req.valid("json").eventType,
    );
    return c.json(result, 200);
  })
  .openapi(routes.listDeliveries, async (c) => {
    return c.json(await listDeliveries(scopeOf(c), c.req.valid("param").id, c.req.valid("query")), 200);
  })
  .openapi(routes.getDelivery, async (c) => {
    const { id, deliveryId } = c.req.valid("param");
    return c.json(await getDelivery(scopeOf(c), id, deliveryId, c.get("principal").orgName), 200);
  })
  .openapi(routes.redeliver, async (c) => {
    const { id, deliveryId } = c.req.valid("param");
    const answer = answerOnce(c, (redelivered: unknown) => ({ status: 202, body: redelivered }));
    return answer.send(await redeliver(c.env, scopeOf(c, answer), id, deliveryId));
  });
