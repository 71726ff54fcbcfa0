import createClient, { type Client } from "openapi-fetch";
import { VerkError } from "./errors";
import { iterate, type Page } from "./pagination";
import type { components, operations, paths } from "./schema";
import { type RetryOptions, type TransportOptions, verkFetch } from "./transport";

export type Schemas = components["schemas"];
type Op = keyof operations;
/** An operation's query parameters, plus the `cursor` every list takes. */
export type ListQuery<O extends Op> = NonNullable<operations[O]["parameters"]["query"]> & { cursor?: string };
/** An operation's JSON body. */
export type Body<O extends Op> =
  NonNullable<operations[O]["requestBody"]> extends { content: { "application/json": infer B } } ? B : never;

export interface VerkClientOptions {
  /** An API key, `vk_live_…` (README "Identity and keys"). */
  apiKey: string | undefined;
  /** Where the API is; default `http://127.0.0.1:8787` (`npm run dev`). A trailing `/v1` is accepted. */
  baseUrl?: string;
  retry?: RetryOptions;
  /** Another fetch (a Worker's service binding, a test's fake). */
  fetch?: TransportOptions["fetch"];
  /** Makes each POST's Idempotency-Key; default: a random UUID per call. */
  idempotencyKey?: () => string | Promise<string>;
}

type Result<D> = { data?: D; error?: unknown; response: Response };

/** The answer's body, or a `VerkError` for any non-2xx answer. */
async function unwrap<D>(pending: Promise<Result<D>>): Promise<D> {
  const { data, error, response } = await pending;
  if (!response.ok) throw VerkError.fromResponse(response, error);
  return data as D;
}

/**
 * The Verk API. Each resource has `list` (one page: `{data, pagination}`), `listAll`
 * (an async iterator over every item of every page), `get`, `create`, `update` and
 * `delete` where the API has them. Every non-2xx answer throws a `VerkError`.
 */
export class VerkClient {
  /** The typed `openapi-fetch` client underneath, for anything the methods below do not cover. */
  readonly api: Client<paths>;
  readonly tasks: ReturnType<typeof tasks>;
  readonly projects: ReturnType<typeof projects>;
  readonly comments: ReturnType<typeof comments>;
  readonly attachments: ReturnType<typeof attachments>;
  readonly users: ReturnType<typeof users>;
  /** The same as `users`: the organization's members. */
  readonly members: ReturnType<typeof users>;
  readonly apiKeys: ReturnType<typeof apiKeys>;
  readonly webhooks: ReturnType<typeof webhooks>;
  readonly events: ReturnType<typeof events>;
  readonly incomingWebhooks: ReturnType<typeof incomingWebhooks>;

  constructor(options: VerkClientOptions) {
    if (!options.apiKey) throw new TypeError("VerkClient: apiKey is required (an API key, vk_live_…)");
    const baseUrl = (options.baseUrl ?? "http://127.0.0.1:8787").replace(/\/+$/, "").replace(/\/v1$/, "");
    this.api = createClient<paths>({
      baseUrl,
      fetch: verkFetch({
        apiKey: options.apiKey,
        retry: options.retry,
        fetch: options.fetch,
        idempotencyKey: options.idempotencyKey,
      }),
    });
    this.tasks = tasks(this.api);
    this.projects = projects(this.api);
    this.comments = comments(this.api);
    this.attachments = attachments(this.api, {
      baseUrl,
      apiKey: options.apiKey,
      fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    });
    this.users = users(this.api);
    this.members = this.users;
    this.apiKeys = apiKeys(this.api);
    this.webhooks = webhooks(this.api);
    this.events = events(this.api);
    this.incomingWebhooks = incomingWebhooks(this.api);
  }
}

const byId = (id: string) => ({ params: { path: { id } } });

