import { z } from "@hono/zod-openapi";

/** A resource id given in a body or a query filter (ids are `prefix_` + 20 base62; bounded to stay cheap). */
export const IdRef = z.string().min(1).max(64);

/** Documents the conditional and retry headers; the middleware and handlers enforce them. */
export const IfMatchHeaders = z.object({
  "if-match": z.string().optional().openapi({
    description: "Apply only if the resource still has this ETag; else 412",
    example: '"3kT9xQ2mLw8Zr7Bv"',
  }),
});

export const IfNoneMatchHeaders = z.object({
  "if-none-match": z
    .string()
    .optional()
    .openapi({ description: "Answer 304 without a body if the resource still has this ETag" }),
});

export const IdempotencyHeaders = z.object({
  "idempotency-key": z.string().optional().openapi({
    description:
      "1–255 characters. A retry with the same key and body within 24 h replays the first successful response (header Idempotent-Replayed: true) without doing anything twice; the same key with another body is a 409.",
    example: "2f1c9a7e-5b1d-4c57-9d0b-8f8b3c0a6e21",
  }),
});

/** `true` / `false` in a query string, as a boolean filter. */
export const BooleanQueryParam = z
  .enum(["true", "false"])
  .transform((v) => v === "true")
  .optional();

/** The `ETag` response header of single-resource reads and writes. */
export const etagHeader = {
  ETag: { schema: { type: "string" as const }, description: "The version of this resource" },
};

export const notModifiedResponse = {
  304: { description: "Not modified: If-None-Match names the current ETag", headers: etagHeader },
};
