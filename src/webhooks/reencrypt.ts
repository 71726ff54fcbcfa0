import { and, asc, eq, gt, isNull, or, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { signingKeys, webhooks } from "../db/schema";
import type { Env } from "../env";
import { decryptSecret, encryptionKeyId, encryptSecret, type SecretSlot, UnreadableSecretError } from "./secrets";

/** Webhooks read and re-encrypted per batch (one SELECT and one D1 batch of UPDATEs each). */
const REENCRYPT_BATCH = 100;

export interface ReencryptResult {
  /** Rows (webhooks and signing keys) whose secrets now are under WEBHOOK_ENCRYPTION_KEY. */
  reencrypted: number;
  /** Rows whose secrets changed between the read and the write (a secret rotation): left as they are now. */
  skipped: number;
  /** Rows with a secret under the previous key that does not decrypt for its row and column: left, and logged. */
  unreadable: number;
}

/**
 * The second half of rotating WEBHOOK_ENCRYPTION_KEY, run by the minute cron: every
 * webhook secret (current and previous columns) and every signing key's private half
 * (signing-keys.ts) still encrypted under
 * WEBHOOK_ENCRYPTION_KEY_PREVIOUS is encrypted again under WEBHOOK_ENCRYPTION_KEY.
 * Nothing to do, and no query, while no previous key is set. Rows are walked in id
 * order, `limit` per batch, until none is left; each batch commits on its own, so a
 * run cut short loses nothing. Each UPDATE matches only the ciphertexts it read, so a
 * secret rotated meanwhile (already under the current key) is never overwritten.
 */
export async function reencryptWebhookSecrets(env: Env, limit = REENCRYPT_BATCH): Promise<ReencryptResult> {
  const result: ReencryptResult = { reencrypted: 0, skipped: 0, unreadable: 0 };
  const previousKey = env.WEBHOOK_ENCRYPTION_KEY_PREVIOUS;
  if (!previousKey) return result;
  const previousId = await encryptionKeyId(previousKey, "WEBHOOK_ENCRYPTION_KEY_PREVIOUS");
  const currentId = await encryptionKeyId(env.WEBHOOK_ENCRYPTION_KEY);
  if (previousId === currentId) return result;

  const prefix = `${previousId}.`;
  // An exact prefix test (LIKE would ignore case and read `_` as a wildcard).
  const underPreviousKey = (column: SQLiteColumn): SQL => sql`substr(${column}, 1, ${prefix.length}) = ${prefix}`;
  const db = drizzle(env.DB);
  await reencryptPages(db, limit, result, {
    page: (after) =>
      db
        .select({
          id: webhooks.id,
          secretCiphertext: webhooks.secretCiphertext,
          previousSecretCiphertext: webhooks.previousSecretCiphertext,
        })
        .from(webhooks)
        .where(
          and(
            gt(webhooks.id, after),
            or(underPreviousKey(webhooks.secretCiphertext), underPreviousKey(webhooks.previousSecretCiphertext)),
          ),
        )
        .orderBy(asc(webhooks.id))
        .limit(limit),
    reencrypt: async (row) => {
      const reencrypt = async (stored: string, slot: SecretSlot) => {
        if (!stored.startsWith(prefix)) return stored;
        const binding = { webhookId: row.id, slot };
        return encryptSecret(env, await decryptSecret(env, stored, binding), binding);
      };
      const secret = await reencrypt(row.secretCiphertext, "current");
      const previous =
        row.previousSecretCiphertext === null ? null : await reencrypt(row.previousSecretCiphertext, "previous");
      return { secret, previous };
    },
    update: (row, { secret, previous }) =>
      db
        .update(webhooks)
        .set({ secretCiphertext: secret, previousSecretCiphertext: previous })
        .where(
          and(
            eq(webhooks.id, row.id),
            eq(webhooks.secretCiphertext, row.secretCiphertext),
            row.previousSecretCiphertext === null
              ? isNull(webhooks.previousSecretCiphertext)
              : eq(webhooks.previousSecretCiphertext, row.previousSecretCiphertext),
          ),
        ),
    unreadable: (row) => ({ msg: "webhook secret cannot be re-encrypted", webhookId: row.id }),
  });
  await reencryptSigningKeys(env, prefix, limit, result);
  // Logged every run while a previous key is set: the operator's signal that it can go.
  const done = result.reencrypted + result.skipped + result.unreadable === 0;
  const msg = done
    ? "no webhook secret nor signing key is left under WEBHOOK_ENCRYPTION_KEY_PREVIOUS: it can be removed"
    : "webhook secrets and signing keys re-encrypted under WEBHOOK_ENCRYPTION_KEY";
  console.log(JSON.stringify({ level: "info", msg, fromKeyId: previousId, toKeyId: currentId, ...result }));
  return result;
}

/**
 * The signing keys' pass of reencryptWebhookSecrets, counted into its result: each
 * private half under the previous key (`prefix`), in id order, `limit` per batch. A
 * key's private half never changes, so an UPDATE that matches no row means it was
 * re-encrypted meanwhile.
 */
async function reencryptSigningKeys(env: Env, prefix: string, limit: number, result: ReencryptResult) {
  const db = drizzle(env.DB);
  await reencryptPages(db, limit, result, {
    page: (after) =>
      db
        .select({ id: signingKeys.id, privateKeyCiphertext: signingKeys.privateKeyCiphertext })
        .from(signingKeys)
        .where(
          and(
            gt(signingKeys.id, after),
            sql`substr(${signingKeys.privateKeyCiphertext}, 1, ${prefix.length}) = ${prefix}`,
          ),
        )
        .orderBy(asc(signingKeys.id))
        .limit(limit),
    reencrypt: async (row) => {
      const binding = { signingKeyId: row.id };
      return encryptSecret(env, await decryptSecret(env, row.privateKeyCiphertext, binding), binding);
    },
    update: (row, reencrypted) =>
      db
        .update(signingKeys)
        .set({ privateKeyCiphertext: reencrypted })
        .where(and(eq(signingKeys.id, row.id), eq(signingKeys.privateKeyCiphertext, row.privateKeyCiphertext))),
    unreadable: (row) => ({ msg: "signing key cannot be re-encrypted", signingKeyId: row.id }),
  });
}

/** One table's part of a re-encryption run (the webhooks' secrets, the signing keys' private halves). */
interface ReencryptPass<Row extends { id: string }, Ciphertexts> {
  /** Up to `limit` rows after this id, in id order, holding a ciphertext under the previous key. */
  page(after: string): Promise<Row[]>;
  /** The row's ciphertexts under the current key; UnreadableSecretError when one does not decrypt for its row. */
  reencrypt(row: Row): Promise<Ciphertexts>;
  /** The UPDATE writing them, matching only the ciphertexts that were read. */
  update(row: Row, reencrypted: Ciphertexts): BatchItem<"sqlite">;
  /** The error log's fields naming a row that cannot be re-encrypted. */
  unreadable(row: Row): { msg: string } & Record<string, string>;
}

/**
 * Walks one pass's rows a page at a time, counted into `result`: each page's UPDATEs
 * commit in one batch, and one that changes no row was overtaken by a rotation
 * (skipped); a row that does not decrypt is counted, logged and left.
 */
async function reencryptPages<Row extends { id: string }, Ciphertexts>(
  db: DrizzleD1Database,
  limit: number,
  result: ReencryptResult,
  pass: ReencryptPass<Row, Ciphertexts>,
) {
  let after = "";
  for (;;) {
    const rows = await pass.page(after);
    const updates: BatchItem<"sqlite">[] = [];
    for (const row of rows) {
      try {
        updates.push(pass.update(row, await pass.reencrypt(row)));
      } catch (error) {
        if (!(error instanceof UnreadableSecretError)) throw error;
        result.unreadable += 1;
        console.error(JSON.stringify({ level: "error", ...pass.unreadable(row), error: error.message }));
      }
    }
    const [first, ...rest] = updates;
    if (first) {
      for (const written of await db.batch([first, ...rest])) {
        if ((written as D1Result).meta.changes === 1) result.reencrypted += 1;
        else result.skipped += 1;
      }
    }
    if (rows.length < limit) break;
    after = rows[rows.length - 1]!.id;
  }
}
