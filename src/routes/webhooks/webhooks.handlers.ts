import type { Context } from "hono";
import type { AppEnv } from "../../http/context";
import { responseCarriesSecret } from "../../http/idempotency";
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

function scopeOf(c: Context<AppEnv>): WebhookScope {
  const { orgId, plan } = c.get("principal");
  return { db: c.get("db"), orgId, plan };
}

export const webhooksRouter = createRouter()
  .openapi(routes.listWebhooks, async (c) => {
    return c.json(await listWebhooks(c.get("db"), c.get("principal").orgId, c.req.valid("query")), 200);
  })
  .openapi(routes.createWebhook, async (c) => {
    responseCarriesSecret(c, "secret");
    const created = await createWebhook(c.env, scopeOf(c), c.req.valid("json"));
    c.header("Location", `/v1/webhooks/${created.id}`);
    c.header("Cache-Control", "no-store");
    return c.json(created, 201);
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
    responseCarriesSecret(c, "secret");
    const rotated = await rotateWebhookSecret(c.env, scopeOf(c), c.req.valid("param").id, c.req.valid("json"));
    c.header("Cache-Control", "no-store");
    return c.json(rotated, 200);
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
    return c.json(await redeliver(c.env, scopeOf(c), id, deliveryId), 202);
  });
