import { randomBase62 } from "../lib/random";

export const API_KEY_PREFIX = "vk_live_";
const API_KEY_PATTERN = /^vk_live_[0-9A-Za-z]{32,64}$/;
/** How much of a key is kept (and listed) so people can tell their keys apart. */
const DISPLAY_PREFIX_LENGTH = API_KEY_PREFIX.length + 6;

/** A new secret key: `vk_live_` + 40 random base62 characters (≈238 bits). */
export function generateApiKey(): { key: string; prefix: string } {
  const key = `${API_KEY_PREFIX}${randomBase62(40)}`;
  return { key, prefix: key.slice(0, DISPLAY_PREFIX_LENGTH) };
}

export function isWellFormedApiKey(candidate: string): boolean {
  return API_KEY_PATTERN.test(candidate);
}
