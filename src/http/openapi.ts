import { OpenAPIHono, z } from "@hono/zod-openapi";
import { ERROR_STATUS } from "../core/errors";
import type { KeyPermission } from "../identity/principal";
import { requirePermission } from "./auth";
import type { AppEnv } from "./context";
import { apiErrorFromZod } from "./zod-errors";

/** A router whose validation failures become the spec's 400 body naming the field. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw apiErrorFromZod(result.error, result.target as "json");
    },
  });
}

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS, ...(keyof typeof ERROR_STATUS)[]]),
      message: z.string(),
      field: z.string().optional(),
      requestId: z.string(),
    }),
  })
  .openapi("Error");

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorSchema } },
});

/** The error responses every authenticated operation can give. */
export const authErrors = {
  400: errorResponse("Invalid input; `field` names it"),
  401: errorResponse("Missing, malformed, unknown, revoked or expired API key"),
  403: errorResponse("The key lacks the permission the operation needs; `message` names it"),
  429: errorResponse("Rate limit exceeded; see Retry-After"),
} as const;

export const notFoundError = { 404: errorResponse("Not found in this organization") } as const;
export const conflictError = { 409: errorResponse("Conflicts with the current state") } as const;
export const preconditionError = { 412: errorResponse("If-Match does not match the current ETag") } as const;
export const planLimitError = { 403: errorResponse("Forbidden by the key's permissions or the plan limit") } as const;

export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

export function jsonBody<T extends z.ZodType>(schema: T, required = true) {
  return { required, content: { "application/json": { schema } } };
}

/**
 * The key permission an operation needs, stated once: the document names it in the
 * operation's security requirement and `requirePermission` enforces it, so they cannot disagree.
 */
export function needs(permission: KeyPermission) {
  return { security: [{ bearerAuth: [permission] }], middleware: [requirePermission(permission)] };
}

/** The `{id}` path parameter. */
export function idParams() {
  return z.object({ id: pathId("id") });
}

/** A resource id in the path, e.g. `pathId("taskId")`. */
export function pathId(name: string) {
  return z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name, in: "path" } });
}
