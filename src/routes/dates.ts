import { z } from "@hono/zod-openapi";

const isDate = (s: string) => z.iso.date().safeParse(s).success;
const isDateTime = (s: string) => z.iso.datetime({ offset: true }).safeParse(s).success;

/** An ISO 8601 date or date-time with offset, turned into UTC text by `toUtc` (so that text order is time order). */
function instant(toUtc: (s: string) => string, description: string) {
  return (
    z
      .string()
      .max(40)
      .refine((s) => isDate(s) || isDateTime(s), {
        message: "must be an ISO 8601 date (2024-12-31) or date-time with offset (2024-12-31T23:59:59Z)",
      })
      .transform(toUtc)
      // An offset can push 9999-12-31 or 0000-01-01 out of four-digit years, where text order is not time order.
      .refine((iso) => /^\d{4}-/.test(iso), { message: "must fall within the years 0000 to 9999 in UTC" })
      .openapi({ example: "2024-12-31T23:59:59Z", description })
  );
}

/**
 * An instant given as an ISO 8601 date (`2024-12-31`, midnight UTC) or date-time
 * with offset (`2024-12-31T23:59:59Z`, `…+02:00`), stored and compared as UTC
 * `toISOString()` text so that text order is time order.
 */
export const IsoInstant = instant((s) => new Date(s).toISOString(), "ISO 8601 date or date-time; stored as UTC");

/**
 * An exclusive upper bound (`…Before` filters): a bare date covers that whole UTC day,
 * i.e. means the end of the day, written with ISO 8601's `24:00` (`2024-01-31T24:00:00.000Z`):
 * as text it sorts after every instant of that day and before the next day's, and it
 * needs no fifth year digit on 9999-12-31. A date-time stays exact.
 */
export const IsoUpperBound = instant(
  (s) => (isDate(s) ? `${s}T24:00:00.000Z` : new Date(s).toISOString()),
  "ISO 8601 date (the whole UTC day is included) or date-time (exact)",
);
