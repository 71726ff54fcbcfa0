import { createComment } from "../../comments/comments";
import { ifMatchOf, setEtag } from "../../http/etag";
import { idempotency } from "../../http/idempotency";
import { authenticateIncoming, incomingWriteContext } from "../../http/incoming-auth";
import { jsonBodyGuard } from "../../http/json-body";
import { handleNotFound } from "../../http/on-error";
import { createRouter } from "../../http/openapi";
import { createProject, updateProject } from "../../projects/projects";
import { createTask, updateTask } from "../../tasks/tasks";
import * as routes from "./incoming.routes";

/** Mounted at /v1/webhooks/incoming, ahead of the API-key routes. */
export const incomingRouter = createRouter();
incomingRouter.use("*", authenticateIncoming, jsonBodyGuard, idempotency);
incomingRouter
  .openapi(routes.createTask, async (c) => {
    const { resource, etag } = await createTask(incomingWriteContext(c), c.req.valid("json"));
    c.header("Location", `/v1/tasks/${resource.id}`);
    setEtag(c, etag);
    return c.json(resource, 201);
  })
  .openapi(routes.updateTask, async (c) => {
    const { id } = c.req.valid("param");
    const { resource, etag } = await updateTask(incomingWriteContext(c), id, c.req.valid("json"), ifMatchOf(c));
    setEtag(c, etag);
    return c.json(resource, 200);
  })
  .openapi(routes.createProject, async (c) => {
    const { resource, etag } = await createProject(incomingWriteContext(c), c.req.valid("json"));
    c.header("Location", `/v1/projects/${resource.id}`);
    setEtag(c, etag);
    return c.json(resource, 201);
  })
  .openapi(routes.updateProject, async (c) => {
    const { id } = c.req.valid("param");
    const { resource, etag } = await updateProject(incomingWriteContext(c), id, c.req.valid("json"), ifMatchOf(c));
    setEtag(c, etag);
    return c.json(resource, 200);
  })
  .openapi(routes.createComment, async (c) => {
    const { taskId } = c.req.valid("param");
    const { resource, etag } = await createComment(incomingWriteContext(c), taskId, c.req.valid("json"));
    c.header("Location", `/v1/comments/${resource.id}`);
    setEtag(c, etag);
    return c.json(resource, 201);
  });

// Unknown paths here are 404s, not a fall-through to API-key authentication.
incomingRouter.all("*", handleNotFound);
