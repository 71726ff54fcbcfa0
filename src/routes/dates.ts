import { z } from "@hono/zod-openapi";

const isDate = (s: string) => z.iso.date().safeParse(s).success;
const isDateTime = (s: string) => z.iso.datetime({ offset: true }).safeParse(s).success;

/**
 * An instant given as an ISO 8601 date (`2024-12-31`, midnight UTC) or date-time
 * with offset (`2024-12-31T23:59:59Z`, `…+02:00`), stored and compared as UTC
 * `toISOString()` text so that text order is time order.
 */
export const IsoInstant = z
  .string()
  .max(40)
  .refine((s) => isDate(s) || isDateTime(s), {
    message: "must be an ISO 8601 date (2024-12-31) or date-time with offset (2024-12-31T23:59:59Z)",
  })
  .transform((s) => new Date(s).toISOString())
  .openapi({ example: "2024-12-31T23:59:59Z", description: "ISO 8601 date or date-time; stored as UTC" });
