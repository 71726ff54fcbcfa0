import { KEY_PERMISSIONS, SCOPE_PERMISSIONS, SCOPES } from "../identity/principal";

/**
 * The OpenAPI document's own fields: info, servers and one tag per resource. Generated
 * clients group operations by tag and name methods by `operationId`, so each operation
 * states both explicitly in its `createRoute` (test/frame.test.ts fails on a missing
 * or duplicate `operationId`, or a tag not declared here).
 */
export const API_TAGS = [
  { name: "Tasks", description: "Tasks in projects: filters, sorting, ETags. `/v1/tasks`" },
  { name: "Projects", description: "Projects group tasks; archived projects take no new tasks. `/v1/projects`" },
  {
    name: "Attachments",
    description:
      "Files on tasks, stored in R2; per-plan size limits. `/v1/tasks/{taskId}/attachments`, `/v1/attachments`",
  },
  {
    name: "Comments",
    description: "Comments on tasks; the author is the API key's member. `/v1/tasks/{taskId}/comments`, `/v1/comments`",
  },
  {
    name: "Users",
    description: "The organization's members (owner, admin, member) and who the key belongs to. `/v1/users`",
  },
  {
    name: "API keys",
    description:
      "`vk_live_` keys with a scope (read, write, admin) or a list of permissions; shown once. `/v1/api-keys`",
  },
  {
    name: "Webhooks",
    description:
      "Outgoing webhooks: signed POSTs of the organization's events, their delivery log and redelivery. `/v1/webhooks`",
  },
  { name: "Events", description: "The organization's event log (audit trail). `/v1/events`" },
  {
    name: "Incoming webhooks",
    description:
      "Credentials (`ik_live_…`) for automation tools, each with permissions and an optional IP allowlist. `/v1/incoming-webhooks`",
  },
  {
    name: "Intake",
    description:
      "The endpoints an incoming-webhook credential calls to create and update tasks, projects and comments. `/v1/webhooks/incoming`",
  },
  {
    name: "Organizations",
    description: "Operator only (`ADMIN_TOKEN`): create organizations and change their plan. `/v1/admin/organizations`",
  },
  { name: "Health", description: "Liveness, without authentication. `/health`" },
];

export const documentConfig = {
  openapi: "3.1.0",
  info: {
    title: "Verk API",
    version: "1.0.0",
    description:
      "Task management with signed outgoing webhooks. Errors: `{error: {code, message, field?, requestId}}`.",
    contact: { name: "Verk", url: "https://github.com/verk" },
    license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
  },
  servers: [
    { url: "/", description: "The deployment serving this document" },
    { url: "http://127.0.0.1:8787", description: "Local development (`npm run dev`)" },
    {
      url: "https://{host}",
      description: "Production: your Worker's hostname",
      variables: { host: { default: "verk.your-subdomain.workers.dev" } },
    },
  ],
  tags: API_TAGS,
};

/**
 * The `bearerAuth` scheme: each operation's security requirement names the one
 * permission it needs; this lists them all and what each scope is shorthand for.
 */
const listed = (permissions: readonly string[]) => permissions.map((p) => `\`${p}\``).join(", ");

export const bearerAuthDescription = [
  "An API key: `vk_live_…`. Each operation's security requirement names the one permission it needs; " +
    "a key holds a list of permissions, or a scope that stands for a set of them.",
  `Permissions: ${listed(KEY_PERMISSIONS)}.`,
  `Scopes:\n${SCOPES.map((s) => `- \`${s}\`: ${listed(SCOPE_PERMISSIONS[s])}`).join("\n")}`,
  "A key acts within its member's role: a `member` holds at most the `write` scope's permissions.",
].join("\n\n");
