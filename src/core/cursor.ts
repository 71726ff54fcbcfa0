import { sha256Hex } from "./crypto";
import { AppError } from "./errors";
import type { PageRequest } from "./pagination";

/**
 * The opaque `cursor` of a list: base64url(JSON) "." checksum. It names the sort, the
 * order, a digest of the filters, and the last row's sort-key values ending with its
 * id (`after`). The checksum catches an edited or truncated cursor; it is not a
 * signature, and need not be: a cursor only says where to resume inside a list the
 * caller may read anyway (the organization always comes from the key).
 */

export type CursorValue = string | number;

const VERSION = 1;
const CHECKSUM_CHARS = 16;
const PAGE_FIELDS = new Set(["page", "limit", "cursor", "sortBy", "order"]);

interface CursorPayload {
  v: number;
  s: string;
  o: "asc" | "desc";
  f: string;
  a: CursorValue[];
}

export async function encodeCursor(request: PageRequest, after: CursorValue[]): Promise<string> {
  const payload: CursorPayload = {
    v: VERSION,
    s: request.sortBy,
    o: request.order,
    f: await filtersDigest(request),
    a: after,
  };
  const json = JSON.stringify(payload);
  return `${toBase64Url(json)}.${await checksum(json)}`;
}

/** The sort-key values to resume after; a 400 naming `cursor` unless it is intact and issued for this list. */
export async function decodeCursor(token: string, request: PageRequest, arity: number): Promise<CursorValue[]> {
  const payload = await readPayload(token, arity);
  if (payload.s !== request.sortBy || payload.o !== request.order) {
    throw cursorError(
      `This cursor continues sortBy=${payload.s}&order=${payload.o}; send those, or start again without cursor`,
    );
  }
  if (payload.f !== (await filtersDigest(request))) {
    throw cursorError("This cursor was issued for other filters; send the same filters, or start again without cursor");
  }
  return payload.a;
}

async function readPayload(token: string, arity: number): Promise<CursorPayload> {
  const [body, sum, extra] = token.split(".");
  const json = body === undefined || sum === undefined || extra !== undefined ? undefined : fromBase64Url(body);
  if (json === undefined || sum !== (await checksum(json))) throw malformed();
  let payload: unknown;
  try {
    payload = JSON.parse(json);
  } catch {
    throw malformed();
  }
  if (!isPayload(payload, arity)) throw malformed();
  return payload;
}

function isPayload(p: unknown, arity: number): p is CursorPayload {
  if (typeof p !== "object" || p === null) return false;
  const { v, s, o, f, a } = p as Record<string, unknown>;
  return (
    v === VERSION &&
    typeof s === "string" &&
    (o === "asc" || o === "desc") &&
    typeof f === "string" &&
    Array.isArray(a) &&
    a.length === arity &&
    a.every((x) => typeof x === "string" || (typeof x === "number" && Number.isFinite(x)))
  );
}

/** The filters of the request (everything but the paging and sorting fields), order-independent. */
async function filtersDigest(request: PageRequest): Promise<string> {
  const filters = Object.entries(request)
    .filter(([name, value]) => !PAGE_FIELDS.has(name) && value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return (await sha256Hex(JSON.stringify(filters))).slice(0, CHECKSUM_CHARS);
}

async function checksum(json: string): Promise<string> {
  return (await sha256Hex(`verk-cursor\n${json}`)).slice(0, CHECKSUM_CHARS);
}

const malformed = () =>
  cursorError("Malformed or altered cursor; send a nextCursor unchanged, or start again without cursor");
const cursorError = (message: string) => new AppError("VALIDATION_ERROR", message, { field: "cursor" });

function toBase64Url(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
