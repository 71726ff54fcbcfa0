import { WebhookVerificationError } from "./errors";
import type { webhooks } from "./schema";
import { webCrypto } from "./web-crypto";

type Delivered<W> =
  NonNullable<W> extends { post: { requestBody?: { content: { "application/json": infer B } } } } ? B : never;

/** What Verk POSTs to a webhook URL (README "Webhooks (outgoing)"): the bodies of the document's `webhooks`. */
export type WebhookEvent = { [K in keyof webhooks]: Delivered<webhooks[K]> }[keyof webhooks];

/** Node's `req.headers`, a Fetch `Headers`, or any plain object of header names to values. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyWebhookOptions {
  /** How far `webhook-timestamp` may be from now, in seconds (default 300, as Standard Webhooks). */
  toleranceSeconds?: number;
  /** The clock, in milliseconds (tests set it). */
  now?: number;
}

const encoder = new TextEncoder();
/** A `whsec_` secret whose rest is valid base64 (as src/webhooks/secrets.ts reads it). */
const STANDARD_SECRET = /^whsec_((?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)$/;

/**
 * Checks that a request is a delivery from Verk signed with `secret` and returns its
 * event. Pass the raw body, exactly as received, before any JSON parsing.
 *
 * With the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature`, which every delivery carries), the timestamp must be within the
 * tolerance and one of the space-separated `v1,` signatures must match: during a
 * secret rotation there are two, so either secret verifies. Without them,
 * `X-Verk-Signature` (`sha256=<hex>`, no timestamp) must match. Several secrets may be
 * given (e.g. the old and the new one while you roll a rotation out). Every comparison
 * takes the same time whatever the bytes. Throws `WebhookVerificationError` otherwise.
 */
export async function verifyWebhook(
  rawBody: string | Uint8Array | ArrayBuffer,
  headers: WebhookHeaders,
  secret: string | readonly string[],
  options: VerifyWebhookOptions = {},
): Promise<WebhookEvent> {
  const body = bodyText(rawBody);
  const secrets = typeof secret === "string" ? [secret] : [...secret];
  if (secrets.length === 0 || secrets.some((s) => s === "")) {
    throw new WebhookVerificationError("MISSING_SIGNATURE", "No webhook secret to verify with");
  }
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const standard = header(headers, "webhook-signature");
  const verk = header(headers, "x-verk-signature");

  if (id !== undefined && timestamp !== undefined && standard !== undefined) {
    checkTimestamp(timestamp, options);
    const given = standard.split(" ").filter((s) => s.startsWith("v1,"));
    const expected = await Promise.all(secrets.map((s) => standardSignature(s, id, timestamp, body)));
    if (!anyMatch(given, expected)) {
      throw new WebhookVerificationError("INVALID_SIGNATURE", "No webhook-signature matches the secret");
    }
  } else if (verk !== undefined) {
    const expected = await Promise.all(secrets.map((s) => verkSignature(s, body)));
    if (!anyMatch([verk.trim()], expected)) {
      throw new WebhookVerificationError("INVALID_SIGNATURE", "X-Verk-Signature does not match the secret");
    }
  } else {
    throw new WebhookVerificationError(
      "MISSING_SIGNATURE",
      "Neither webhook-signature nor X-Verk-Signature is present",
    );
  }

  return parseEvent(body);
}

/** The raw body as the text that was signed. */
export function bodyText(rawBody: string | Uint8Array | ArrayBuffer): string {
  return typeof rawBody === "string" ? rawBody : new TextDecoder().decode(rawBody);
}

/** Throws unless `webhook-timestamp` is unix seconds within the tolerance of now. */
export function checkTimestamp(timestamp: string, options: VerifyWebhookOptions): void {
  if (!/^\d{1,12}$/.test(timestamp)) {
    throw new WebhookVerificationError("INVALID_TIMESTAMP", "webhook-timestamp is not unix seconds");
  }
  const skew = Math.abs((options.now ?? Date.now()) / 1000 - Number(timestamp));
  if (skew > (options.toleranceSeconds ?? 300)) {
    throw new WebhookVerificationError("TIMESTAMP_OUT_OF_TOLERANCE", "webhook-timestamp is too old or too new");
  }
}

/** A verified body's event. */
export function parseEvent(body: string): WebhookEvent {
  try {
    return JSON.parse(body) as WebhookEvent;
  } catch {
    throw new WebhookVerificationError("INVALID_PAYLOAD", "The body is not JSON");
  }
}

/** One header's value, from any of the shapes WebhookHeaders allows; repeated values joined as Node joins them. */
export function header(headers: WebhookHeaders, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    return Array.isArray(value) ? value.join(", ") : value;
  }
  return undefined;
}

async function hmac(key: Uint8Array, message: string): Promise<Uint8Array> {
  const { subtle } = await webCrypto();
  const cryptoKey = await subtle.importKey("raw", key as BufferSource, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return new Uint8Array(await subtle.sign("HMAC", cryptoKey, encoder.encode(message)));
}

/** `sha256=` + hex HMAC-SHA256 of the body, keyed with the secret's UTF-8 bytes. */
async function verkSignature(secret: string, body: string): Promise<string> {
  const mac = await hmac(encoder.encode(secret), body);
  return `sha256=${Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`; a `whsec_<base64>` secret keys with its decoded bytes. */
async function standardSignature(secret: string, id: string, timestamp: string, body: string): Promise<string> {
  const match = secret.match(STANDARD_SECRET);
  const key = match ? base64ToBytes(match[1] as string) : encoder.encode(secret);
  const mac = await hmac(key, `${id}.${timestamp}.${body}`);
  let binary = "";
  for (const b of mac) binary += String.fromCharCode(b);
  return `v1,${btoa(binary)}`;
}

function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** Whether any given signature equals any expected one; each comparison runs over every byte. */
function anyMatch(given: string[], expected: string[]): boolean {
  let found = false;
  for (const g of given) for (const e of expected) found = constantTimeEqual(g, e) || found;
  return found;
}

function constantTimeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i += 1) diff |= (x[i] as number) ^ (y[i % y.length] ?? 0);
  return diff === 0;
}
