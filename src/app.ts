import { createRoute, z } from "@hono/zod-openapi";
import { dashboardPage } from "./dashboard/dashboard";
import { authenticate } from "./http/auth";
import { corsPolicy } from "./http/cors";
import { documentBookmark, withDbSession } from "./http/db-session";
import { documentSharedResponses } from "./http/document-responses";
import { idempotency } from "./http/idempotency";
import { jsonBodyGuard } from "./http/json-body";
import { handleError, handleNotFound } from "./http/on-error";
import { createRouter, jsonResponse } from "./http/openapi";
import { requestContext } from "./http/request-id";
import { adminRouter } from "./routes/admin/admin.handlers";
import { apiKeysRouter } from "./routes/api-keys/api-keys.handlers";
import { attachmentsRouter, unlessUpload } from "./routes/attachments/attachments.handlers";
import { commentsRouter } from "./routes/comments/comments.handlers";
import { DOCS_INIT_PATH, docsInit, docsPage } from "./routes/docs/docs";
import { bearerAuthDescription, documentConfig } from "./routes/document";
import { eventsRouter } from "./routes/events/events.handlers";
import { incomingWebhooksRouter } from "./routes/incoming-webhooks/incoming-webhooks.handlers";
import { intakeRouter } from "./routes/intake/intake.handlers";
import { projectsRouter } from "./routes/projects/projects.handlers";
import { tasksRouter } from "./routes/tasks/tasks.handlers";
import { usersRouter } from "./routes/users/users.handlers";
import { registerOutgoingWebhooks } from "./routes/webhooks/outgoing.contract";
import { webhooksRouter } from "./routes/webhooks/webhooks.handlers";

const healthRoute = createRoute({
  method: "get",
  path: "/health",
  operationId: "getHealth",
  security: [],
  tags: ["Health"],
  summary: "Liveness: answers without touching storage",
  responses: { 200: jsonResponse(z.object({ status: z.literal("ok") }), "The Worker is up") },
});

/**
 * Middleware order: request id and log → CORS (a preflight is answered here, 204, before
 * anything is authenticated or counted) → D1 session (`X-Verk-Bookmark`) → authentication
 * and rate limit (API key, operator token or incoming-webhook credential) → body guard
 * (413/415/INVALID_JSON) → idempotency → route validation → handler. Nothing reads the body of a request that
 * has not authenticated, and a valid key's bad body still counts against its limits.
 * Every failure leaves through `handleError`.
 */
export function buildApp() {
  const app = createRouter();
  app.use("*", requestContext, corsPolicy, withDbSession);

  app.openapi(healthRoute, (c) => c.json({ status: "ok" as const }, 200));

  app.route("/v1/admin", adminRouter);
  // Ahead of the API-key routes: these authenticate with incoming-webhook credentials.
  app.route("/v1/webhooks/incoming", intakeRouter);

  const api = createRouter();
  // Uploads stream their body to R2 (README "Attachments"): the JSON body guard and the
  // Idempotency-Key fingerprint would read it whole first, so they skip that one route
  // (which refuses an Idempotency-Key: attachments.handlers.ts).
  api.use("*", authenticate, unlessUpload(jsonBodyGuard), unlessUpload(idempotency));
  api.route("/projects", projectsRouter);
  api.route("/tasks", tasksRouter);
  api.route("/", commentsRouter);
  api.route("/", attachmentsRouter);
  api.route("/events", eventsRouter);
  api.route("/users", usersRouter);
  api.route("/api-keys", apiKeysRouter);
  api.route("/webhooks", webhooksRouter);
  api.route("/incoming-webhooks", incomingWebhooksRouter);
  app.route("/v1", api);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: bearerAuthDescription,
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "adminToken", {
    type: "http",
    scheme: "bearer",
    description: "The operator's ADMIN_TOKEN",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "incomingWebhookKey", {
    type: "http",
    scheme: "bearer",
    description: "An incoming-webhook credential's key: `ik_live_…`",
  });
  registerOutgoingWebhooks(app.openAPIRegistry);
  let document: ReturnType<typeof apiDocument> | undefined;
  app.get("/openapi.json", (c) => {
    document ??= apiDocument(app);
    return c.json(document);
  });
  app.get("/docs", docsPage);
  app.get(DOCS_INIT_PATH, docsInit);
  app.get("/dashboard", dashboardPage);
  app.get("/dashboard/", dashboardPage);

  app.notFound(handleNotFound);
  app.onError(handleError);
  return app;
}

export type App = ReturnType<typeof buildApp>;

/**
 * The OpenAPI document of an app `buildApp` made: what its routes declare, plus what the
 * shared middleware adds to every operation (bookmark, request id, rate-limit headers,
 * 413/415/500). Served at `/openapi.json`; `scripts/openapi.mjs` writes the same to a file.
 */
export function apiDocument(app: ReturnType<typeof createRouter>) {
  return documentBookmark(documentSharedResponses(app.getOpenAPI31Document(documentConfig)));
}
