import type { Context } from "hono";
import { etagListMatches, quoteEtag } from "../core/versions";

export function setEtag(c: Context, etag: string): void {
  c.header("ETag", quoteEtag(etag));
}

/** Sets `ETag` and says whether the client's `If-None-Match` already has this version (answer 304). */
export function notModified(c: Context, etag: string): boolean {
  setEtag(c, etag);
  const header = c.req.header("If-None-Match");
  return header !== undefined && etagListMatches(header, etag);
}

/** The raw `If-Match` header, handed to the domain's write. */
export function ifMatchOf(c: Context): string | undefined {
  return c.req.header("If-Match");
}
