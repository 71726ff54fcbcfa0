import type { CreatedApiKey, CreatedIncomingWebhook, Delivery, ErrorBody, Event, Page } from "../api-types";
import { makeAttachment, makeComment, makeProject, makeTask } from "../fixtures";
import { ADMIN_TOKEN, type ApiResponse, call, createOrg, type TestOrg } from "../harness";
import { createWebhook, receiverEndpoint, waitFor } from "../webhook-helpers";
import { doc, KEY_PERMISSIONS, type Operation, resolve } from "./document";

// ---------------------------------------------------------------------------
// The world: two organizations with one resource of every kind, and credentials

export type ResourceKind =
  | "project"
  | "task"
  | "comment"
  | "attachment"
  | "event"
  | "user"
  | "apiKey"
  | "webhook"
  | "delivery"
  | "incomingWebhook"
  | "organization";

/** Which fixture a path parameter names, by the collection segment in front of it. */
const PATH_SEGMENT_KINDS: Record<string, ResourceKind> = {
  projects: "project",
  tasks: "task",
  comments: "comment",
  attachments: "attachment",
  events: "event",
  users: "user",
  "api-keys": "apiKey",
  webhooks: "webhook",
  deliveries: "delivery",
  "incoming-webhooks": "incomingWebhook",
  organizations: "organization",
};

/** Body fields that refer to another resource, and its kind. A field named `…Id` must be listed here. */
export const BODY_REFERENCES: Record<string, ResourceKind> = {
  projectId: "project",
  assigneeId: "user",
  userId: "user",
  mentions: "user",
};

export interface OrgWorld {
  org: TestOrg;
  ids: Partial<Record<ResourceKind, string>>;
  /** An incoming-webhook key with every permission. */
  incomingKey: string;
}

export interface World {
  a: OrgWorld;
  b: OrgWorld;
  /** Org A's incoming-webhook keys with exactly one permission, and with every permission but one. */
  incomingOnly: Record<string, string>;
  incomingAllBut: Record<string, string>;
  /** Org A owner's API keys with exactly one permission, and with every permission but one. */
  keyOnly: Record<string, string>;
  keyAllBut: Record<string, string>;
}

export const INCOMING_PERMISSIONS = (resolve(doc.components.schemas.CreateIncomingWebhook!).properties!.permissions!
  .items!.enum ?? []) as string[];

