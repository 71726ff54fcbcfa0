import { createComment } from "../../comments/comments";
import { ifMatchOf, setEtag } from "../../http/etag";
import { answerOnce, createdAt, idempotency } from "../../http/idempotency";
import { authenticateIntake, intakeWriteContext } from "../../http/intake-auth";
import { jsonBodyGuard } from "../../http/json-body";
import { handleNotFound } from "../../http/on-error";
import { createRouter } from "../../http/openapi";
import { createProject, updateProject } from "../../projects/projects";
import { createTask, updateTask } from "../../tasks/tasks";
import * as routes from "./intake.routes";

/** Mounted at /v1/webhooks/incoming, ahead of the API-key routes. */
export const intakeRouter = createRouter();
intakeRouter.use("*", authenticateIntake, jsonBodyGuard, idempotency);
intakeRouter
  .openapi(routes.createTask, async (c) => {
    const answer = answerOnce(c, createdAt("/v1/tasks"));
    return answer.send(await createTask(intakeWriteContext(c, answer), c.req.valid("json")));
  })
  .openapi(routes.updateTask, async (c) => {
    const { id } = c.req.valid("param");
    const { resource, etag } = await updateTask(intakeWriteContext(c), {
      id,
      patch: c.req.valid("json"),
      ifMatch: ifMatchOf(c),
    });
    setEtag(c, etag);
    return c.json(resource, 200);
  })
  .openapi(routes.createProject, async (c) => {
    const answer = answerOnce(c, createdAt("/v1/projects"));
    return answer.send(await createProject(intakeWriteContext(c, answer), c.req.valid("json")));
  })
  .openapi(routes.updateProject, async (c) => {
    const { id } = c.req.valid("param");
    const { resource, etag } = await updateProject(intakeWriteContext(c), {
      id,
      patch: c.req.valid("json"),
      ifMatch: ifMatchOf(c),
    });
    setEtag(c, etag);
    return c.json(resource, 200);
  })
  .openapi(routes.createComment, async (c) => {
    const { taskId } = c.req.valid("param");
    const answer = answerOnce(c, createdAt("/v1/comments"));
    return answer.send(await createComment(intakeWriteContext(c, answer), { taskId, ...c.req.valid("json") }));
  });

// Unknown paths here are 404s, not a fall-through to API-key authentication.
intakeRouter.all("*", handleNotFound);
