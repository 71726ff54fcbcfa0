import { AppError } from "./errors";

/**
 * HTTP conditional requests over the `etag` column every mutable row carries (a
 * random token replaced on each write). GET answers `ETag`; `If-None-Match` turns
 * an unchanged GET into 304; `If-Match` makes PATCH/DELETE apply only to the
 * version the client saw (412 otherwise).
 */

export function quoteEtag(etag: string): string {
  return `"${etag}"`;
}

interface EntityTag {
  opaque: string;
  weak: boolean;
}

/** The entity tags of an `If-Match`/`If-None-Match` value: `"a", W/"b"` → a, weak b; `*` stays `*`. */
function parseEtagList(header: string): EntityTag[] {
  return header
    .split(",")
    .map((part) => {
      const trimmed = part.trim();
      const weak = trimmed.startsWith("W/");
      return { weak, opaque: (weak ? trimmed.slice(2) : trimmed).replace(/^"(.*)"$/, "$1") };
    })
    .filter((tag) => tag.opaque.length > 0);
}

/**
 * Whether a conditional header's value names the current ETag (`*` names any).
 * `If-None-Match` compares weakly (a `W/` tag matches); `If-Match` strongly, so a weak
 * tag never matches (RFC 9110 §13.1.1, §8.8.3.2).
 */
export function etagListMatches(header: string, current: string, comparison: "weak" | "strong" = "weak"): boolean {
  return parseEtagList(header).some(
    (tag) => tag.opaque === "*" || (tag.opaque === current && (comparison === "weak" || !tag.weak)),
  );
}

/** 412 unless the resource is still at a version `If-Match` names (no header: no condition). */
export function assertIfMatch(ifMatch: string | undefined, current: string): void {
  if (ifMatch === undefined) return;
  if (!etagListMatches(ifMatch, current, "strong")) {
    throw new AppError("PRECONDITION_FAILED", "The resource changed since the ETag in If-Match; fetch it again", {
      field: "If-Match",
    });
  }
}
