import { createRoute, z } from "@hono/zod-openapi";
import { authErrors, jsonResponse, needs, notFoundError, pathId } from "../../http/openapi";
import { STATS_HOURS } from "../../webhooks/stats";
import { Timestamp } from "../schemas";

const HourBucketSchema = z
  .object({
    hour: Timestamp.openapi({ description: "The clock hour's start (UTC)", example: "2026-12-02T13:00:00.000Z" }),
    succeeded: z.number().int().openapi({ description: "Deliveries created in this hour that succeeded" }),
    failed: z.number().int().openapi({ description: "Deliveries created in this hour that failed" }),
    pending: z.number().int().openapi({ description: "Deliveries created in this hour still pending" }),
    attempts: z.number().int().openapi({ description: "Attempts made in this hour (first tries and retries)" }),
    p50ResponseTimeMs: z.number().int().nullable().openapi({
      description:
        "Median response time of this hour's attempts that were timed; for an even count, the lower of the two middle values. Null when there were none.",
      example: 182,
    }),
  })
  .openapi("WebhookStatsHour");

export const WebhookStatsSchema = z
  .object({
    webhookId: z.string(),
    hours: z.number().int(),
    from: Timestamp.openapi({ description: "The first bucket's start" }),
    buckets: z
      .array(HourBucketSchema)
      .openapi({ description: "One per clock hour, oldest first, the current one last" }),
  })
  .openapi("WebhookStats");

export const getWebhookStats = createRoute({
  operationId: "getWebhookStats",
  method: "get",
  path: "/{id}/stats",
  tags: ["Webhooks"],
  summary: "Deliveries and median response time per hour (admin)",
  description:
    "The last `hours` clock hours, the current one included: deliveries by outcome (counted in the hour they were created) and the attempts made in each hour with their p50 response time.",
  ...needs("webhooks:read"),
  request: {
    params: z.object({ id: pathId("id") }),
    query: z.strictObject({
      hours: z.coerce
        .number()
        .int()
        .min(STATS_HOURS.min)
        .max(STATS_HOURS.max)
        .default(STATS_HOURS.default)
        .openapi({ description: "How many hours back, 1–168", example: 24 }),
    }),
  },
  responses: { 200: jsonResponse(WebhookStatsSchema, "Per-hour statistics"), ...authErrors, ...notFoundError },
});
