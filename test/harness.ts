import { env, exports } from "cloudflare:workers";
import type { Plan } from "../src/identity/plans";
import type { Scope } from "../src/identity/principal";
import type { CreatedApiKey, CreatedOrganization, ErrorBody, User } from "./api-types";

export type * from "./api-types";

export const ADMIN_TOKEN = env.ADMIN_TOKEN;

let ipCounter = 0;
/** A fresh client address per call, so failed-authentication throttling never leaks between tests. */
function freshIp(): string {
  ipCounter += 1;
  return `198.51.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
}

export interface CallOptions {
  key?: string | null;
  body?: unknown;
  /** Raw body text, sent as given (for malformed-JSON tests). */
  rawBody?: string;
  headers?: Record<string, string>;
  ip?: string;
}

/**
 * An answer: `body` is the parsed JSON (the text when it is not JSON, null when empty),
 * typed as the caller says it is — `call<Task>(...)`, `call<Page<Task>>(...)`, or
 * `call<ErrorBody>(...)` for a request the test expects refused. Nothing checks the
 * type at run time: the assertions do.
 */
export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** One HTTP call into the Worker, as a client would make it. */
export async function call<T = unknown>(
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { "CF-Connecting-IP": options.ip ?? freshIp(), ...options.headers };
  if (options.key) headers.Authorization = `Bearer ${options.key}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["Content-Type"] ??= "application/json";
  }
  const response = await exports.default.fetch(new Request(`https://verk.test${path}`, { method, headers, body }));
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {}
  return { status: response.status, headers: response.headers, body: parsed as T };
}

export interface TestOrg {
  id: string;
  name: string;
  owner: User;
  /** Keys of the owner by scope: admin, write, read. */
  keys: Record<Scope, string>;
  keyIds: Record<Scope, string>;
  /** A plain member with a write key. */
  member: User & { key: string };
}

let orgCounter = 0;

/** Builds an organization with its owner, keys of every scope and a plain member, through the public API. */
export async function createOrg(options: { plan?: Plan; name?: string } = {}): Promise<TestOrg> {
  orgCounter += 1;
  const suffix = `${orgCounter}-${crypto.randomUUID().slice(0, 8)}`;
  const created = await call<CreatedOrganization>("POST", "/v1/admin/organizations", {
    key: ADMIN_TOKEN,
    body: {
      name: options.name ?? `Org ${suffix}`,
      plan: options.plan ?? "enterprise",
      owner: { name: "Olive Owner", email: `owner-${suffix}@example.com` },
    },
  });
  if (created.status !== 201) throw new Error(`createOrg failed: ${created.status} ${JSON.stringify(created.body)}`);
  const adminKey = created.body.apiKey.key;
  const makeKey = async (scope: Scope, userId?: string) => {
    const res = await call<CreatedApiKey>("POST", "/v1/api-keys", {
      key: adminKey,
      body: { name: `${scope} key`, scope, userId },
    });
    if (res.status !== 201) throw new Error(`key create failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const write = await makeKey("write");
  const read = await makeKey("read");
  const memberRes = await call<User>("POST", "/v1/users", {
    key: adminKey,
    body: { name: "Max Member", email: `member-${suffix}@example.com`, role: "member" },
  });
  if (memberRes.status !== 201) throw new Error(`member create failed: ${JSON.stringify(memberRes.body)}`);
  const memberKey = await makeKey("write", memberRes.body.id);
  return {
    id: created.body.organization.id,
    name: created.body.organization.name,
    owner: created.body.owner,
    keys: { admin: adminKey, write: write.key, read: read.key },
    keyIds: { admin: created.body.apiKey.id, write: write.id, read: read.id },
    member: { ...memberRes.body, key: memberKey.key },
  };
}

/**
 * Fails unless the answer is this refusal in the spec's shape (with a request id); after
 * it, `response.body.error` is typed.
 */
export function expectError(
  response: ApiResponse,
  status: number,
  code: string,
  field?: string,
): asserts response is ApiResponse<ErrorBody> {
  const error = (response.body as Partial<ErrorBody> | null)?.error;
  if (response.status !== status || error?.code !== code || (field && error.field !== field)) {
    throw new Error(
      `expected ${status} ${code}${field ? ` (${field})` : ""}, got ${response.status} ${JSON.stringify(response.body)}`,
    );
  }
  if (typeof error.requestId !== "string") throw new Error("error body lacks requestId");
}

/** The error of an answer the test expects to be a refusal (it reads `body.error`, as a client would). */
export function errorOf(response: ApiResponse): ErrorBody["error"] {
  return (response.body as ErrorBody).error;
}

/** A Content-Security-Policy header as directive → sources. */
export function policyDirectives(csp: string): Record<string, string[]> {
  return Object.fromEntries(
    csp.split(";").map((d) => {
      const [name, ...sources] = d.trim().split(/\s+/);
      return [name!, sources];
    }),
  );
}
