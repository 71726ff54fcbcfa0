import { toHex } from "../core/crypto";
import { boundedMemo } from "../core/memo";
import { bytesToBase64, standardWebhooksKey } from "./secrets";

const encoder = new TextEncoder();

async function hmacSha256(key: CryptoKey, message: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
}

/** Imported HMAC keys by scheme and secret: every delivery of a webhook signs with the same ones. */
const hmacKeys = boundedMemo<Promise<CryptoKey>>(2_000);

function hmacKey(scheme: "verk" | "standard", secret: string): Promise<CryptoKey> {
  return hmacKeys.get(`${scheme}\n${secret}`, () =>
    crypto.subtle.importKey(
      "raw",
      scheme === "verk" ? encoder.encode(secret) : standardWebhooksKey(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    ),
  );
}

/** `sha256=<hex HMAC-SHA256 of the raw body>`, keyed with the secret's UTF-8 bytes: what receivers' verification snippets in the README compute. */
export async function verkSignature(secret: string, body: string): Promise<string> {
  return `sha256=${toHex(await hmacSha256(await hmacKey("verk", secret), body))}`;
}

/** Standard Webhooks `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`. */
export async function standardSignature(secret: string, id: string, timestamp: number, body: string): Promise<string> {
  return `v1,${bytesToBase64(await hmacSha256(await hmacKey("standard", secret), `${id}.${timestamp}.${body}`))}`;
}

export interface SigningInput {
  /** The delivery id: `webhook-id`, stable across retries. */
  id: string;
  /** Unix seconds of this attempt. */
  timestamp: number;
  body: string;
  /** The current secret, then the previous one while a rotation's grace period lasts. */
  secrets: [string, ...string[]];
}

/**
 * The signature headers of one attempt. `X-Verk-Signature` uses the current secret;
 * `webhook-signature` carries one `v1,` signature per live secret, space separated,
 * so a receiver holding either secret verifies during a rotation.
 */
export async function signatureHeaders(input: SigningInput): Promise<Record<string, string>> {
  const standard = await Promise.all(
    input.secrets.map((secret) => standardSignature(secret, input.id, input.timestamp, input.body)),
  );
  return {
    "X-Verk-Signature": await verkSignature(input.secrets[0], input.body),
    "webhook-id": input.id,
    "webhook-timestamp": String(input.timestamp),
    "webhook-signature": standard.join(" "),
  };
}
