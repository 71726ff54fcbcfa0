import { createRoute, z } from "@hono/zod-openapi";
import { authErrors, conflictError, idParams, jsonBody, jsonResponse, needs, notFoundError } from "../../http/openapi";
import { listQuery, pageSchema } from "../../http/pagination";
import { API_KEY_SORT_FIELDS } from "../../identity/api-keys";
import { SCOPES } from "../../identity/principal";
import { deletedResponses, IdempotencyHeaders, PreferHeaders } from "../common";
import { IsoInstant } from "../dates";
import { Name, Timestamp } from "../schemas";

export const ApiKeySchema = z
  .object({
    id: z.string().openapi({ example: "key_8Hn2Qw5Rt7Yu1Io3Pa6S" }),
    name: z.string(),
    prefix: z.string().openapi({ example: "vk_live_a1B2c3" }),
    scope: z.enum(SCOPES),
    userId: z.string(),
    createdAt: Timestamp,
    expiresAt: Timestamp.nullable(),
    lastUsedAt: Timestamp.nullable(),
    revokedAt: Timestamp.nullable(),
  })
  .openapi("ApiKey");

export const CreatedApiKeySchema = ApiKeySchema.extend({
  key: z.string().openapi({ description: "The secret key. Shown only in this response: store it now." }),
}).openapi("CreatedApiKey");

export const RotatedApiKeySchema = CreatedApiKeySchema.extend({ previousKey: ApiKeySchema }).openapi("RotatedApiKey");

export const CreateApiKeySchema = z
  .strictObject({
    name: Name,
    scope: z.enum(SCOPES),
    expiresAt: IsoInstant.optional().openapi({ description: "When the key stops working (stored as UTC)" }),
    userId: z.string().optional().openapi({ description: "The member the key acts as; defaults to the caller." }),
  })
  .openapi("CreateApiKey");

export const RotateApiKeySchema = z
  .strictObject({
    gracePeriodSeconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 24 * 3600)
      .default(0)
      .openapi({ description: "How long the old key keeps working; 0 revokes it at once." }),
  })
  .openapi("RotateApiKey");

const tags = ["API keys"];

export const listApiKeys = createRoute({
  operationId: "listApiKeys",
  method: "get",
  path: "/",
  tags,
  summary: "List the organization's API keys (prefixes only)",
  ...needs("admin"),
  request: { query: listQuery(API_KEY_SORT_FIELDS, "createdAt", {}) },
  responses: { 200: jsonResponse(pageSchema(ApiKeySchema, "ApiKeyPage"), "A page of keys"), ...authErrors },
});

export const createApiKey = createRoute({
  operationId: "createApiKey",
  method: "post",
  path: "/",
  tags,
  summary: "Create an API key; the key is shown once",
  ...needs("admin"),
  request: { body: jsonBody(CreateApiKeySchema), headers: IdempotencyHeaders },
  responses: { 201: jsonResponse(CreatedApiKeySchema, "The new key"), ...authErrors, ...notFoundError },
});

export const revokeApiKey = createRoute({
  operationId: "revokeApiKey",
  method: "delete",
  path: "/{id}",
  tags,
  summary: "Revoke an API key at once",
  ...needs("admin"),
  request: { params: idParams(), headers: PreferHeaders },
  responses: { ...deletedResponses("Revoked"), ...authErrors, ...notFoundError },
});

export const rotateApiKey = createRoute({
  operationId: "rotateApiKey",
  method: "post",
  path: "/{id}/rotate",
  tags,
  summary: "Rotate an API key",
  description: "Replaces the key with a new one, shown once; the old one is revoked now or after `gracePeriodSeconds`.",
  ...needs("admin"),
  request: { params: idParams(), body: jsonBody(RotateApiKeySchema, false), headers: IdempotencyHeaders },
  responses: {
    201: jsonResponse(RotatedApiKeySchema, "The new key, and the old one's revocation time"),
    ...authErrors,
    ...notFoundError,
    ...conflictError,
  },
});
