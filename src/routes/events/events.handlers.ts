import { getEvent, listEvents } from "../../events/log";
import { createRouter } from "../../http/openapi";
import { linkNextPage } from "../../http/pagination";
import * as routes from "./events.routes";

export const eventsRouter = createRouter()
  .openapi(routes.listEvents, async (c) => {
    const page = await listEvents(c.get("db"), c.get("principal").orgId, c.req.valid("query"));
    linkNextPage(c, page);
    return c.json(page, 200);
  })
  .openapi(routes.getEvent, async (c) => {
    return c.json(await getEvent(c.get("db"), c.get("principal").orgId, c.req.valid("param").id), 200);
  });
