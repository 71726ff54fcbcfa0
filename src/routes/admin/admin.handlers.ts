import { createMiddleware } from "hono/factory";
import { configFrom } from "../../config";
import { timingSafeEqual } from "../../core/crypto";
import { AppError } from "../../core/errors";
import { bearerToken, clientIp, failAuthentication, isPreflight, refuseThrottledIp } from "../../http/auth";
import type { AppEnv } from "../../http/context";
import { answerOnce, idempotency } from "../../http/idempotency";
import { jsonBodyGuard } from "../../http/json-body";
import { createRouter } from "../../http/openapi";
import { operatorContext } from "../../http/write-context";
import { type CreatedOrganization, changePlan, createOrganization } from "../../identity/organizations";
import * as routes from "./admin.routes";

/** Shorter operator tokens are a configuration error: they could be guessed. */
export const MIN_ADMIN_TOKEN_LENGTH = 32;

/**
 * Operator endpoints answer only to `Authorization: Bearer <ADMIN_TOKEN>`. A throttled
 * address gets 429 before its token is compared, so the answer never tells a guesser
 * that a guess was right.
 */
const requireAdminToken = createMiddleware<AppEnv>(async (c, next) => {
  if (isPreflight(c.req.method)) return next();
  const expected = configFrom(c.env).adminToken;
  if (!expected || expected.length < MIN_ADMIN_TOKEN_LENGTH) {
    console.error(
      JSON.stringify({
        level: "error",
        msg: `ADMIN_TOKEN is ${expected ? "shorter than" : "not set; it needs"} ${MIN_ADMIN_TOKEN_LENGTH} characters: operator endpoints are disabled`,
      }),
    );
    throw new AppError(
      "FORBIDDEN",
      `Operator endpoints are disabled: the deployment's ADMIN_TOKEN must be set to at least ${MIN_ADMIN_TOKEN_LENGTH} characters`,
    );
  }
  const ip = clientIp(c.req);
  await refuseThrottledIp(c.env, ip);
  const given = bearerToken(c.req.header("Authorization"));
  if (!given || !timingSafeEqual(given, expected)) return failAuthentication(c.env, ip, "Invalid operator token");
  await next();
});

export const adminRouter = createRouter();
adminRouter.use("*", requireAdminToken, jsonBodyGuard, idempotency);
adminRouter
  .openapi(routes.createOrganization, async (c) => {
    const answer = answerOnce(c, (created: CreatedOrganization) => ({
      status: 201,
      body: created,
      location: `/v1/admin/organizations/${created.organization.id}`,
      secretPaths: ["apiKey.key"],
    }));
    return answer.send(await createOrganization(operatorContext(c, answer), c.req.valid("json")));
  })
  .openapi(routes.updateOrganization, async (c) => {
    const w = { ...operatorContext(c), orgId: c.req.valid("param").id };
    return c.json(await changePlan(w, c.req.valid("json")), 200);
  });
