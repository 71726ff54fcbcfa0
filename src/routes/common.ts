import { z } from "@hono/zod-openapi";
import type { Context } from "hono";

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

/** What every DELETE answers (as Stripe does), so a client can tell which resource went without reading it back. */
export const DeletedSchema = z
  .object({
    id: z.string().openapi({ example: "task_3kT9xQ2mLw8Zr7BvYc1d" }),
    deleted: z.literal(true),
  })
  .openapi("Deleted");

/** RFC 7240 `Prefer`: `return=minimal` asks a DELETE for 204 without a body. */
export const PreferHeaders = z.object({
  prefer: z.string().optional().openapi({
    description: "`return=minimal` answers 204 with no body instead of 200 with `{id, deleted: true}` (RFC 7240)",
    example: "return=minimal",
  }),
});

/** The two answers of every DELETE: 200 with `Deleted`, or 204 under `Prefer: return=minimal`. */
export function deletedResponses(description: string) {
  return {
    200: {
      description: `${description}: the id and \`deleted: true\``,
      content: { "application/json": { schema: DeletedSchema } },
    },
    204: {
      description: `${description}; no body (the request sent \`Prefer: return=minimal\`)`,
      headers: {
        "Preference-Applied": { schema: { type: "string" as const }, description: "`return=minimal`" },
      },
    },
  };
}

/** Whether a `Prefer` header (comma-separated preferences, tokens case-insensitive; RFC 7240 §2) holds `return=minimal`. */
export function prefersMinimal(prefer: string | undefined): boolean {
  if (!prefer) return false;
  return prefer.split(",").some((preference) => {
    const [name, value] = (preference.split(";")[0] ?? "").split("=").map((part) => part.trim().toLowerCase());
    return name === "return" && value?.replace(/^"|"$/g, "") === "minimal";
  });
}

/** The answer of every DELETE once its write committed: 200 `{id, deleted: true}`, or 204 when the client prefers minimal. */
export function answerDeleted(c: Context, id: string) {
  if (prefersMinimal(c.req.header("prefer"))) {
    c.header("Preference-Applied", "return=minimal");
    return c.body(null, 204);
  }
  return c.json({ id, deleted: true as const }, 200);
}
