/**
 * A per-isolate memo of at most `limit` entries: `get(key, make)` returns the value made
 * for `key` before, or makes, keeps and returns it. When full it forgets the oldest
 * entry. For pure, costly derivations on the delivery path (a decrypted secret, an
 * imported HMAC key, a URL's verdict), whose key names every input they depend on.
 */
export function boundedMemo<V>(limit: number) {
  const entries = new Map<string, V>();
  return {
    get(key: string, make: () => V): V {
      const found = entries.get(key);
      if (found !== undefined) return found;
      const made = make();
      if (entries.size >= limit) entries.delete(entries.keys().next().value as string);
      entries.set(key, made);
      return made;
    },
    forget(key: string): void {
      entries.delete(key);
    },
  };
}
