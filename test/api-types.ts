import type { z } from "@hono/zod-openapi";
import type { EventType } from "../src/core/enums";
import type { ErrorSchema } from "../src/http/openapi";
import type { PaginationSchema } from "../src/http/pagination";
import type { CreatedOrganizationSchema, OrganizationSchema } from "../src/routes/admin/admin.routes";
import type { ApiKeySchema, CreatedApiKeySchema, RotatedApiKeySchema } from "../src/routes/api-keys/api-keys.routes";
import type { AttachmentSchema } from "../src/routes/attachments/attachments.routes";
import type { CommentSchema } from "../src/routes/comments/comments.routes";
import type { EventSchema } from "../src/routes/events/events.routes";
import type {
  CreatedIncomingWebhookSchema,
  IncomingWebhookSchema,
} from "../src/routes/incoming-webhooks/incoming-webhooks.routes";
import type { ProjectSchema } from "../src/routes/projects/projects.routes";
import type { TaskSchema } from "../src/routes/tasks/tasks.routes";
import type { UserSchema } from "../src/routes/users/users.routes";
import type { WEBHOOK_PAYLOADS } from "../src/routes/webhooks/outgoing.contract";
import type { SigningKeyListSchema, SigningKeySchema } from "../src/routes/webhooks/signing-keys.routes";
import type {
  DeliveryDetailSchema,
  DeliverySchema,
  TestResultSchema,
  WebhookSchema,
  WebhookWithSecretSchema,
} from "../src/routes/webhooks/webhooks.routes";

/**
 * The bodies the API answers with, as the route schemas define them (the OpenAPI
 * contracts in src/routes/<resource>/<resource>.routes.ts), so that `call<Task>(...)`
 * gives a test a typed `res.body`. Types only: the tests still read the wire.
 */

export type Organization = z.infer<typeof OrganizationSchema>;
/**
 * The first answer of a create or rotation, which carries the secret; the document marks
 * it optional because an idempotent replay omits it.
 */
type FirstAnswer<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };

export type CreatedOrganization = Omit<z.infer<typeof CreatedOrganizationSchema>, "apiKey"> & {
  apiKey: CreatedApiKey;
};
export type User = z.infer<typeof UserSchema>;
export type ApiKey = z.infer<typeof ApiKeySchema>;
export type CreatedApiKey = FirstAnswer<z.infer<typeof CreatedApiKeySchema>, "key">;
export type RotatedApiKey = FirstAnswer<z.infer<typeof RotatedApiKeySchema>, "key">;
export type Project = z.infer<typeof ProjectSchema>;
export type Task = z.infer<typeof TaskSchema>;
export type Comment = z.infer<typeof CommentSchema>;
export type Attachment = z.infer<typeof AttachmentSchema>;
export type Event = z.infer<typeof EventSchema>;
export type Webhook = z.infer<typeof WebhookSchema>;
export type WebhookWithSecret = FirstAnswer<z.infer<typeof WebhookWithSecretSchema>, "secret">;
export type Delivery = z.infer<typeof DeliverySchema>;
export type DeliveryDetail = z.infer<typeof DeliveryDetailSchema>;
export type SigningKey = z.infer<typeof SigningKeySchema>;
export type SigningKeyList = z.infer<typeof SigningKeyListSchema>;
/** What Verk POSTs to a subscribed URL. */
export type WebhookPayload = Omit<z.infer<(typeof WEBHOOK_PAYLOADS)["task"]>, "event" | "data"> & {
  event: EventType;
  /** Typed per resource in the document's `webhooks` section; tests read it loosely. */
  data: Record<string, unknown>;
};
/** POST /v1/webhooks/{id}/test; the schema documents `payload` as an object: it is the sample WebhookPayload sent. */
export type WebhookTestResult = Omit<z.infer<typeof TestResultSchema>, "payload"> & { payload: WebhookPayload };
export type IncomingWebhook = z.infer<typeof IncomingWebhookSchema>;
export type CreatedIncomingWebhook = FirstAnswer<z.infer<typeof CreatedIncomingWebhookSchema>, "key">;

export type Pagination = z.infer<typeof PaginationSchema>;
/** A collection: `GET /v1/tasks` answers `Page<Task>`. */
export interface Page<T> {
  data: T[];
  pagination: Pagination;
}

/** Every refusal: `{ error: { code, message, field?, requestId } }`. */
export type ErrorBody = z.infer<typeof ErrorSchema>;

// ---------------------------------------------------------------------------
// The OpenAPI document (GET /openapi.json): the parts the tests read

export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  example?: unknown;
  default?: unknown;
  minLength?: number;
  minItems?: number;
  minimum?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

export interface DocumentedParameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required?: boolean;
}

export interface DocumentedOperation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: DocumentedParameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
  responses?: Record<string, unknown>;
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  servers?: { url: string; description?: string }[];
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, DocumentedOperation>>;
  /** OpenAPI 3.1 webhooks: what Verk sends to subscribed URLs. */
  webhooks: Record<string, Record<string, DocumentedOperation>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, unknown> };
}
