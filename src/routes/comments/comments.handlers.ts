import { createComment, deleteComment, getComment, listComments, updateComment } from "../../comments/comments";
import { ifMatchOf, notModified, setEtag } from "../../http/etag";
import { answerOnce, createdAt } from "../../http/idempotency";
import { createRouter } from "../../http/openapi";
import { linkNextPage } from "../../http/pagination";
import { writeContext } from "../../http/write-context";
import * as routes from "./comments.routes";

/** Mounted at /v1: `/tasks/{taskId}/comments` and `/comments/{id}`. */
export const commentsRouter = createRouter()
  .openapi(routes.listComments, async (c) => {
    const { taskId } = c.req.valid("param");
    const page = await listComments(c.get("db"), c.get("principal").orgId, taskId, c.req.valid("query"));
    linkNextPage(c, page);
    return c.json(page, 200);
  })
  .openapi(routes.createComment, async (c) => {
    const { taskId } = c.req.valid("param");
    const answer = answerOnce(c, createdAt("/v1/comments"));
    return answer.send(await createComment(writeContext(c, answer), { taskId, ...c.req.valid("json") }));
  })
  .openapi(routes.getComment, async (c) => {
    const { resource, etag } = await getComment(c.get("db"), c.get("principal").orgId, c.req.valid("param").id);
    if (notModified(c, etag)) return c.body(null, 304);
    return c.json(resource, 200);
  })
  .openapi(routes.updateComment, async (c) => {
    const { id } = c.req.valid("param");
    const { resource, etag } = await updateComment(writeContext(c), {
      id,
      patch: c.req.valid("json"),
      ifMatch: ifMatchOf(c),
    });
    setEtag(c, etag);
    return c.json(resource, 200);
  })
  .openapi(routes.deleteComment, async (c) => {
    await deleteComment(writeContext(c), { id: c.req.valid("param").id, ifMatch: ifMatchOf(c) });
    return c.body(null, 204);
  });
