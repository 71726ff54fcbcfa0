/**
 * Webhook signing secrets: generated as Standard Webhooks secrets (`whsec_` + base64
 * of 32 random bytes) or given by the customer, and stored only encrypted with
 * AES-GCM under the Worker secret `WEBHOOK_ENCRYPTION_KEY`.
 */

export const SECRET_PREFIX = "whsec_";

/** A customer's own secret: 16–256 visible ASCII characters (identical as UTF-8 and as Latin-1 bytes). */
export const GIVEN_SECRET_PATTERN = /^[\x21-\x7e]{16,256}$/;

/** `whsec_<standard base64>`, the form Standard Webhooks libraries decode to key bytes. */
const STANDARD_SECRET_PATTERN = /^whsec_((?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)$/;

export function generateSecret(): string {
  return SECRET_PREFIX + bytesToBase64(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * The HMAC key for the Standard Webhooks `webhook-signature`: a `whsec_<base64>`
 * secret (every generated one) signs with its decoded bytes, exactly as
 * `new Webhook(secret)` verifies; any other secret signs with its own bytes, as
 * `new Webhook(secret, { format: "raw" })` verifies.
 */
export function standardWebhooksKey(secret: string): Uint8Array {
  const match = secret.match(STANDARD_SECRET_PATTERN);
  if (match) return base64ToBytes(match[1]!);
  return new TextEncoder().encode(secret);
}

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Thrown when WEBHOOK_ENCRYPTION_KEY is missing or not base64 of 32 bytes: a deployment error. */
export class EncryptionKeyError extends Error {
  constructor() {
    super(
      "WEBHOOK_ENCRYPTION_KEY must be set to base64 of 32 random bytes (wrangler secret put WEBHOOK_ENCRYPTION_KEY)",
    );
    this.name = "EncryptionKeyError";
  }
}

const importedKeys = new Map<string, Promise<CryptoKey>>();

function encryptionKey(keyBase64: string | undefined): Promise<CryptoKey> {
  if (!keyBase64) throw new EncryptionKeyError();
  let key = importedKeys.get(keyBase64);
  if (!key) {
    let raw: Uint8Array;
    try {
      raw = base64ToBytes(keyBase64.trim());
    } catch {
      throw new EncryptionKeyError();
    }
    if (raw.byteLength !== 32) throw new EncryptionKeyError();
    key = crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
    importedKeys.set(keyBase64, key);
  }
  return key;
}

/** AES-256-GCM with a random 96-bit IV; stored as `base64(iv).base64(ciphertext+tag)`. */
export async function encryptSecret(keyBase64: string | undefined, secret: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv },
    await encryptionKey(keyBase64),
    new TextEncoder().encode(secret),
  );
  return `${bytesToBase64(iv)}.${bytesToBase64(new Uint8Array(ciphertext))}`;
}

export async function decryptSecret(keyBase64: string | undefined, stored: string): Promise<string> {
  const [iv, ciphertext] = stored.split(".");
  if (!iv || !ciphertext) throw new Error("Stored webhook secret is not in iv.ciphertext form");
  const plaintext = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: base64ToBytes(iv) },
    await encryptionKey(keyBase64),
    base64ToBytes(ciphertext),
  );
  return new TextDecoder().decode(plaintext);
}
