import { boundedMemo } from "../core/memo";
import type { Env } from "../env";

/**
 * Webhook signing secrets: generated as Standard Webhooks secrets (`whsec_` + base64
 * of 32 random bytes) or given by the customer, and stored only encrypted with
 * AES-GCM under the Worker secret `WEBHOOK_ENCRYPTION_KEY`, each ciphertext bound to
 * its webhook and column and naming the key that encrypted it. Rotating the key:
 * set WEBHOOK_ENCRYPTION_KEY_PREVIOUS to the old key and WEBHOOK_ENCRYPTION_KEY to a
 * new one; the cron re-encrypts every secret under the new key
 * (`reencryptWebhookSecrets` in reencrypt.ts), after which the previous key can go.
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

/** The Worker secrets that encrypt webhook secrets: the current key and, during a key rotation, the one before. */
export type WebhookKeys = Pick<Env, "WEBHOOK_ENCRYPTION_KEY" | "WEBHOOK_ENCRYPTION_KEY_PREVIOUS">;

/** Which of a webhook's two secret columns a ciphertext belongs to: `secret_ciphertext` or `previous_secret_ciphertext`. */
export type SecretSlot = "current" | "previous";

/**
 * The row (and column) a ciphertext is bound to; it decrypts only there: a webhook's
 * secret column, or an organization signing key's private half (signing-keys.ts).
 */
export type SecretBinding = { webhookId: string; slot: SecretSlot } | { signingKeyId: string };

function bindingName(binding: SecretBinding): string {
  return "signingKeyId" in binding
    ? `private half of signing key ${binding.signingKeyId}`
    : `${binding.slot} signing secret of webhook ${binding.webhookId}`;
}

/** Thrown when an encryption key is missing, not base64 of 32 bytes, or unusable: a deployment error. */
export class EncryptionKeyError extends Error {
  constructor(variable = "WEBHOOK_ENCRYPTION_KEY", problem = "must be set to base64 of 32 random bytes") {
    super(`${variable} ${problem} (wrangler secret put ${variable})`);
    this.name = "EncryptionKeyError";
  }
}

/**
 * A stored secret that cannot be decrypted for the row and slot it was read from:
 * not in the stored form, encrypted under a key that is configured no more, or
 * failing authentication (copied from another row or slot, or altered). The message
 * names the webhook and slot, never the ciphertext or a secret.
 */
export class UnreadableSecretError extends Error {
  constructor(
    readonly binding: SecretBinding,
    reason: string,
  ) {
    super(`The ${bindingName(binding)} cannot be decrypted: ${reason}`);
    this.name = "UnreadableSecretError";
  }
}

/** An imported AES-256 key and its id, the first 8 hex digits of SHA-256 of its bytes, as `k<hex8>`. */
interface DataKey {
  id: string;
  key: CryptoKey;
  base64: string;
}

const importedKeys = new Map<string, Promise<DataKey>>();

function dataKey(variable: string, keyBase64: string | undefined): Promise<DataKey> {
  if (!keyBase64) throw new EncryptionKeyError(variable);
  let loaded = importedKeys.get(keyBase64);
  if (!loaded) {
    let raw: Uint8Array;
    try {
      raw = base64ToBytes(keyBase64.trim());
    } catch {
      throw new EncryptionKeyError(variable);
    }
    if (raw.byteLength !== 32) throw new EncryptionKeyError(variable);
    loaded = (async () => {
      const [key, digest] = await Promise.all([
        crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]),
        crypto.subtle.digest("SHA-256", raw),
      ]);
      const hex = [...new Uint8Array(digest, 0, 4)].map((b) => b.toString(16).padStart(2, "0")).join("");
      return { id: `k${hex}`, key, base64: bytesToBase64(raw) };
    })();
    importedKeys.set(keyBase64, loaded);
  }
  return loaded;
}

/** The current key, and every configured key by id (the previous one only during a key rotation). */
async function keyring(keys: WebhookKeys): Promise<{ current: DataKey; byId: Map<string, DataKey> }> {
  const current = await dataKey("WEBHOOK_ENCRYPTION_KEY", keys.WEBHOOK_ENCRYPTION_KEY);
  const byId = new Map([[current.id, current]]);
  if (keys.WEBHOOK_ENCRYPTION_KEY_PREVIOUS) {
    const previous = await dataKey("WEBHOOK_ENCRYPTION_KEY_PREVIOUS", keys.WEBHOOK_ENCRYPTION_KEY_PREVIOUS);
    // Two different keys with one id (a 1 in 2^32 chance): the id could not tell their ciphertexts apart.
    if (previous.id === current.id && previous.base64 !== current.base64) {
      throw new EncryptionKeyError(
        "WEBHOOK_ENCRYPTION_KEY",
        "shares its key id with the previous key; generate another",
      );
    }
    byId.set(previous.id, previous);
  }
  return { current, byId };
}

