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
import { INCOMING_PERMISSIONS, INCOMING_SORT_FIELDS } from "../../incoming-webhooks/incoming-webhooks";
import { deletedResponses, etagHeader, IdempotencyHeaders, PreferHeaders } from "../common";
import { Name, Timestamp } from "../schemas";

const Permissions = z
  .array(z.enum(INCOMING_PERMISSIONS))
  .min(1)
  .openapi({ description: "What the credential may do", example: ["tasks:create", "tasks:update"] });

const Allowlist = z
  .array(z.string().max(64))
  .max(100)
  .openapi({
    description: "IPv4/IPv6 addresses or CIDR ranges allowed to call; empty allows every address",
    example: ["203.0.113.0/24", "2001:db8::/32"],
  });

export const IncomingWebhookSchema = z
  .object({
    id: z.string().openapi({ example: "iwh_7Yt3Kp9Lm2Qa5Zx8Wc1V" }),
    name: z.string(),
    prefix: z.string().openapi({ example: "ik_live_Ab12Cd" }),
    permissions: Permissions,
    ipAllowlist: z.array(z.string()),
    enabled: z.boolean(),
    createdBy: z.string(),
    lastUsedAt: Timestamp.nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi("IncomingWebhook");

export const CreatedIncomingWebhookSchema = IncomingWebhookSchema.extend({
  key: z.string().optional().openapi({
    description:
      "The `ik_live_…` key. Shown only in this response: store it now. Absent from an idempotent replay (`Idempotent-Replayed: true`).",
  }),
}).openapi("CreatedIncomingWebhook");

export const CreateIncomingWebhookSchema = z
  .strictObject({
    name: Name,
    permissions: Permissions,
    ipAllowlist: Allowlist.optional(),
    enabled: z.boolean().optional(),
  })
  .openapi("CreateIncomingWebhook");

export const UpdateIncomingWebhookSchema = z
  .strictObject({
    name: Name.optional(),
    permissions: Permissions.optional(),
    ipAllowlist: Allowlist.optional(),
    enabled: z.boolean().optional(),
  })
  .openapi("UpdateIncomingWebhook");

const tags = ["Incoming webhooks"];

export const listIncomingWebhooks = createRoute({
  operationId: "listIncomingWebhooks",
  method: "get",
  path: "/",
  tags,
  summary: "List incoming-webhook credentials",
  ...needs("incoming:read"),
  request: { query: listQuery(INCOMING_SORT_FIELDS, "createdAt", {}) },
  responses: {
    200: jsonResponse(pageSchema(IncomingWebhookSchema, "IncomingWebhookPage"), "A page of credentials"),
    ...authErrors,
  },
});

export const getIncomingWebhook = createRoute({
  operationId: "getIncomingWebhook",
  method: "get",
  path: "/{id}",
  tags,
  summary: "Get an incoming-webhook credential",
  ...needs("incoming:read"),
  request: { params: idParams() },
  responses: {
    200: { ...jsonResponse(IncomingWebhookSchema, "The credential (never its key)"), headers: etagHeader },
    304: { description: "Not modified (If-None-Match)" },
    ...authErrors,
    ...notFoundError,
  },
});

export const createIncomingWebhook = createRoute({
  operationId: "createIncomingWebhook",
  method: "post",
  path: "/",
  tags,
  summary: "Create an incoming-webhook credential; the key is shown once",
  ...needs("incoming:write"),
  request: { body: jsonBody(CreateIncomingWebhookSchema), headers: IdempotencyHeaders },
  responses: { 201: jsonResponse(CreatedIncomingWebhookSchema, "The credential and its key"), ...authErrors },
});

export const updateIncomingWebhook = createRoute({
  operationId: "updateIncomingWebhook",
  method: "patch",
  path: "/{id}",
  tags,
  summary: "Rename, re-scope, restrict by IP, enable or disable a credential",
  ...needs("incoming:write"),
  request: { params: idParams(), body: jsonBody(UpdateIncomingWebhookSchema) },
  responses: {
    200: { ...jsonResponse(IncomingWebhookSchema, "The credential"), headers: etagHeader },
    ...authErrors,
    ...notFoundError,
    ...conflictError,
    ...preconditionError,
  },
});

export const deleteIncomingWebhook = createRoute({
  operationId: "deleteIncomingWebhook",
  method: "delete",
  path: "/{id}",
  tags,
  summary: "Delete a credential; its key stops working at once",
  ...needs("incoming:write"),
  request: { params: idParams(), headers: PreferHeaders },
  responses: { ...deletedResponses("Deleted"), ...authErrors, ...notFoundError, ...preconditionError },
});

export const rotateIncomingWebhook = createRoute({
  operationId: "rotateIncomingWebhookKey",
  method: "post",
  path: "/{id}/rotate",
  tags,
  summary: "Replace the credential's key; the old key stops working at once",
  ...needs("incoming:write"),
  request: { params: idParams(), headers: IdempotencyHeaders },
  responses: {
    200: jsonResponse(CreatedIncomingWebhookSchema, "The credential and its new key"),
    ...authErrors,
    ...notFoundError,
    ...conflictError,
  },
});
