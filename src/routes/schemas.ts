import { z } from "@hono/zod-openapi";

/** Shapes shared by several resources. */

/** A timestamp the API answers with (always UTC). Inputs use `IsoInstant` (routes/dates.ts), which normalises offsets. */
export const Timestamp = z.iso.datetime({ offset: true }).openapi({ example: "2026-01-15T14:30:00.000Z" });
export const Name = z.string().trim().min(1).max(200);
export const Email = z.email().max(320);
