import { createRoute, z } from "@hono/zod-openapi";
import { EVENT_TYPES } from "../../events/catalog";
import { ACTOR_ID_PATTERN, EVENT_SORT_FIELDS, RESOURCE_TYPES } from "../../events/log";
import { authErrors, idParams, jsonResponse, needs, notFoundError } from "../../http/openapi";
import { listQuery, pageSchema } from "../../http/pagination";
import { IdRef } from "../common";
import { IsoInstant } from "../dates";
import { Timestamp } from "../schemas";

export const EventSchema = z
  .object({
    id: z.string().openapi({ example: "evt_5Tg7Yh9Uj1Ik3Ol5Pz7X" }),
    type: z.enum(EVENT_TYPES),
    resourceType: z.string().openapi({ example: "task" }),
    resourceId: z.string(),
    data: z
      .record(z.string(), z.unknown())
      .openapi({ description: "The full resource after the change (as it was, for deletions)" }),
    changes: z
      .record(z.string(), z.object({ from: z.unknown(), to: z.unknown() }))
      .optional()
      .openapi({ description: "For updates: each changed field's previous and new value" }),
    actor: z.object({
      userId: z.string().nullable(),
      apiKeyId: z.string().nullable(),
      incomingWebhookId: z.string().optional(),
    }),
    createdAt: Timestamp,
  })
  .openapi("Event");

const tags = ["Events"];

export const listEvents = createRoute({
  operationId: "listEvents",
  method: "get",
  path: "/",
  tags,
  summary: "The organization's event log (audit trail), newest first",
  ...needs("events:read"),
  request: {
    query: listQuery(EVENT_SORT_FIELDS, "createdAt", {
      type: z.enum(EVENT_TYPES).optional(),
      resourceType: z.enum(RESOURCE_TYPES).optional().openapi({ description: "Events about this kind of resource" }),
      resourceId: IdRef.optional(),
      actorId: IdRef.regex(ACTOR_ID_PATTERN, "a member (user_…), API key (key_…) or incoming webhook (iwh_…) id")
        .optional()
        .openapi({
          description:
            "Events done by this actor: a member id (`user_…`) matches `actor.userId` (what they did through any key acting for them), an API key id (`key_…`) `actor.apiKeyId`, an incoming-webhook id (`iwh_…`) `actor.incomingWebhookId`",
        }),
      since: IsoInstant.optional().openapi({ description: "Events at or after this instant" }),
    }),
  },
  responses: { 200: jsonResponse(pageSchema(EventSchema, "EventPage"), "A page of events"), ...authErrors },
});

export const getEvent = createRoute({
  operationId: "getEvent",
  method: "get",
  path: "/{id}",
  tags,
  summary: "Get an event",
  ...needs("events:read"),
  request: { params: idParams() },
  responses: { 200: jsonResponse(EventSchema, "The event"), ...authErrors, ...notFoundError },
});
