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
import { ROLES } from "../../identity/principal";
import { USER_SORT_FIELDS } from "../../identity/users";
import {
  deletedResponses,
  etagHeader,
  IdempotencyHeaders,
  IfMatchHeaders,
  IfNoneMatchHeaders,
  notModifiedResponse,
  PreferHeaders,
} from "../common";
import { Email, Name, Timestamp } from "../schemas";

export const UserSchema = z
  .object({
    id: z.string().openapi({ example: "user_4f9Tq2Lm8Xw1Zr7Bv3Nc" }),
    name: z.string(),
    email: z.string(),
    role: z.enum(ROLES),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi("User");

const AssignableRole = z.enum(["admin", "member"]);

export const CreateUserSchema = z
  .strictObject({ name: Name, email: Email, role: AssignableRole.default("member") })
  .openapi("CreateUser");

export const UpdateUserSchema = z
  .strictObject({
    name: Name.optional(),
    role: z.enum(ROLES).optional().openapi({
      description:
        "Ranked owner > admin > member: changed only by the member or someone ranked above them; only the owner grants `admin`, and making a member `owner` hands the organization over (the former owner becomes an admin).",
    }),
  })
  .openapi("UpdateUser");

const tags = ["Users"];

export const listUsers = createRoute({
  operationId: "listUsers",
  method: "get",
  path: "/",
  tags,
  summary: "List the organization's members",
  ...needs("members:read"),
  request: {
    query: listQuery(USER_SORT_FIELDS, "createdAt", { role: z.enum(ROLES).optional() }),
  },
  responses: { 200: jsonResponse(pageSchema(UserSchema, "UserPage"), "A page of members"), ...authErrors },
});

export const getMe = createRoute({
  operationId: "getCurrentUser",
  method: "get",
  path: "/me",
  tags,
  summary: "The member the API key belongs to",
  ...needs("members:read"),
  request: { headers: IfNoneMatchHeaders },
  responses: {
    200: { ...jsonResponse(UserSchema, "The calling member"), headers: etagHeader },
    ...notModifiedResponse,
    ...authErrors,
  },
});

export const getUser = createRoute({
  operationId: "getUser",
  method: "get",
  path: "/{id}",
  tags,
  summary: "Get a member",
  ...needs("members:read"),
  request: { params: idParams(), headers: IfNoneMatchHeaders },
  responses: {
    200: { ...jsonResponse(UserSchema, "The member"), headers: etagHeader },
    ...notModifiedResponse,
    ...authErrors,
    ...notFoundError,
  },
});

export const createUser = createRoute({
  operationId: "createUser",
  method: "post",
  path: "/",
  tags,
  summary: "Add a member (admin)",
  ...needs("members:write"),
  request: { body: jsonBody(CreateUserSchema), headers: IdempotencyHeaders },
  responses: { 201: jsonResponse(UserSchema, "The new member"), ...authErrors, ...conflictError },
});

export const updateUser = createRoute({
  operationId: "updateUser",
  method: "patch",
  path: "/{id}",
  tags,
  summary: "Rename a member or change their role (admin)",
  ...needs("members:write"),
  request: { params: idParams(), body: jsonBody(UpdateUserSchema), headers: IfMatchHeaders },
  responses: {
    200: { ...jsonResponse(UserSchema, "The member"), headers: etagHeader },
    ...authErrors,
    ...notFoundError,
    ...conflictError,
    ...preconditionError,
  },
});

export const deleteUser = createRoute({
  operationId: "deleteUser",
  method: "delete",
  path: "/{id}",
  tags,
  summary: "Remove a member and revoke their keys (admin)",
  ...needs("members:write"),
  request: { params: idParams(), headers: IfMatchHeaders.extend(PreferHeaders.shape) },
  responses: {
    ...deletedResponses("Removed"),
    ...authErrors,
    ...notFoundError,
    ...conflictError,
    ...preconditionError,
  },
});
