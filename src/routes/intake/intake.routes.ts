import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "../../http/intake-auth";
import {
  authErrors,
  conflictError,
  idParams,
  jsonBody,
  jsonResponse,
  notFoundError,
  pathId,
  preconditionError,
} from "../../http/openapi";
import type { IncomingPermission } from "../../incoming-webhooks/incoming-webhooks";
import { CommentSchema, CreateCommentSchema } from "../comments/comments.routes";
import { etagHeader, IdempotencyHeaders, IfMatchHeaders } from "../common";
import { CreateProjectSchema, ProjectSchema, UpdateProjectSchema } from "../projects/projects.routes";
import { CreateTaskSchema, TaskSchema, UpdateTaskSchema } from "../tasks/tasks.routes";

/**
 * Endpoints for automation tools (n8n, Zapier, scripts), authenticated with an
 * incoming-webhook credential (`Authorization: Bearer ik_live_…`). Same bodies, rules
 * and events as the main API; each needs one permission of the credential.
 */
const tags = ["Intake"];

/** The credential permission an operation needs: documented in its security requirement and enforced, from one place. */
function needsPermission(permission: IncomingPermission) {
  return { security: [{ incomingWebhookKey: [permission] }], middleware: [requirePermission(permission)] };
}

export const createTask = createRoute({
  operationId: "createTaskViaIntake",
  method: "post",
  path: "/tasks",
  tags,
  summary: "Create a task (permission tasks:create)",
  ...needsPermission("tasks:create"),
  request: { body: jsonBody(CreateTaskSchema), headers: IdempotencyHeaders },
  responses: {
    201: { ...jsonResponse(TaskSchema, "The new task"), headers: etagHeader },
    ...authErrors,
    ...conflictError,
  },
});

export const updateTask = createRoute({
  operationId: "updateTaskViaIntake",
  method: "patch",
  path: "/tasks/{id}",
  tags,
  summary: "Update a task (permission tasks:update)",
  ...needsPermission("tasks:update"),
  request: { params: idParams(), body: jsonBody(UpdateTaskSchema), headers: IfMatchHeaders },
  responses: {
    200: { ...jsonResponse(TaskSchema, "The task"), headers: etagHeader },
    ...authErrors,
    ...notFoundError,
    ...conflictError,
    ...preconditionError,
  },
});

export const createProject = createRoute({
  operationId: "createProjectViaIntake",
  method: "post",
  path: "/projects",
  tags,
  summary: "Create a project (permission projects:create)",
  ...needsPermission("projects:create"),
  request: { body: jsonBody(CreateProjectSchema), headers: IdempotencyHeaders },
  responses: { 201: { ...jsonResponse(ProjectSchema, "The new project"), headers: etagHeader }, ...authErrors },
});

export const updateProject = createRoute({
  operationId: "updateProjectViaIntake",
  method: "patch",
  path: "/projects/{id}",
  tags,
  summary: "Update a project (permission projects:update)",
  ...needsPermission("projects:update"),
  request: { params: idParams(), body: jsonBody(UpdateProjectSchema), headers: IfMatchHeaders },
  responses: {
    200: { ...jsonResponse(ProjectSchema, "The project"), headers: etagHeader },
    ...authErrors,
    ...notFoundError,
    ...conflictError,
    ...preconditionError,
  },
});

export const createComment = createRoute({
  operationId: "createCommentViaIntake",
  method: "post",
  path: "/tasks/{taskId}/comments",
  tags,
  summary: "Comment on a task (permission comments:create)",
  ...needsPermission("comments:create"),
  request: {
    params: z.object({ taskId: pathId("taskId") }),
    body: jsonBody(CreateCommentSchema),
    headers: IdempotencyHeaders,
  },
  responses: {
    201: { ...jsonResponse(CommentSchema, "The new comment"), headers: etagHeader },
    ...authErrors,
    ...notFoundError,
  },
});
