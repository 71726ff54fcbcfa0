import { getEvent, listEvents } from "../../events/log";
import { createRouter } from "../../http/openapi";
import * as routes from "./events.routes";

export const eventsRouter = createRouter()
  .openapi(routes.listEvents, async (c) => {
    return c.json(await listEvents(c.get("db"), c.get("principal").orgId, c.req.valid("query")), 200);
  })
  .openapi(routes.getEvent, async (c) => {
    return c.json(await getEvent(c.get("db"), c.get("principal").orgId, c.req.valid("param").id), 200);
  });
