export const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Uniform random base62 string (rejection sampling, no modulo bias). */
export function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    const bytes = crypto.getRandomValues(new Uint8Array(length * 2));
    for (const b of bytes) {
      if (b < 248 && out.length < length) out += BASE62[b % 62];
    }
  }
  return out;
}

export type IdPrefix =
  | "org"
  | "user"
  | "key"
  | "proj"
  | "task"
  | "cmt"
  | "evt"
  | "wh"
  | "del"
  | "att"
  | "file"
  | "iwh"
  | "req"
  | "sk";

/** A prefixed random id such as `task_3kT9…`. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomBase62(20)}`;
}

/** An opaque token that changes on every write: the resource's ETag. */
export function newEtag(): string {
  return randomBase62(16);
}
