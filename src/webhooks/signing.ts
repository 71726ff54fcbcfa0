import { toHex } from "../core/crypto";
import { boundedMemo } from "../core/memo";
import { bytesToBase64, standardWebhooksKey } from "./secrets";
import type { Signer } from "./signing-keys";

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
  /** For a webhook with a public-key scheme: the organization's active key, then the previous one during an overlap. */
  signers?: Signer[];
}

async function signWith(signer: Signer, message: string): Promise<string> {
  const algorithm = signer.algorithm === "ed25519" ? "Ed25519" : "RSASSA-PKCS1-v1_5";
  return bytesToBase64(new Uint8Array(await crypto.subtle.sign(algorithm, signer.key, encoder.encode(message))));
}

/**
 * The public-key signatures of one attempt, beside the HMAC ones (README "Signatures"):
 * - Ed25519: one Standard Webhooks `v1a,<base64>` entry per live key (active first),
 *   over `id.timestamp.body`, appended to `webhook-signature`.
 * - RSA: `X-Verk-Signature-RSA`, base64 RSASSA-PKCS1-v1_5 SHA-256 over the raw body.
 *   During an overlap it stays with the key that was active before the rotation, so a
 *   receiver that pinned that key keeps verifying the one header it reads, and
 *   `X-Verk-Signature-RSA-Next` carries the new key's; afterwards the new key signs
 *   `X-Verk-Signature-RSA` alone.
 * `X-Verk-Signature-Key-Id` names the keys, in the order of those signatures.
 */
async function publicKeySignatures(input: SigningInput, standard: string[]): Promise<Record<string, string>> {
  const signers = input.signers ?? [];
  if (signers.length === 0) return {};
  if (signers[0]!.algorithm === "ed25519") {
    const content = `${input.id}.${input.timestamp}.${input.body}`;
    const entries = await Promise.all(signers.map(async (signer) => `v1a,${await signWith(signer, content)}`));
    return {
      "webhook-signature": [...standard, ...entries].join(" "),
      "X-Verk-Signature-Key-Id": signers.map((signer) => signer.id).join(" "),
    };
  }
  const active = signers.find((signer) => signer.active) ?? signers[0]!;
  const previous = signers.find((signer) => !signer.active);
  const [main, next] = await Promise.all([
    signWith(previous ?? active, input.body),
    previous ? signWith(active, input.body) : undefined,
  ]);
  return {
    "X-Verk-Signature-RSA": main,
    ...(next === undefined ? {} : { "X-Verk-Signature-RSA-Next": next }),
    "X-Verk-Signature-Key-Id": previous ? `${previous.id} ${active.id}` : active.id,
  };
}

/**
 * The signature headers of one attempt. `X-Verk-Signature` uses the current secret;
 * `webhook-signature` carries one `v1,` signature per live secret, space separated,
 * so a receiver holding either secret verifies during a rotation; then the public-key
 * signatures of the webhook's scheme, if any.
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
    ...(await publicKeySignatures(input, standard)),
  };
}
