import { createRoute, z } from "@hono/zod-openapi";
import { authErrors, idParams, jsonBody, jsonResponse, notFoundError } from "../../http/openapi";
import { PLANS } from "../../identity/plans";
import { CreatedApiKeySchema } from "../api-keys/api-keys.routes";
import { IdempotencyHeaders } from "../common";
import { Email, Name, Timestamp } from "../schemas";
import { UserSchema } from "../users/users.routes";

export const OrganizationSchema = z
  .object({
    id: z.string().openapi({ example: "org_2Kd8Lw0Pq4Xs6Vb9Nm1C" }),
    name: z.string(),
    plan: z.enum(PLANS),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi("Organization");

export const CreateOrganizationSchema = z
  .strictObject({
    name: Name,
    plan: z.enum(PLANS).default("free"),
    owner: z.strictObject({ name: Name, email: Email }),
  })
  .openapi("CreateOrganization");

export const CreatedOrganizationSchema = z
  .object({ organization: OrganizationSchema, owner: UserSchema, apiKey: CreatedApiKeySchema })
  .openapi("CreatedOrganization");

export const UpdateOrganizationSchema = z.strictObject({ plan: z.enum(PLANS) }).openapi("UpdateOrganization");

const tags = ["Organizations"];
const adminSecurity = [{ adminToken: [] }];

export const createOrganization = createRoute({
  operationId: "createOrganization",
  method: "post",
  path: "/organizations",
  tags,
  summary: "Create an organization",
  description: "With its owner and the owner's first admin key (shown once). Operator only: ADMIN_TOKEN.",
  security: adminSecurity,
  request: { body: jsonBody(CreateOrganizationSchema), headers: IdempotencyHeaders },
  responses: { 201: jsonResponse(CreatedOrganizationSchema, "The organization, owner and key"), ...authErrors },
});

export const updateOrganization = createRoute({
  operationId: "updateOrganization",
  method: "patch",
  path: "/organizations/{id}",
  tags,
  summary: "Change an organization's plan",
  description: "The new plan's limits apply to the next request. Operator only: ADMIN_TOKEN.",
  security: adminSecurity,
  request: { params: idParams(), body: jsonBody(UpdateOrganizationSchema) },
  responses: { 200: jsonResponse(OrganizationSchema, "The organization"), ...authErrors, ...notFoundError },
});
