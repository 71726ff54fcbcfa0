import { ifMatchOf, notModified, setEtag } from "../../http/etag";
import { answerOnce, createdAt } from "../../http/idempotency";
import { createRouter } from "../../http/openapi";
import { linkNextPage } from "../../http/pagination";
import { writeContext } from "../../http/write-context";
import { listTasks } from "../../tasks/task-query";
import { createTask, deleteTask, getTask, updateTask } from "../../tasks/tasks";
import * as routes from "./tasks.routes";

export const tasksRouter = createRouter()
  .openapi(routes.listTasks, async (c) => {
    const page = await listTasks(c.get("db"), c.get("principal").orgId, c.req.valid("query"));
    linkNextPage(c, page);
    return c.json(page, 200);
  })
  .openapi(routes.getTask, async (c) => {
    const { resource, etag } = await getTask(c.get("db"), c.get("principal").orgId, c.req.valid("param").id);
    if (notModified(c, etag)) return c.body(null, 304);
    return c.json(resource, 200);
  })
  .openapi(routes.createTask, async (c) => {
    const answer = answerOnce(c, createdAt("/v1/tasks"));
    return answer.send(await createTask(writeContext(c, answer), c.req.valid("json")));
  })
  .openapi(routes.updateTask, async (c) => {
    const { id } = c.req.valid("param");
    const { resource, etag } = await updateTask(writeContext(c), {
      id,
      patch: c.req.valid("json"),
      ifMatch: ifMatchOf(c),
    });
    setEtag(c, etag);
    return c.json(resource, 200);
  })
  .openapi(routes.deleteTask, async (c) => {
    await deleteTask(writeContext(c), { id: c.req.valid("param").id, ifMatch: ifMatchOf(c) });
    return c.body(null, 204);
  });