function tasks(api: Client<paths>) {
  const list = (query: ListQuery<"listTasks"> = {}) => unwrap(api.GET("/v1/tasks", { params: { query } }));
  return {
    list,
    listAll: (query: ListQuery<"listTasks"> = {}) => iterate<Schemas["Task"], ListQuery<"listTasks">>(list, query),
    get: (id: string) => unwrap(api.GET("/v1/tasks/{id}", byId(id))),
    create: (body: Body<"createTask">) => unwrap(api.POST("/v1/tasks", { body })),
    update: (id: string, body: Body<"updateTask">) => unwrap(api.PATCH("/v1/tasks/{id}", { ...byId(id), body })),
    delete: (id: string) => unwrap(api.DELETE("/v1/tasks/{id}", byId(id))),
  };
}

function projects(api: Client<paths>) {
  const list = (query: ListQuery<"listProjects"> = {}) => unwrap(api.GET("/v1/projects", { params: { query } }));
  return {
    list,
    listAll: (query: ListQuery<"listProjects"> = {}) =>
      iterate<Schemas["Project"], ListQuery<"listProjects">>(list, query),
    get: (id: string) => unwrap(api.GET("/v1/projects/{id}", byId(id))),
    create: (body: Body<"createProject">) => unwrap(api.POST("/v1/projects", { body })),
    update: (id: string, body: Body<"updateProject">) => unwrap(api.PATCH("/v1/projects/{id}", { ...byId(id), body })),
    delete: (id: string) => unwrap(api.DELETE("/v1/projects/{id}", byId(id))),
  };
}

function comments(api: Client<paths>) {
  const list = (taskId: string, query: ListQuery<"listComments"> = {}) =>
    unwrap(api.GET("/v1/tasks/{taskId}/comments", { params: { path: { taskId }, query } }));
  return {
    /** One page of a task's comments. */
    list,
    listAll: (taskId: string, query: ListQuery<"listComments"> = {}) =>
      iterate<Schemas["Comment"], ListQuery<"listComments">>((q) => list(taskId, q), query),
    get: (id: string) => unwrap(api.GET("/v1/comments/{id}", byId(id))),
    create: (taskId: string, body: Body<"createComment">) =>
      unwrap(api.POST("/v1/tasks/{taskId}/comments", { params: { path: { taskId } }, body })),
    update: (id: string, body: Body<"updateComment">) => unwrap(api.PATCH("/v1/comments/{id}", { ...byId(id), body })),
    delete: (id: string) => unwrap(api.DELETE("/v1/comments/{id}", byId(id))),
  };
}

/** What an upload sends: bytes in any form `fetch` takes, a stream included (sent without buffering). */
export type UploadBody = Blob | ArrayBuffer | ArrayBufferView | ReadableStream<Uint8Array> | string;

function attachments(
  api: Client<paths>,
  direct: { baseUrl: string; apiKey: string; fetch: NonNullable<VerkClientOptions["fetch"]> },
) {
  const list = (taskId: string, query: ListQuery<"listAttachments"> = {}) =>
    unwrap(api.GET("/v1/tasks/{taskId}/attachments", { params: { path: { taskId }, query } }));
  return {
    /** One page of a task's attachments. */
    list,
    listAll: (taskId: string, query: ListQuery<"listAttachments"> = {}) =>
      iterate<Schemas["Attachment"], ListQuery<"listAttachments">>((q) => list(taskId, q), query),
    get: (id: string) => unwrap(api.GET("/v1/attachments/{id}", byId(id))),
    /**
     * Uploads a file to a task as a raw body, streamed as given. Sent once, never retried
     * (the API takes no Idempotency-Key here: a retry could store the file twice).
     */
    upload: async (
      taskId: string,
      body: UploadBody,
      { filename, contentType }: { filename: string; contentType?: string },
    ): Promise<Schemas["Attachment"]> => {
      const url = `${direct.baseUrl}/v1/tasks/${encodeURIComponent(taskId)}/attachments?filename=${encodeURIComponent(filename)}`;
      const headers: Record<string, string> = {
        Authorization: `Bearer ${direct.apiKey}`,
        "Content-Type": contentType ?? "application/octet-stream",
      };
      // A stream goes up as it is read (Node's fetch needs `duplex: "half"` for that).
      const init = { method: "POST", headers, body: body as BodyInit, duplex: "half" } as RequestInit;
      const response = await direct.fetch(url, init);
      const parsed: unknown = await response.json().catch(() => undefined);
      if (!response.ok) throw VerkError.fromResponse(response, parsed);
      return parsed as Schemas["Attachment"];
    },
    /** The bytes as a streaming `Response` (its Content-Type, Content-Length and Content-Disposition are the file's). */
    download: async (id: string): Promise<Response> => {
      const { response, error } = await api.GET("/v1/attachments/{id}/content", { ...byId(id), parseAs: "stream" });
      if (!response.ok) throw VerkError.fromResponse(response, error);
      return response;
    },
    delete: (id: string) => unwrap(api.DELETE("/v1/attachments/{id}", byId(id))),
  };
}

