import type { JsonSchema, OpenApiDocument } from "../api-types";
import { call } from "../harness";

/** The OpenAPI document the Worker serves, read once when the suite is collected, and its operations. */

// ---------------------------------------------------------------------------
// The document

const docResponse = await call<OpenApiDocument>("GET", "/openapi.json");
if (docResponse.status !== 200) throw new Error(`GET /openapi.json answered ${docResponse.status}`);
export const doc = docResponse.body;

export function resolve(schema: JsonSchema): JsonSchema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace("#/components/schemas/", "");
  const target = doc.components.schemas[name];
  if (!target) throw new Error(`unresolvable $ref ${schema.$ref}`);
  return resolve(target);
}

/** The JSON types a schema admits ("integer" counts as "number"). */
export function typesOf(schema: JsonSchema): string[] {
  const s = resolve(schema);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return alternatives.flatMap(typesOf);
  if (s.type) return (Array.isArray(s.type) ? s.type : [s.type]).map((t) => (t === "integer" ? "number" : t));
  if (s.enum) return [...new Set(s.enum.map((v) => (v === null ? "null" : typeof v)))];
  return [];
}

export type Scheme = "bearerAuth" | "adminToken" | "incomingWebhookKey";
const SCHEMES: Scheme[] = ["bearerAuth", "adminToken", "incomingWebhookKey"];
export const SCOPES = ["read", "write", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

/** The API key permissions the document lists (the CreateApiKey body's `permissions` items). */
export const KEY_PERMISSIONS = (resolve(doc.components.schemas.CreateApiKey!).properties!.permissions!.items!.enum ??
  []) as string[];

/**
 * The lowest scope holding each permission, stated here rather than read from the
 * Worker: the reach each scope had before keys had permissions (read reads tasks,
 * projects, comments, members and events; write also writes the first three; the
 * rest was admin's), which a scope key must keep exactly.
 */
export const LOWEST_SCOPE: Record<string, Scope> = {
  "tasks:read": "read",
  "projects:read": "read",
  "comments:read": "read",
  "members:read": "read",
  "events:read": "read",
  "tasks:write": "write",
  "projects:write": "write",
  "comments:write": "write",
  "members:write": "admin",
  "keys:read": "admin",
  "keys:write": "admin",
  "webhooks:read": "admin",
  "webhooks:write": "admin",
  "incoming:read": "admin",
  "incoming:write": "admin",
};

export interface Operation {
  /** "PATCH /v1/tasks/{id}" */
  name: string;
  method: string;
  path: string;
  scheme?: Scheme;
  /** The key permission (bearerAuth) or credential permission (incomingWebhookKey) the document says the operation needs. */
  needs?: string;
  pathParams: string[];
  queryParams: string[];
  body?: { required: boolean; schema: JsonSchema };
  /** The body is a file's bytes (application/octet-stream), not JSON. */
  fileUpload: boolean;
}

export const operations: Operation[] = Object.entries(doc.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, op]): Operation => {
    const requirement = op.security?.[0] ?? {};
    const scheme = SCHEMES.find((s) => s in requirement);
    const schema = op.requestBody?.content["application/json"]?.schema;
    return {
      name: `${method.toUpperCase()} ${path}`,
      method: method.toUpperCase(),
      path,
      scheme,
      needs: scheme ? requirement[scheme]?.[0] : undefined,
      pathParams: (op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name),
      queryParams: (op.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name),
      body: schema ? { required: op.requestBody?.required ?? false, schema } : undefined,
      fileUpload: op.requestBody?.content["application/octet-stream"] !== undefined,
    };
  }),
);
export const secured = operations.filter((op) => op.scheme);

/** Operations anyone may call; every other operation must declare a security requirement. */
export const PUBLIC_OPERATIONS = ["GET /health"];
/** Served by the Worker but not operations of the document. */
export const PUBLIC_UNDOCUMENTED = ["/openapi.json", "/docs"];

/**
 * Guards an operation is exempt from, other than the structural ones (no body, no path
 * id, read being the lowest scope), each with its reason. The ledger test below fails
 * on an entry that names no operation or a guard the suite would not otherwise generate.
 */
export const EXEMPT: Record<string, string> = {
  "POST /v1/admin/organizations: 403":
    "the operator token is all or nothing: there is no lower privilege to try (401 covers a wrong token)",
  "PATCH /v1/admin/organizations/{id}: 403":
    "the operator token is all or nothing: there is no lower privilege to try (401 covers a wrong token)",
  "PATCH /v1/admin/organizations/{id}: 404 across organizations":
    "the operator acts across organizations; an unknown organization id answering 404 is checked by 'the ADMIN_TOKEN passes'",
};