/** The id (`k<hex8>`) of one encryption key, as stored ciphertexts name it; `variable` names it in errors. */
export async function encryptionKeyId(keyBase64: string, variable = "WEBHOOK_ENCRYPTION_KEY"): Promise<string> {
  return (await dataKey(variable, keyBase64)).id;
}

/** The id of the key a stored secret was encrypted under, or null when it is not in the stored form. */
export function storedKeyId(stored: string): string | null {
  return STORED_PATTERN.exec(stored)?.[1] ?? null;
}

/**
 * `k<key id>.<base64 iv>.<base64 ciphertext+tag>`. The key id picks the key that
 * decrypts, so a rotation of WEBHOOK_ENCRYPTION_KEY leaves earlier ciphertexts
 * readable under WEBHOOK_ENCRYPTION_KEY_PREVIOUS. The earlier unversioned form
 * (`<iv>.<ciphertext>`, without additional data) is not read: nothing was ever
 * deployed with it.
 */
const STORED_PATTERN = /^(k[0-9a-f]{8})\.([A-Za-z0-9+/]+={0,2})\.([A-Za-z0-9+/]+={0,2})$/;

/**
 * The AES-GCM additional data: `webhook:<webhook id>:<slot>` (`signing-key:<key id>`). A ciphertext moved to
 * another webhook's row, or between a row's current and previous columns, fails
 * authentication. Part of the stored format: never change these strings.
 */
function additionalData(binding: SecretBinding): Uint8Array {
  return new TextEncoder().encode(boundTo(binding));
}

/** `webhook:<webhook id>:<slot>`, or `signing-key:<key id>` for a signing key's private half. */
function boundTo(binding: SecretBinding): string {
  return "signingKeyId" in binding
    ? `signing-key:${binding.signingKeyId}`
    : `webhook:${binding.webhookId}:${binding.slot}`;
}

/** AES-256-GCM under the current key with a random 96-bit IV, bound to its row and slot. */
export async function encryptSecret(keys: WebhookKeys, secret: string, binding: SecretBinding): Promise<string> {
  const { current } = await keyring(keys);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: additionalData(binding) },
    current.key,
    new TextEncoder().encode(secret),
  );
  return `${current.id}.${bytesToBase64(iv)}.${bytesToBase64(new Uint8Array(ciphertext))}`;
}

/**
 * Decrypts a stored secret read from the row and slot `binding` names, with whichever
 * configured key its id names. Throws UnreadableSecretError when it cannot.
 */
export async function decryptSecret(keys: WebhookKeys, stored: string, binding: SecretBinding): Promise<string> {
  const { byId } = await keyring(keys);
  // Every delivery decrypts its webhook's secret: remember what this isolate decrypted,
  // keyed by everything the result depends on (ciphertext, row, slot, the key's bytes).
  const key = byId.get(storedKeyId(stored) ?? "");
  if (!key) return decryptUncached(byId, stored, binding);
  const memoKey = `${boundTo(binding)}\n${key.base64}\n${stored}`;
  const decrypted = decrypted_.get(memoKey, () => decryptUncached(byId, stored, binding));
  // A failure is not remembered: the same call throws again, and a later one may succeed.
  return decrypted.catch((error) => {
    decrypted_.forget(memoKey);
    throw error;
  });
}

const decrypted_ = boundedMemo<Promise<string>>(1_000);

async function decryptUncached(byId: Map<string, DataKey>, stored: string, binding: SecretBinding): Promise<string> {
  const match = STORED_PATTERN.exec(stored);
  if (!match) throw new UnreadableSecretError(binding, "it is not in k<key id>.<iv>.<ciphertext> form");
  const [, keyId, ivText, ciphertextText] = match as unknown as [string, string, string, string];
  const key = byId.get(keyId);
  if (!key) {
    throw new UnreadableSecretError(
      binding,
      `it is encrypted under key ${keyId}, neither WEBHOOK_ENCRYPTION_KEY nor WEBHOOK_ENCRYPTION_KEY_PREVIOUS`,
    );
  }
  let plaintext: ArrayBuffer;
  try {
    plaintext = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: base64ToBytes(ivText), additionalData: additionalData(binding) },
      key.key,
      base64ToBytes(ciphertextText),
    );
  } catch {
    throw new UnreadableSecretError(
      binding,
      "it does not authenticate for this webhook and column (copied from another row or column, or altered)",
    );
  }
  return new TextDecoder().decode(plaintext);
}

/**
 * What `read` gives, or null when a secret cannot be decrypted (a ciphertext copied from
 * another row or column, or a key no longer configured): logged as `msg` with `context`,
 * never a secret or ciphertext. A missing or malformed key still throws.
 */
export async function unlessUnreadable<T>(
  read: Promise<T>,
  msg: string,
  context: Record<string, unknown>,
): Promise<T | null> {
  try {
    return await read;
  } catch (error) {
    if (!(error instanceof UnreadableSecretError)) throw error;
    console.error(JSON.stringify({ level: "error", msg, ...context, error: error.message }));
    return null;
  }
}