function users(api: Client<paths>) {
  const list = (query: ListQuery<"listUsers"> = {}) => unwrap(api.GET("/v1/users", { params: { query } }));
  return {
    list,
    listAll: (query: ListQuery<"listUsers"> = {}) => iterate<Schemas["User"], ListQuery<"listUsers">>(list, query),
    /** The member the API key belongs to. */
    me: () => unwrap(api.GET("/v1/users/me")),
    get: (id: string) => unwrap(api.GET("/v1/users/{id}", byId(id))),
    create: (body: Body<"createUser">) => unwrap(api.POST("/v1/users", { body })),
    update: (id: string, body: Body<"updateUser">) => unwrap(api.PATCH("/v1/users/{id}", { ...byId(id), body })),
    delete: (id: string) => unwrap(api.DELETE("/v1/users/{id}", byId(id))),
  };
}

function apiKeys(api: Client<paths>) {
  const list = (query: ListQuery<"listApiKeys"> = {}) => unwrap(api.GET("/v1/api-keys", { params: { query } }));
  const revoke = (id: string) => unwrap(api.DELETE("/v1/api-keys/{id}", byId(id)));
  return {
    list,
    listAll: (query: ListQuery<"listApiKeys"> = {}) =>
      iterate<Schemas["ApiKey"], ListQuery<"listApiKeys">>(list, query),
    /** The new key's secret is in the answer, and only there. */
    create: (body: Body<"createApiKey">) => unwrap(api.POST("/v1/api-keys", { body })),
    revoke,
    delete: revoke,
    rotate: (id: string, body: Body<"rotateApiKey"> = {}) =>
      unwrap(api.POST("/v1/api-keys/{id}/rotate", { ...byId(id), body })),
  };
}

