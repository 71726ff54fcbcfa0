import { MAX_BODY_BYTES } from "./json-body";

/**
 * What every operation of a kind answers, stated once rather than in 50 route
 * contracts: the middleware that sends these headers and errors serves every route of
 * the kind, so the document says so here, beside nothing else. test/openapi-responses.test.ts
 * checks real answers of every operation against the finished document.
 */

/** The slice of an OpenAPI 3.1 document this module touches. */
interface Document {
  paths?: object;
  components?: { headers?: object };
}
interface Operation {
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string }[];
  requestBody?: unknown;
  responses?: Record<string, Response>;
}
interface Response {
  description: string;
  headers?: Record<string, unknown>;
  content?: unknown;
}

const METHODS = new Set(["get", "head", "post", "put", "patch", "delete", "options"]);
const ref = (name: string) => ({ $ref: `#/components/headers/${name}` });
const integer = { type: "integer" as const };
const text = { type: "string" as const };

/** Response headers, by their wire name. */
export const RESPONSE_HEADERS = {
  "X-Request-Id": {
    description: "This request's id (yours, if you sent a sane `X-Request-Id`); quote it to support",
    required: true,
    schema: text,
  },
  "X-RateLimit-Limit": { description: "Requests allowed in the tightest window", schema: integer },
  "X-RateLimit-Remaining": { description: "Requests left in the tightest window", schema: integer },
  "X-RateLimit-Reset": { description: "Unix seconds when the tightest window resets", schema: integer },
  RateLimit: {
    description: 'IETF draft RateLimit field: the tightest policy\'s state, `"burst";r=<remaining>;t=<seconds>`',
    schema: text,
  },
  "RateLimit-Policy": {
    description: 'IETF draft RateLimit-Policy field: every window, `"burst";q=<limit>;w=<seconds>, …`',
    schema: text,
  },
  "Retry-After": { description: "Seconds to wait before trying again", schema: integer },
  "Idempotent-Replayed": {
    description: "`true` when this is the stored answer to an earlier request with the same Idempotency-Key",
    schema: { type: "string" as const, enum: ["true"] },
  },
  Location: { description: "The new resource's URL", required: true, schema: text },
  "X-Verk-Permissions": {
    description:
      'What the API key may do at this moment: its permissions within its member\'s role, comma-separated in catalog order (README "Identity and keys"); empty when it holds none',
    schema: text,
  },
  Link: {
    description: 'RFC 8288: `<…>; rel="next"` names the next page (absent on the last page)',
    schema: text,
  },
} as const;

type HeaderName = keyof typeof RESPONSE_HEADERS;
const RATE_LIMIT: HeaderName[] = [
  "X-RateLimit-Limit",
  "X-RateLimit-Remaining",
  "X-RateLimit-Reset",
  "RateLimit",
  "RateLimit-Policy",
];

const errorBody = { "application/json": { schema: { $ref: "#/components/schemas/Error" } } };

/** Error answers that can come from the shared middleware, whatever the route. */
const SHARED_ERRORS = {
  PayloadTooLarge: { status: "413", description: `The body is larger than ${MAX_BODY_BYTES} bytes` },
  UnsupportedMediaType: { status: "415", description: "The body is not JSON (`Content-Type: application/json`)" },
  InternalError: { status: "500", description: "Something failed on our side; the body carries the request id" },
} as const;

/** Credentials whose requests are counted, so their answers carry the rate-limit headers. */
const COUNTED_SCHEMES = new Set(["bearerAuth", "incomingWebhookKey"]);

/**
 * Completes the document the routes declared: every response gets `X-Request-Id`;
 * counted operations' answers (all but 401) get the rate-limit headers, their 429 and
 * every 429 `Retry-After`; an API key's answers (all but 401) name its permissions; writes under the JSON body guard may answer 413 and 415;
 * everything may answer 500; a POST that takes `Idempotency-Key` marks replays and may
 * answer 409 with `Retry-After` while the first request runs; a 201 names its
 * `Location`; a page of a list may carry `Link`.
 */
export function documentSharedResponses<D extends Document>(document: D): D {
  document.components ??= {};
  document.components.headers = { ...document.components.headers, ...RESPONSE_HEADERS };
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const [method, value] of Object.entries(item as Record<string, unknown>)) {
      if (!METHODS.has(method)) continue;
      completeOperation(path, method, value as Operation);
    }
  }
  return document;
}

function completeOperation(path: string, method: string, operation: Operation): void {
  operation.responses ??= {};
  const responses = operation.responses;
  const scheme = Object.keys(operation.security?.[0] ?? {})[0];
  const counted = scheme !== undefined && COUNTED_SCHEMES.has(scheme);
  const idempotent = (operation.parameters ?? []).some((p) => p.in === "header" && p.name === "idempotency-key");

  const shared = (error: (typeof SHARED_ERRORS)[keyof typeof SHARED_ERRORS]) => {
    responses[error.status] ??= { description: error.description, content: errorBody };
  };
  if (path.startsWith("/v1/") && (method === "post" || method === "patch" || method === "put")) {
    shared(SHARED_ERRORS.PayloadTooLarge);
    shared(SHARED_ERRORS.UnsupportedMediaType);
  }
  shared(SHARED_ERRORS.InternalError);

  for (const [status, response] of Object.entries(responses)) {
    const headers: Record<string, unknown> = { "X-Request-Id": ref("X-Request-Id") };
    if (counted && status !== "401") for (const name of RATE_LIMIT) headers[name] = ref(name);
    if (scheme === "bearerAuth" && status !== "401") headers["X-Verk-Permissions"] = ref("X-Verk-Permissions");
    if (status === "429") headers["Retry-After"] = { ...RESPONSE_HEADERS["Retry-After"], required: true };
    if (idempotent && status.startsWith("2")) headers["Idempotent-Replayed"] = ref("Idempotent-Replayed");
    if (idempotent && status === "409") headers["Retry-After"] = ref("Retry-After");
    if (status === "201") headers.Location = ref("Location");
    if (status === "200" && isPage(response)) headers.Link = ref("Link");
    response.headers = { ...headers, ...response.headers };
  }
}

/** A list's answer: a JSON object with `data` and `pagination`. */
function isPage(response: Response): boolean {
  const schema = (response.content as { "application/json"?: { schema?: { $ref?: string } } } | undefined)?.[
    "application/json"
  ]?.schema;
  return typeof schema?.$ref === "string" && /Page$/.test(schema.$ref);
}
