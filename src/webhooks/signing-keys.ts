import { and, desc, eq, gt, isNull, or } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import { configFrom } from "../config";
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from "../core/enums";
import { newId } from "../core/ids";
import { boundedMemo } from "../core/memo";
import { isoPlusSeconds, nowIso } from "../core/time";
import { answerStatements, type WriteContext } from "../core/write-context";
import { type SigningKey, signingKeys } from "../db/schema";
import type { Env } from "../env";
import { bytesToBase64, decryptSecret, encryptSecret, type WebhookKeys } from "./secrets";

/**
 * An organization's signing key pairs for public-key webhook signatures (README
 * "Signatures"): one Ed25519 and one RSA pair, generated with WebCrypto on first need
 * (a delivery that signs with one, a webhook created with its scheme, or the first
 * read of the published keys). The public halves are published; the private halves
 * are stored only as PKCS #8 encrypted like webhook secrets (secrets.ts), bound to
 * their row. A rotation makes a new pair; the one before keeps signing beside it until
 * the overlap (WEBHOOK_SECRET_GRACE_SECONDS) ends, and is then neither used nor published.
 */

/** How WebCrypto generates each algorithm's pairs: RSA 2048, e = 65537, SHA-256 (RSASSA-PKCS1-v1_5). */
const GENERATE: Record<SigningAlgorithm, SubtleCryptoGenerateKeyAlgorithm> = {
  ed25519: { name: "Ed25519" },
  "rsa-sha256": {
    name: "RSASSA-PKCS1-v1_5",
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: "SHA-256",
  },
};

