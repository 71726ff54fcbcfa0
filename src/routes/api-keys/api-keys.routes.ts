import { createRoute, z } from "@hono/zod-openapi";
import { authErrors, conflictError, idParams, jsonBody, jsonResponse, needs, notFoundError } from "../../http/openapi";
import { listQuery, pageSchema } from "../../http/pagination";
import { API_KEY_SORT_FIELDS } from "../../identity/api-keys";
import { KEY_PERMISSIONS, SCOPES } from "../../identity/principal";
import { deletedResponses, IdempotencyHeaders, PreferHeaders } from "../common";
import { IsoInstant } from "../dates";
import { Name, Timestamp } from "../schemas";

const Permissions = z.array(z.enum(KEY_PERMISSIONS));

export const ApiKeySchema = z
  .object({
    id: z.string().openapi({ example: "key_8Hn2Qw5Rt7Yu1Io3Pa6S" }),
    name: z.string(),
    prefix: z.string().openapi({ example: "vk_live_a1B2c3" }),
    scope: z.enum(SCOPES).nullable().openapi({
      description: "The scope the key was created with; null for a key created with a list of `permissions`.",
    }),
    permissions: Permissions.openapi({
      description:
        "What the key may do: its scope's permissions, or the list it was created with. Use is further limited to what the member's role allows.",
    }),
    userId: z.string(),
    createdAt: Timestamp,
    expiresAt: Timestamp.nullable(),
    lastUsedAt: Timestamp.nullable(),
    revokedAt: Timestamp.nullable(),
  })
  .openapi("ApiKey");

export const CreatedApiKeySchema = ApiKeySchema.extend({
  key: z.string().optional().openapi({
    description:
      "The secret key. Shown only in this response: store it now. Absent from an idempotent replay (`Idempotent-Replayed: true`).",
  }),
}).openapi("CreatedApiKey");

export const RotatedApiKeySchema = CreatedApiKeySchema.extend({ previousKey: ApiKeySchema }).openapi("RotatedApiKey");

export const CreateApiKeySchema = z
  .strictObject({
    name: Name,
    scope: z.enum(SCOPES).optional().openapi({
      description: "A shorthand for a set of permissions (README 'Identity and keys'); or give `permissions`.",
    }),
    permissions: Permissions.min(1)
      .optional()
      .openapi({ description: "Exactly these permissions (the key's scope is then null); or give `scope`." }),
    expiresAt: IsoInstant.optional().openapi({ description: "When the key stops working (stored as UTC)" }),
    userId: z.string().optional().openapi({ description: "The member the key acts as; defaults to the caller." }),
  })
  // Either field, not both (identity/api-keys.ts `grantOf`); the document says so too.
  .openapi("CreateApiKey", { oneOf: [{ required: ["scope"] }, { required: ["permissions"] }] });

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
  ...needs("keys:read"),
  request: { query: listQuery(API_KEY_SORT_FIELDS, "createdAt", {}) },
  responses: { 200: jsonResponse(pageSchema(ApiKeySchema, "ApiKeyPage"), "A page of keys"), ...authErrors },
});

export const createApiKey = createRoute({
  operationId: "createApiKey",
  method: "post",
  path: "/",
  tags,
  summary: "Create an API key; the key is shown once",
  ...needs("keys:write"),
  request: { body: jsonBody(CreateApiKeySchema), headers: IdempotencyHeaders },
  responses: { 201: jsonResponse(CreatedApiKeySchema, "The new key"), ...authErrors, ...notFoundError },
});

export const revokeApiKey = createRoute({
  operationId: "revokeApiKey",
  method: "delete",
  path: "/{id}",
  tags,
  summary: "Revoke an API key at once",
  ...needs("keys:write"),
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
  ...needs("keys:write"),
  request: { params: idParams(), body: jsonBody(RotateApiKeySchema, false), headers: IdempotencyHeaders },
  responses: {
    201: jsonResponse(RotatedApiKeySchema, "The new key, and the old one's revocation time"),
    ...authErrors,
    ...notFoundError,
    ...conflictError,
  },
});
