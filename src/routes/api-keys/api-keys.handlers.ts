import { responseCarriesSecret } from "../../http/idempotency";
import { createRouter } from "../../http/openapi";
import { createApiKey, listApiKeys, revokeApiKey, rotateApiKey } from "../../identity/api-keys";
import * as routes from "./api-keys.routes";

export const apiKeysRouter = createRouter()
  .openapi(routes.listApiKeys, async (c) => {
    return c.json(await listApiKeys(c.get("db"), c.get("principal").orgId, c.req.valid("query")), 200);
  })
  .openapi(routes.createApiKey, async (c) => {
    const created = await createApiKey(c.env, c.get("db"), c.get("principal"), c.req.valid("json"));
    c.header("Location", `/v1/api-keys/${created.id}`);
    c.header("Cache-Control", "no-store");
    responseCarriesSecret(c, "key");
    return c.json(created, 201);
  })
  .openapi(routes.revokeApiKey, async (c) => {
    await revokeApiKey(c.env, c.get("db"), c.get("principal"), c.req.valid("param").id);
    return c.body(null, 204);
  })
  .openapi(routes.rotateApiKey, async (c) => {
    const { gracePeriodSeconds } = c.req.valid("json");
    const rotated = await rotateApiKey(
      c.env,
      c.get("db"),
      c.get("principal"),
      c.req.valid("param").id,
      gracePeriodSeconds,
    );
    c.header("Location", `/v1/api-keys/${rotated.id}`);
    c.header("Cache-Control", "no-store");
    responseCarriesSecret(c, "key");
    return c.json(rotated, 201);
  });
