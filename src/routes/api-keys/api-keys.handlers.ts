import { type Answer, answerOnce } from "../../http/idempotency";
import { createRouter } from "../../http/openapi";
import { linkNextPage } from "../../http/pagination";
import { writeContext } from "../../http/write-context";
import { createApiKey, listApiKeys, revokeApiKey, rotateApiKey } from "../../identity/api-keys";
import * as routes from "./api-keys.routes";

/** A new key: 201 at its Location, the secret key in this answer only (replays omit it). */
function keyShownOnce(created: { id: string }): Answer<unknown, 201> {
  return { status: 201, body: created, location: `/v1/api-keys/${created.id}`, secretPaths: ["key"] };
}

export const apiKeysRouter = createRouter()
  .openapi(routes.listApiKeys, async (c) => {
    const page = await listApiKeys(c.get("db"), c.get("principal").orgId, c.req.valid("query"));
    linkNextPage(c, page);
    return c.json(page, 200);
  })
  .openapi(routes.createApiKey, async (c) => {
    const answer = answerOnce(c, keyShownOnce);
    return answer.send(await createApiKey(writeContext(c, answer), c.req.valid("json")));
  })
  .openapi(routes.revokeApiKey, async (c) => {
    await revokeApiKey(writeContext(c), { id: c.req.valid("param").id });
    return c.body(null, 204);
  })
  .openapi(routes.rotateApiKey, async (c) => {
    const { gracePeriodSeconds } = c.req.valid("json");
    const answer = answerOnce(c, keyShownOnce);
    return answer.send(
      await rotateApiKey(writeContext(c, answer), { id: c.req.valid("param").id, gracePeriodSeconds }),
    );
  });
