import type { Context } from "hono";
import { ApiError } from "./errors";

/**
 * HTTP conditional requests over the `etag` column every mutable row carries (a
 * random token replaced on each write). GET answers `ETag`; `If-None-Match` turns
 * an unchanged GET into 304; `If-Match` makes PATCH/DELETE apply only to the
 * version the client saw (412 otherwise).
 */

export function quoteEtag(etag: string): string {
  return `"${etag}"`;
}

/** The entity tags of an `If-Match`/`If-None-Match` value: `"a", W/"b"` → a, b; `*` stays `*`. */
function parseEtagList(header: string): string[] {
  return header
    .split(",")
    .map((part) =>
      part
        .trim()
        .replace(/^W\//, "")
        .replace(/^"(.*)"$/, "$1"),
    )
    .filter((tag) => tag.length > 0);
}

/** Whether a conditional header's value names the current ETag (`*` names any). */
export function etagListMatches(header: string, current: string): boolean {
  const tags = parseEtagList(header);
  return tags.includes("*") || tags.includes(current);
}

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

/** 412 unless the resource is still at a version `If-Match` names (no header: no condition). */
export function assertIfMatch(ifMatch: string | undefined, current: string): void {
  if (ifMatch === undefined) return;
  if (!etagListMatches(ifMatch, current)) {
    throw new ApiError("PRECONDITION_FAILED", "The resource changed since the ETag in If-Match; fetch it again", {
      field: "If-Match",
    });
  }
}
