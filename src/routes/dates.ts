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
  // An offset can push 9999-12-31 or 0000-01-01 out of four-digit years, where text order is not time order.
  .refine((iso) => /^\d{4}-/.test(iso), { message: "must fall within the years 0000 to 9999 in UTC" })
  .openapi({ example: "2024-12-31T23:59:59Z", description: "ISO 8601 date or date-time; stored as UTC" });