function webhooks(api: Client<paths>) {
  const list = (query: ListQuery<"listWebhooks"> = {}) => unwrap(api.GET("/v1/webhooks", { params: { query } }));
  const listDeliveries = (webhookId: string, query: ListQuery<"listWebhookDeliveries"> = {}) =>
    unwrap(api.GET("/v1/webhooks/{id}/deliveries", { params: { path: { id: webhookId }, query } }));
  const byDelivery = (id: string, deliveryId: string) => ({ params: { path: { id, deliveryId } } });
  return {
    list,
    listAll: (query: ListQuery<"listWebhooks"> = {}) =>
      iterate<Schemas["Webhook"], ListQuery<"listWebhooks">>(list, query),
    get: (id: string) => unwrap(api.GET("/v1/webhooks/{id}", byId(id))),
    /** Per clock hour over the last `hours` (1–168, default 24): deliveries by outcome, attempts, p50 response time. */
    stats: (id: string, query: NonNullable<operations["getWebhookStats"]["parameters"]["query"]> = {}) =>
      unwrap(api.GET("/v1/webhooks/{id}/stats", { params: { path: { id }, query } })),
    /** The secret is in the answer, and only there. */
    create: (body: Body<"createWebhook">) => unwrap(api.POST("/v1/webhooks", { body })),
    update: (id: string, body: Body<"updateWebhook">) => unwrap(api.PATCH("/v1/webhooks/{id}", { ...byId(id), body })),
    delete: (id: string) => unwrap(api.DELETE("/v1/webhooks/{id}", byId(id))),
    /** A new secret (shown once); the old one keeps signing during the grace period. */
    rotateSecret: (id: string, body: Body<"rotateWebhookSecret"> = {}) =>
      unwrap(api.POST("/v1/webhooks/{id}/rotate-secret", { ...byId(id), body })),
    /** Sends a signed sample now and reports the receiver's answer. */
    test: (id: string, body: Body<"sendWebhookTest"> = {}) =>
      unwrap(api.POST("/v1/webhooks/{id}/test", { ...byId(id), body })),
    /**
     * After an outage: re-sends every delivery that ended failed in [since, until) on its
     * own id. At most 1000 per call; while `remaining` > 0, call again with the answer's window.
     */
    recover: (id: string, body: Body<"recoverWebhookDeliveries">) =>
      unwrap(api.POST("/v1/webhooks/{id}/recover", { ...byId(id), body })),
    /** The organization's public keys for `ed25519` and `rsa-sha256` webhook signatures (PEM and JWK). */
    signingKeys: () => unwrap(api.GET("/v1/webhooks/signing-keys")),
    /** A new key pair of `algorithm`; the one it replaces keeps signing beside it during the overlap. */
    rotateSigningKey: (algorithm: Body<"rotateWebhookSigningKey">["algorithm"]) =>
      unwrap(api.POST("/v1/webhooks/signing-keys/rotate", { body: { algorithm } })),
    deliveries: {
      list: listDeliveries,
      listAll: (webhookId: string, query: ListQuery<"listWebhookDeliveries"> = {}) =>
        iterate<Schemas["Delivery"], ListQuery<"listWebhookDeliveries">>((q) => listDeliveries(webhookId, q), query),
      get: (webhookId: string, deliveryId: string) =>
        unwrap(api.GET("/v1/webhooks/{id}/deliveries/{deliveryId}", byDelivery(webhookId, deliveryId))),
      redeliver: (webhookId: string, deliveryId: string) =>
        unwrap(api.POST("/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver", byDelivery(webhookId, deliveryId))),
    },
  };
}

function events(api: Client<paths>) {
  const list = (query: ListQuery<"listEvents"> = {}) => unwrap(api.GET("/v1/events", { params: { query } }));
  return {
    list,
    listAll: (query: ListQuery<"listEvents"> = {}) => iterate<Schemas["Event"], ListQuery<"listEvents">>(list, query),
    get: (id: string) => unwrap(api.GET("/v1/events/{id}", byId(id))),
  };
}

function incomingWebhooks(api: Client<paths>) {
  const list = (query: ListQuery<"listIncomingWebhooks"> = {}) =>
    unwrap(api.GET("/v1/incoming-webhooks", { params: { query } }));
  return {
    list,
    listAll: (query: ListQuery<"listIncomingWebhooks"> = {}) =>
      iterate<Schemas["IncomingWebhook"], ListQuery<"listIncomingWebhooks">>(list, query),
    get: (id: string) => unwrap(api.GET("/v1/incoming-webhooks/{id}", byId(id))),
    /** The credential's key is in the answer, and only there. */
    create: (body: Body<"createIncomingWebhook">) => unwrap(api.POST("/v1/incoming-webhooks", { body })),
    update: (id: string, body: Body<"updateIncomingWebhook">) =>
      unwrap(api.PATCH("/v1/incoming-webhooks/{id}", { ...byId(id), body })),
    delete: (id: string) => unwrap(api.DELETE("/v1/incoming-webhooks/{id}", byId(id))),
    rotate: (id: string) => unwrap(api.POST("/v1/incoming-webhooks/{id}/rotate", byId(id))),
  };
}

export type { Page };