async function createIncomingKey(org: TestOrg, name: string, permissions: string[]) {
  const res = await call<CreatedIncomingWebhook>("POST", "/v1/incoming-webhooks", {
    key: org.keys.admin,
    body: { name, permissions },
  });
  if (res.status !== 201) throw new Error(`incoming webhook create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function createPermissionKey(org: TestOrg, name: string, permissions: string[]) {
  const res = await call<CreatedApiKey>("POST", "/v1/api-keys", { key: org.keys.admin, body: { name, permissions } });
  if (res.status !== 201) throw new Error(`API key create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.key;
}

async function buildOrgWorld(org: TestOrg, withDelivery: boolean): Promise<OrgWorld> {
  const project = await makeProject(org);
  const task = await makeTask(org, project.id);
  const comment = await makeComment(org, task.id);
  const attachment = await makeAttachment(org, task.id);
  // A key of its own, so that a broken guard on revoke or rotate cannot take the suite's keys with it.
  const apiKey = await call<CreatedApiKey>("POST", "/v1/api-keys", {
    key: org.keys.admin,
    body: { name: "fixture", scope: "read" },
  });
  const webhook = await createWebhook(org, { url: receiverEndpoint("contract").url, events: ["project.created"] });
  const credential = await createIncomingKey(org, "fixture", ["tasks:create"]);
  const full = await createIncomingKey(org, "every permission", INCOMING_PERMISSIONS);
  const ids: OrgWorld["ids"] = {
    organization: org.id,
    project: project.id,
    task: task.id,
    comment: comment.id,
    attachment: attachment.id,
    user: org.member.id,
    apiKey: apiKey.body.id,
    webhook: webhook.id,
    incomingWebhook: credential.id,
  };
  if (withDelivery) {
    await makeProject(org, { name: "Delivered" }); // project.created → a delivery to the webhook
    ids.delivery = await waitFor(async () => {
      const res = await call<Page<Delivery>>("GET", `/v1/webhooks/${webhook.id}/deliveries`, { key: org.keys.admin });
      return (res.body?.data?.[0]?.id as string | undefined) ?? undefined;
    }, "a delivery of the fixture webhook");
  }
  const events = await call<Page<Event>>("GET", "/v1/events?limit=1", { key: org.keys.read });
  ids.event = events.body.data[0]!.id;
  return { org, ids, incomingKey: full.key };
}

/** Two organizations with one resource of every kind, and org A's API keys and incoming-webhook keys of one permission each. */
export async function buildWorld(): Promise<World> {
  const [orgA, orgB] = [await createOrg(), await createOrg()];
  const a = await buildOrgWorld(orgA, true);
  const b = await buildOrgWorld(orgB, false);
  const incomingOnly: Record<string, string> = {};
  const incomingAllBut: Record<string, string> = {};
  for (const permission of INCOMING_PERMISSIONS) {
    incomingOnly[permission] = (await createIncomingKey(orgA, `only ${permission}`, [permission])).key;
    const others = INCOMING_PERMISSIONS.filter((p) => p !== permission);
    incomingAllBut[permission] = (await createIncomingKey(orgA, `all but ${permission}`, others)).key;
  }
  const keyOnly: Record<string, string> = {};
  const keyAllBut: Record<string, string> = {};
  for (const permission of KEY_PERMISSIONS) {
    keyOnly[permission] = await createPermissionKey(orgA, `only ${permission}`, [permission]);
    const others = KEY_PERMISSIONS.filter((p) => p !== permission);
    keyAllBut[permission] = await createPermissionKey(orgA, `all but ${permission}`, others);
  }
  return { a, b, incomingOnly, incomingAllBut, keyOnly, keyAllBut };
}

// ---------------------------------------------------------------------------
// Requests

const UNKNOWN_ID = "zz_0000000000000000000";

function pathFixtureKind(op: Operation, param: string): ResourceKind {
  const segments = op.path.split("/");
  const index = segments.indexOf(`{${param}}`);
  const kind = PATH_SEGMENT_KINDS[segments[index - 1] ?? ""];
  if (!kind) throw new Error(`${op.name}: no fixture for {${param}}; add its collection to PATH_SEGMENT_KINDS`);
  return kind;
}

/** The path with each parameter replaced by this organization's fixture (or UNKNOWN_ID). */
function urlOf(op: Operation, ids: OrgWorld["ids"] | "unknown", query = ""): string {
  let url = op.path;
  for (const param of op.pathParams) {
    const kind = pathFixtureKind(op, param);
    const id = ids === "unknown" ? UNKNOWN_ID : ids[kind];
    if (!id) throw new Error(`${op.name}: the world has no ${kind} for {${param}}`);
    url = url.replace(`{${param}}`, encodeURIComponent(id));
  }
  return url + query;
}

export function send(
  op: Operation,
  key: string | null,
  ids: OrgWorld["ids"] | "unknown",
  body?: unknown,
  query = "",
  headers?: Record<string, string>,
) {
  if (op.fileUpload) {
    // A small named file instead of JSON: the guards under test come before the bytes are read.
    return call(op.method, urlOf(op, ids, query), {
      key,
      rawBody: "fixture bytes",
      headers: {
        "Content-Type": "text/plain",
        "Content-Disposition": 'attachment; filename="fixture.txt"',
        ...headers,
      },
    });
  }
  const hasBody = op.method !== "GET" && op.method !== "DELETE";
  return call(op.method, urlOf(op, ids, query), { key, body: hasBody ? (body ?? {}) : undefined, headers });
}

/** The credential of org `w` that can do everything this operation's scheme allows. */
export function fullCredential(op: Operation, w: OrgWorld): string {
  if (op.scheme === "adminToken") return ADMIN_TOKEN;
  if (op.scheme === "incomingWebhookKey") return w.incomingKey;
  return w.org.keys.admin;
}

export function show(res: ApiResponse): string {
  return `${res.status} ${JSON.stringify(res.body)?.slice(0, 400)}`;
}

/** A refusal in the spec's shape: status, code, the field when given, and the request id in body and header. */
export function expectRefused(res: ApiResponse, status: number, code: string, field?: string): void {
  const error = (res.body as Partial<ErrorBody> | null)?.error;
  const shaped =
    typeof error?.message === "string" &&
    typeof error?.requestId === "string" &&
    res.headers.get("X-Request-Id") === error.requestId;
  if (res.status !== status || error?.code !== code || (field !== undefined && error?.field !== field) || !shaped) {
    throw new Error(`expected ${status} ${code}${field === undefined ? "" : ` naming '${field}'`}, got ${show(res)}`);
  }
}