const IMPORT: Record<SigningAlgorithm, SubtleCryptoImportKeyAlgorithm> = {
  ed25519: { name: "Ed25519" },
  "rsa-sha256": { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
};

/** The JWK `alg` of each: RFC 8037 (EdDSA) and RFC 7518 (RS256). */
const JWK_ALG: Record<SigningAlgorithm, string> = { ed25519: "EdDSA", "rsa-sha256": "RS256" };

/** A key pair that signs now: its id, algorithm, imported private key, and whether it is the active one. */
export interface Signer {
  id: string;
  algorithm: SigningAlgorithm;
  key: CryptoKey;
  active: boolean;
}

/** A published key: status `active`, or `previous` until `expiresAt` after a rotation. */
export function presentSigningKey(row: SigningKey) {
  return {
    id: row.id,
    algorithm: row.algorithm,
    status: row.expiresAt === null ? ("active" as const) : ("previous" as const),
    expiresAt: row.expiresAt,
    createdAt: row.createdAt,
    pem: row.publicKeyPem,
    jwk: row.publicKeyJwk,
  };
}
export type SigningKeyResource = ReturnType<typeof presentSigningKey>;

function pem(spki: ArrayBuffer): string {
  const base64 = bytesToBase64(new Uint8Array(spki));
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join("\n")}\n-----END PUBLIC KEY-----\n`;
}

/** A new pair, its private half encrypted for its own row: not yet stored. */
async function generateSigningKey(
  keys: WebhookKeys,
  orgId: string,
  algorithm: SigningAlgorithm,
  now: string,
): Promise<SigningKey> {
  const id = newId("sk");
  const pair = (await crypto.subtle.generateKey(GENERATE[algorithm], true, ["sign", "verify"])) as CryptoKeyPair;
  const [spki, jwk, pkcs8] = await Promise.all([
    crypto.subtle.exportKey("spki", pair.publicKey) as Promise<ArrayBuffer>,
    crypto.subtle.exportKey("jwk", pair.publicKey) as Promise<JsonWebKey>,
    crypto.subtle.exportKey("pkcs8", pair.privateKey) as Promise<ArrayBuffer>,
  ]);
  // Only the public members, and what identifies the key to a JOSE library.
  const publicJwk: JsonWebKey & { kid: string; use: string } =
    algorithm === "ed25519"
      ? { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid: id, use: "sig", alg: JWK_ALG[algorithm] }
      : { kty: jwk.kty, n: jwk.n, e: jwk.e, kid: id, use: "sig", alg: JWK_ALG[algorithm] };
  return {
    id,
    orgId,
    algorithm,
    publicKeyPem: pem(spki),
    publicKeyJwk: publicJwk,
    privateKeyCiphertext: await encryptSecret(keys, bytesToBase64(new Uint8Array(pkcs8)), { signingKeyId: id }),
    createdAt: now,
    expiresAt: null,
  };
}

/** The organization's keys of `algorithm` that sign at `now`: the active one first, then a previous one. */
function liveKeys(db: DrizzleD1Database, orgId: string, algorithm: SigningAlgorithm, now: string) {
  return db
    .select()
    .from(signingKeys)
    .where(
      and(
        eq(signingKeys.orgId, orgId),
        eq(signingKeys.algorithm, algorithm),
        or(isNull(signingKeys.expiresAt), gt(signingKeys.expiresAt, now)),
      ),
    )
    .orderBy(desc(signingKeys.createdAt), desc(signingKeys.id));
}

/** Active first (expiresAt null), then previous ones, newest first. */
function activeFirst(rows: SigningKey[]): SigningKey[] {
  return [...rows.filter((row) => row.expiresAt === null), ...rows.filter((row) => row.expiresAt !== null)];
}

/**
 * The live keys of `algorithm`, creating the organization's first pair when it has
 * none. Two first uses at once both generate one; the unique index on the active
 * pair keeps the first stored and the other is dropped.
 */
export async function ensureSigningKeys(
  keys: WebhookKeys,
  db: DrizzleD1Database,
  orgId: string,
  algorithm: SigningAlgorithm,
  now = nowIso(),
): Promise<SigningKey[]> {
  const live = activeFirst(await liveKeys(db, orgId, algorithm, now));
  if (live[0]?.expiresAt === null) return live;
  const created = await generateSigningKey(keys, orgId, algorithm, now);
  await db.insert(signingKeys).values(created).onConflictDoNothing();
  return activeFirst(await liveKeys(db, orgId, algorithm, now));
}

/** `GET /v1/webhooks/signing-keys`: the published keys of both algorithms, each created on first read. */
export async function listSigningKeys(keys: WebhookKeys, db: DrizzleD1Database, orgId: string) {
  const now = nowIso();
  const perAlgorithm = await Promise.all(
    SIGNING_ALGORITHMS.map((algorithm) => ensureSigningKeys(keys, db, orgId, algorithm, now)),
  );
  return { data: perAlgorithm.flat().map(presentSigningKey) };
}

/**
 * `POST /v1/webhooks/signing-keys/rotate`: a new active pair of `algorithm`. The pair
 * it replaces signs beside it until the overlap ends; a pair still in an earlier
 * overlap is retired at once (at most two pairs of an algorithm sign at a time).
 * One batch, so concurrent rotations run one after the other.
 */
export async function rotateSigningKey(ctx: WriteContext & { env: Env }, input: { algorithm: SigningAlgorithm }) {
  const { env, orgId } = ctx;
  const now = ctx.now();
  const created = await generateSigningKey(env, orgId, input.algorithm, now);
  const expiresAt = isoPlusSeconds(configFrom(env).webhookSecretGraceSeconds, Date.parse(now));
  const ofAlgorithm = and(eq(signingKeys.orgId, orgId), eq(signingKeys.algorithm, input.algorithm));
  const before = activeFirst(await liveKeys(ctx.db, orgId, input.algorithm, now));
  const previous = before.find((row) => row.expiresAt === null);
  const rotated = {
    data: [presentSigningKey(created), ...(previous ? [presentSigningKey({ ...previous, expiresAt })] : [])],
  };
  await ctx.db.batch([
    ctx.db
      .update(signingKeys)
      .set({ expiresAt: now })
      .where(and(ofAlgorithm, gt(signingKeys.expiresAt, now))),
    ctx.db
      .update(signingKeys)
      .set({ expiresAt })
      .where(and(ofAlgorithm, isNull(signingKeys.expiresAt))),
    ctx.db.insert(signingKeys).values(created),
    ...answerStatements(ctx, rotated),
  ]);
  return rotated;
}

/** Imported private keys by key id: a key's material never changes, so each is decrypted and imported once per isolate. */
const importedKeys = boundedMemo<Promise<CryptoKey>>(1_000);

function importedKey(keys: WebhookKeys, row: SigningKey): Promise<CryptoKey> {
  const imported = importedKeys.get(row.id, async () => {
    const pkcs8 = await decryptSecret(keys, row.privateKeyCiphertext, { signingKeyId: row.id });
    const bytes = Uint8Array.from(atob(pkcs8), (c) => c.charCodeAt(0));
    return crypto.subtle.importKey("pkcs8", bytes, IMPORT[row.algorithm], false, ["sign"]);
  });
  // A failure is not remembered: a later attempt (after the key is configured again) may succeed.
  return imported.catch((error) => {
    importedKeys.forget(row.id);
    throw error;
  });
}

/**
 * The live key rows one run of attempts has read, by organization and algorithm: a
 * dispatch run or queue batch makes one per run (makeAttempts), so its attempts to
 * any number of webhooks of one scheme share a single D1 read. Rows are read once
 * and checked against `expiresAt` at each use, so a previous key whose overlap ends
 * mid-run stops signing then. A run starts its attempts within 25 s, so a rotation
 * during it is seen by the next run, as a write committed after a read would be.
 */
export type SigningKeyReads = Map<string, Promise<SigningKey[]>>;

function keyRowsOnce(
  keys: WebhookKeys,
  db: DrizzleD1Database,
  orgId: string,
  algorithm: SigningAlgorithm,
  now: string,
  reads: SigningKeyReads | undefined,
): Promise<SigningKey[]> {
  if (!reads) return ensureSigningKeys(keys, db, orgId, algorithm, now);
  const slot = `${orgId}\n${algorithm}`;
  let rows = reads.get(slot);
  if (!rows) {
    rows = ensureSigningKeys(keys, db, orgId, algorithm, now);
    reads.set(slot, rows);
    // A failed read is not shared: the run's next attempt of this scheme reads again.
    rows.catch(() => {
      if (reads.get(slot) === rows) reads.delete(slot);
    });
  }
  return rows;
}

/**
 * The signers of one attempt for a webhook with a public-key scheme: the organization's
 * active key of that algorithm first, then the previous one during an overlap. One
 * indexed read per run of attempts (`reads`; one per call without it); each private
 * key is decrypted and imported once per isolate. Throws UnreadableSecretError when a
 * private half cannot be decrypted.
 */
export async function signersFor(
  keys: WebhookKeys,
  db: DrizzleD1Database,
  orgId: string,
  algorithm: SigningAlgorithm,
  now: string,
  reads?: SigningKeyReads,
): Promise<Signer[]> {
  const rows = await keyRowsOnce(keys, db, orgId, algorithm, now, reads);
  const live = rows.filter((row) => row.expiresAt === null || row.expiresAt > now);
  return Promise.all(
    live.map(async (row) => ({
      id: row.id,
      algorithm: row.algorithm,
      key: await importedKey(keys, row),
      active: row.expiresAt === null,
    })),
  );
}
