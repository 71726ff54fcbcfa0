import { createRoute, z } from "@hono/zod-openapi";
import {
  authErrors,
  conflictError,
  idParams,
  jsonBody,
  jsonResponse,
  needs,
  notFoundError,
  preconditionError,
} from "../../http/openapi";
import { listQuery, pageSchema } from "../../http/pagination";
import { PROJECT_SORT_FIELDS } from "../../projects/projects";
import {
  BooleanQueryParam,
  deletedResponses,
  etagHeader,
  IdempotencyHeaders,
  IfMatchHeaders,
  IfNoneMatchHeaders,
  notModifiedResponse,
  PreferHeaders,
} from "../common";
import { Name, Timestamp } from "../schemas";

export const ProjectSchema = z
  .object({
    id: z.string().openapi({ example: "proj_7Yc2Vn4Kq9Lm1Xw3Zr8B" }),
    name: z.string(),
    description: z.string().nullable(),
    icon: z.string().nullable(),
    color: z.string().nullable().openapi({ example: "#3b82f6" }),
    archived: z.boolean(),
    createdBy: z.string(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi("Project");

const Description = z.string().max(10_000);
const Icon = z.string().max(64).openapi({ description: "An emoji or short icon name" });
const Color = z
  .string()
  .regex(/^#[0-9a-fA-F]{6}$/, "must be a hex color like #3b82f6")
  .transform((c) => c.toLowerCase());

export const CreateProjectSchema = z
  .strictObject({
    name: Name,
    description: Description.nullable().optional(),
    icon: Icon.nullable().optional(),
    color: Color.nullable().optional(),
    archived: z.boolean().optional(),
  })
  .openapi("CreateProject");

export const UpdateProjectSchema = z
  .strictObject({
    name: Name.optional(),
    description: Description.nullable().optional(),
    icon: Icon.nullable().optional(),
    color: Color.nullable().optional(),
    archived: z.boolean().optional(),
  })
  .openapi("UpdateProject");

const tags = ["Projects"];

export const listProjects = createRoute({
  operationId: "listProjects",
  method: "get",
  path: "/",
  tags,
  summary: "List projects",
  ...needs("projects:read"),
  request: { query: listQuery(PROJECT_SORT_FIELDS, "createdAt", { archived: BooleanQueryParam }) },
  responses: { 200: jsonResponse(pageSchema(ProjectSchema, "ProjectPage"), "A page of projects"), ...authErrors },
});

export const getProject = createRoute({
  operationId: "getProject",
  method: "get",
  path: "/{id}",
  tags,
  summary: "Get a project",
  ...needs("projects:read"),
  request: { params: idParams(), headers: IfNoneMatchHeaders },
  responses: {
    200: { ...jsonResponse(ProjectSchema, "The project"), headers: etagHeader },
    ...notModifiedResponse,
    ...authErrors,
    ...notFoundError,
  },
});

export const createProject = createRoute({
  operationId: "createProject",
  method: "post",
  path: "/",
  tags,
  summary: "Create a project",
  ...needs("projects:write"),
  request: { body: jsonBody(CreateProjectSchema), headers: IdempotencyHeaders },
  responses: {
    201: { ...jsonResponse(ProjectSchema, "The new project"), headers: etagHeader },
    ...authErrors,
    ...conflictError,
  },
});

export const updateProject = createRoute({
  operationId: "updateProject",
  method: "patch",
  path: "/{id}",
  tags,
  summary: "Update a project (partial); archive it with archived: true",
  ...needs("projects:write"),
  request: { params: idParams(), body: jsonBody(UpdateProjectSchema), headers: IfMatchHeaders },
  responses: {
    200: { ...jsonResponse(ProjectSchema, "The project"), headers: etagHeader },
    ...authErrors,
    ...notFoundError,
    ...conflictError,
    ...preconditionError,
  },
});

export const deleteProject = createRoute({
  operationId: "deleteProject",
  method: "delete",
  path: "/{id}",
  tags,
  summary: "Delete a project with its tasks and their comments",
  ...needs("projects:write"),
  request: { params: idParams(), headers: IfMatchHeaders.extend(PreferHeaders.shape) },
  responses: {
    ...deletedResponses("Deleted"),
    ...authErrors,
    ...notFoundError,
    ...conflictError,
    ...preconditionError,
  },
});
