import { ifMatchOf, notModified, setEtag } from "../../http/etag";
import { answerOnce, createdAt } from "../../http/idempotency";
import { createRouter } from "../../http/openapi";
import { linkNextPage } from "../../http/pagination";
import { writeContext } from "../../http/write-context";
import { createProject, deleteProject, getProject, listProjects, updateProject } from "../../projects/projects";
import * as routes from "./projects.routes";

export const projectsRouter = createRouter()
  .openapi(routes.listProjects, async (c) => {
    const page = await listProjects(c.get("db"), c.get("principal").orgId, c.req.valid("query"));
    linkNextPage(c, page);
    return c.json(page, 200);
  })
  .openapi(routes.getProject, async (c) => {
    const { resource, etag } = await getProject(c.get("db"), c.get("principal").orgId, c.req.valid("param").id);
    if (notModified(c, etag)) return c.body(null, 304);
    return c.json(resource, 200);
  })
  .openapi(routes.createProject, async (c) => {
    const answer = answerOnce(c, createdAt("/v1/projects"));
    return answer.send(await createProject(writeContext(c, answer), c.req.valid("json")));
  })
  .openapi(routes.updateProject, async (c) => {
    const { id } = c.req.valid("param");
    const { resource, etag } = await updateProject(writeContext(c), {
      id,
      patch: c.req.valid("json"),
      ifMatch: ifMatchOf(c),
    });
    setEtag(c, etag);
    return c.json(resource, 200);
  })
  .openapi(routes.deleteProject, async (c) => {
    await deleteProject(writeContext(c), { id: c.req.valid("param").id, ifMatch: ifMatchOf(c) });
    return c.body(null, 204);
  });
