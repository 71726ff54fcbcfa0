import { ifMatchOf, notModified, setEtag } from "../../http/etag";
import { answerOnce } from "../../http/idempotency";
import { createRouter } from "../../http/openapi";
import { linkNextPage } from "../../http/pagination";
import { writeContext } from "../../http/write-context";
import {
  createIncomingWebhook,
  deleteIncomingWebhook,
  findIncomingWebhook,
  listIncomingWebhooks,
  presentIncomingWebhook,
  rotateIncomingWebhookKey,
  updateIncomingWebhook,
} from "../../incoming-webhooks/incoming-webhooks";
import * as routes from "./incoming-webhooks.routes";

export const incomingWebhooksRouter = createRouter()
  .openapi(routes.listIncomingWebhooks, async (c) => {
    const page = await listIncomingWebhooks(c.get("db"), c.get("principal").orgId, c.req.valid("query"));
    linkNextPage(c, page);
    return c.json(page, 200);
  })
  .openapi(routes.getIncomingWebhook, async (c) => {
    const row = await findIncomingWebhook(c.get("db"), c.get("principal").orgId, c.req.valid("param").id);
    if (notModified(c, row.etag)) return c.body(null, 304);
    return c.json(presentIncomingWebhook(row), 200);
  })
  .openapi(routes.createIncomingWebhook, async (c) => {
    const answer = answerOnce(c, (created: { id: string }) => ({
      status: 201,
      body: created,
      location: `/v1/incoming-webhooks/${created.id}`,
      secretPaths: ["key"],
    }));
    return answer.send(await createIncomingWebhook(writeContext(c, answer), c.req.valid("json")));
  })
  .openapi(routes.updateIncomingWebhook, async (c) => {
    const { resource, etag } = await updateIncomingWebhook(writeContext(c), {
      id: c.req.valid("param").id,
      patch: c.req.valid("json"),
      ifMatch: ifMatchOf(c),
    });
    setEtag(c, etag);
    return c.json(resource, 200);
  })
  .openapi(routes.deleteIncomingWebhook, async (c) => {
    await deleteIncomingWebhook(writeContext(c), { id: c.req.valid("param").id, ifMatch: ifMatchOf(c) });
    return c.body(null, 204);
  })
  .openapi(routes.rotateIncomingWebhook, async (c) => {
    const answer = answerOnce(c, (rotated: unknown) => ({ status: 200, body: rotated, secretPaths: ["key"] }));
    return answer.send(await rotateIncomingWebhookKey(writeContext(c, answer), { id: c.req.valid("param").id }));
  });
