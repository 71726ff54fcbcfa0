import { WebhookVerificationError } from "./errors";
import type { components } from "./schema";
import {
  bodyText,
  checkTimestamp,
  header,
  parseEvent,
  type VerifyWebhookOptions,
  type WebhookEvent,
  type WebhookHeaders,
} from "./verify-webhook";
import { webCrypto } from "./web-crypto";

/**
 * A published signing key (`GET /v1/webhooks/signing-keys`, `client.webhooks.signingKeys()`):
 * its algorithm and its `jwk` or `pem`. The whole published object will do.
 */
export type WebhookPublicKey = Pick<components["schemas"]["SigningKey"], "algorithm"> &
  ({ jwk: Record<string, unknown>; pem?: string } | { pem: string; jwk?: Record<string, unknown> });

const encoder = new TextEncoder();

/**
 * Checks that a request is a delivery from Verk signed by one of `keys`, the
 * organization's published public keys, and returns its event; for webhooks whose
 * `signatureScheme` is `ed25519` or `rsa-sha256` (README "Public-key signatures"). Pass
 * the raw body, exactly as received.
 *
 * - Ed25519: a `v1a,` entry of `webhook-signature` must verify over
 *   `webhook-id.webhook-timestamp.body`, with the timestamp within the tolerance.
 * - RSA: `X-Verk-Signature-RSA` (or, during a key rotation, `X-Verk-Signature-RSA-Next`)
 *   must verify over the body. It covers no timestamp: deduplicate on `webhook-id`.
 *
 * Pass every published key (both during a rotation's overlap). Throws
 * `WebhookVerificationError` otherwise.
 */
export async function verifyWebhookPublicKey(
  rawBody: string | Uint8Array | ArrayBuffer,
  headers: WebhookHeaders,
  keys: WebhookPublicKey | readonly WebhookPublicKey[],
  options: VerifyWebhookOptions = {},
): Promise<WebhookEvent> {
  const body = bodyText(rawBody);
  const all = Array.isArray(keys) ? [...keys] : [keys as WebhookPublicKey];
  const ed25519 = all.filter((key) => key.algorithm === "ed25519");
  const rsa = all.filter((key) => key.algorithm === "rsa-sha256");
  if (all.length === 0) throw new WebhookVerificationError("MISSING_SIGNATURE", "No public key to verify with");

  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const entries = (header(headers, "webhook-signature") ?? "")
    .split(" ")
    .filter((entry) => entry.startsWith("v1a,"))
    .map((entry) => entry.slice(4));
  const rsaSignatures = [header(headers, "x-verk-signature-rsa"), header(headers, "x-verk-signature-rsa-next")].filter(
    (value): value is string => value !== undefined,
  );
  const edUsable = ed25519.length > 0 && entries.length > 0 && id !== undefined && timestamp !== undefined;
  const rsaUsable = rsa.length > 0 && rsaSignatures.length > 0;
  if (!edUsable && !rsaUsable) {
    throw new WebhookVerificationError(
      "MISSING_SIGNATURE",
      "No v1a webhook-signature nor X-Verk-Signature-RSA for the keys given",
    );
  }

  let verified = false;
  if (edUsable) {
    checkTimestamp(timestamp, options);
    verified = await anyVerifies(ed25519, entries, `${id}.${timestamp}.${body}`);
  }
  if (!verified && rsaUsable) verified = await anyVerifies(rsa, rsaSignatures, body);
  if (!verified) {
    throw new WebhookVerificationError("INVALID_SIGNATURE", "No signature verifies with the public keys given");
  }
  return parseEvent(body);
}

async function anyVerifies(keys: WebhookPublicKey[], signatures: string[], message: string): Promise<boolean> {
  const { subtle } = await webCrypto();
  const data = encoder.encode(message);
  for (const key of keys) {
    const algorithm =
      key.algorithm === "ed25519" ? { name: "Ed25519" } : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
    const imported = key.jwk
      ? await subtle.importKey("jwk", publicMembers(key.jwk), algorithm, false, ["verify"])
      : await subtle.importKey("spki", spkiOf(key.pem as string) as BufferSource, algorithm, false, ["verify"]);
    for (const signature of signatures) {
      const bytes = base64ToBytes(signature);
      if (bytes && (await subtle.verify(algorithm, imported, bytes as BufferSource, data))) return true;
    }
  }
  return false;
}

/** The JWK without `alg`/`use`/`kid`, which some WebCrypto implementations check against the import algorithm. */
function publicMembers(jwk: Record<string, unknown>): JsonWebKey {
  const { kty, crv, x, n, e } = jwk as unknown as JsonWebKey;
  return kty === "OKP" ? { kty, crv, x } : { kty, n, e };
}

function spkiOf(pem: string): Uint8Array {
  const base64 = pem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s+/g, "");
  return base64ToBytes(base64) ?? new Uint8Array();
}

function base64ToBytes(text: string): Uint8Array | undefined {
  try {
    return Uint8Array.from(atob(text.trim()), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}
