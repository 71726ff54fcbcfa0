import { randomBase62 } from "../core/ids";

/** API keys act as a member; incoming-webhook keys only reach /v1/webhooks/incoming. */
export const API_KEY_PREFIX = "vk_live_";
export const INCOMING_KEY_PREFIX = "ik_live_";
type KeyPrefix = typeof API_KEY_PREFIX | typeof INCOMING_KEY_PREFIX;

const SECRET_LENGTH = 40;
/** How much of a key is kept (and listed) so people can tell their keys apart. */
const DISPLAY_SECRET_CHARS = 6;

/** A new secret key: the prefix + 40 random base62 characters (≈238 bits). */
export function generateSecretKey(prefix: KeyPrefix): { key: string; prefix: string } {
  const key = `${prefix}${randomBase62(SECRET_LENGTH)}`;
  return { key, prefix: key.slice(0, prefix.length + DISPLAY_SECRET_CHARS) };
}

export function generateApiKey() {
  return generateSecretKey(API_KEY_PREFIX);
}

/** Cheap shape check before any lookup: refuses garbage without touching storage. */
export function isWellFormedKey(candidate: string, prefix: KeyPrefix): boolean {
  if (!candidate.startsWith(prefix)) return false;
  const secret = candidate.slice(prefix.length);
  return secret.length >= 32 && secret.length <= 64 && /^[0-9A-Za-z]+$/.test(secret);
}

export function isWellFormedApiKey(candidate: string): boolean {
  return isWellFormedKey(candidate, API_KEY_PREFIX);
}
