import { createMiddleware } from "hono/factory";
import { bearerToken, clientIp, failAuthentication } from "../../http/auth";
import type { AppEnv } from "../../http/context";
import { ApiError } from "../../http/errors";
import { idempotency, responseCarriesSecret } from "../../http/idempotency";
import { createRouter } from "../../http/openapi";
import { enqueueAfterResponse } from "../../http/write-context";
import { changePlan, createOrganization } from "../../identity/organizations";
import { timingSafeEqual } from "../../lib/crypto";
import * as routes from "./admin.routes";

/** Operator endpoints answer only to `Authorization: Bearer <ADMIN_TOKEN>`. */
const requireAdminToken = createMiddleware<AppEnv>(async (c, next) => {
  const expected = c.env.ADMIN_TOKEN;
  const given = bearerToken(c.req.header("Authorization"));
  if (!expected || expected.length < 16) {
    throw new ApiError("FORBIDDEN", "Operator endpoints are disabled: set ADMIN_TOKEN (at least 16 characters)");
  }
  if (!given || !timingSafeEqual(given, expected)) {
    return failAuthentication(c.env, clientIp(c.req), "Invalid operator token");
  }
  await next();
});

export const adminRouter = createRouter();
adminRouter.use("*", requireAdminToken, idempotency);
adminRouter
  .openapi(routes.createOrganization, async (c) => {
    const created = await createOrganization(c.get("db"), enqueueAfterResponse(c), c.req.valid("json"));
    responseCarriesSecret(c, "apiKey.key");
    c.header("Location", `/v1/admin/organizations/${created.organization.id}`);
    c.header("Cache-Control", "no-store");
    return c.json(created, 201);
  })
  .openapi(routes.updateOrganization, async (c) => {
    return c.json(await changePlan(c.env, c.get("db"), c.req.valid("param").id, c.req.valid("json").plan), 200);
  });
