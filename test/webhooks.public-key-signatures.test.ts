import { env } from "cloudflare:workers";
import { createVerify } from "node:crypto";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { afterEach, describe, expect, it, vi } from "vitest";
import { verifyWebhookPublicKey, WebhookVerificationError } from "../sdk/src/index";
import { events } from "../src/db/schema";
import type { Env } from "../src/env";
import { attemptDeliveries, attemptDelivery } from "../src/webhooks/attempts";
import { UNREADABLE_SIGNING_KEY_REASON } from "../src/webhooks/deliver";
import { dispatchCommitted } from "../src/webhooks/dispatch";
import { reencryptWebhookSecrets } from "../src/webhooks/reencrypt";
import { bytesToBase64, decryptSecret, encryptionKeyId, storedKeyId } from "../src/webhooks/secrets";
import type { SigningKey, SigningKeyList, Webhook } from "./api-types";
import { call, createOrg, type TestOrg } from "./harness";
import {
  addMember,
  createWebhook,
  receivedBy,
  receiverEndpoint,
  verifyInNode,
  verifyPublicInNode,
  waitForRequests,
} from "./webhook-helpers";
import { deliver, insertDelivery, insertEvent, pendingDelivery } from "./webhook-queue";

// Public-key signatures (README "Signatures"): real deliveries to the Node receiver,
// verified with the keys published at GET /v1/webhooks/signing-keys — in workerd with
// WebCrypto (and node:crypto's createVerify, seed 003's snippet, under nodejs_compat)
// and in Node by the receiver (seed 003's snippet; Node's Ed25519 verify).

afterEach(() => {
  vi.restoreAllMocks();
});

const encoder = new TextEncoder();

async function signingKeys(org: TestOrg): Promise<SigningKey[]> {
  const res = await call<SigningKeyList>("GET", "/v1/webhooks/signing-keys", { key: org.keys.admin });
  expect(res.status).toBe(200);
  return res.body.data;
}

function activeKey(keys: SigningKey[], algorithm: SigningKey["algorithm"]): SigningKey {
  const found = keys.filter((key) => key.algorithm === algorithm && key.status === "active");
  expect(found).toHaveLength(1);
  return found[0]!;
}

async function rotateKey(org: TestOrg, algorithm: string): Promise<SigningKey[]> {
  const res = await call<SigningKeyList>("POST", "/v1/webhooks/signing-keys/rotate", {
    key: org.keys.admin,
    body: { algorithm },
  });
  expect(res.status).toBe(200);
  return res.body.data;
}

/** The key's overlap ended: what the clock would do after WEBHOOK_SECRET_GRACE_SECONDS. */
async function endOverlap(keyId: string) {
  await env.DB.prepare("UPDATE signing_keys SET expires_at = ? WHERE id = ?")
    .bind(new Date(Date.now() - 1000).toISOString(), keyId)
    .run();
}

function derOf(pem: string): Uint8Array {
  const base64 = pem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function bytesOf(base64: string): Uint8Array {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function v1aEntries(headers: Record<string, string>): string[] {
  return (headers["webhook-signature"] ?? "")
    .split(" ")
    .filter((entry) => entry.startsWith("v1a,"))
    .map((entry) => entry.slice(4));
}

/** A plain Ed25519 verify in workerd with WebCrypto, from the published JWK or PEM. */
async function verifyEd25519(
  key: SigningKey,
  from: "jwk" | "pem",
  headers: Record<string, string>,
  body: string,
  signature: string,
): Promise<boolean> {
  const publicKey =
    from === "jwk"
      ? await crypto.subtle.importKey("jwk", key.jwk as unknown as JsonWebKey, { name: "Ed25519" }, false, ["verify"])
      : await crypto.subtle.importKey("spki", derOf(key.pem), { name: "Ed25519" }, false, ["verify"]);
  const content = encoder.encode(`${headers["webhook-id"]}.${headers["webhook-timestamp"]}.${body}`);
  return crypto.subtle.verify("Ed25519", publicKey, bytesOf(signature), content);
}

/** RSASSA-PKCS1-v1_5 SHA-256 over the raw body, in workerd with WebCrypto, from the published PEM. */
async function verifyRsaWebCrypto(key: SigningKey, body: string, signature: string): Promise<boolean> {
  const publicKey = await crypto.subtle.importKey(
    "spki",
    derOf(key.pem),
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    false,
    ["verify"],
  );
  return crypto.subtle.verify("RSASSA-PKCS1-v1_5", publicKey, bytesOf(signature), encoder.encode(body));
}

/** Seed 003's snippet, run in workerd through node:crypto (nodejs_compat). */
function verifySignature(publicKey: string, payload: string, signature: string): boolean {
  const verifier = createVerify("SHA256");
  verifier.update(payload);
  verifier.end();
  return verifier.verify(publicKey, signature, "base64");
}

describe("webhooks: public-key signatures", { timeout: 40_000 }, () => {
  it("publishes one Ed25519 and one RSA public key per organization, made on first read, never a private half", async () => {
    const org = await createOrg();
    const keys = await signingKeys(org);
    expect(keys.map((key) => [key.algorithm, key.status, key.expiresAt])).toEqual([
      ["ed25519", "active", null],
      ["rsa-sha256", "active", null],
    ]);
    const ed = activeKey(keys, "ed25519");
    const rsa = activeKey(keys, "rsa-sha256");
    expect(ed.id).toMatch(/^sk_/);
    expect(ed.pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PUBLIC KEY-----\n$/);
    expect(ed.jwk).toEqual({ kty: "OKP", crv: "Ed25519", x: expect.any(String), kid: ed.id, use: "sig", alg: "EdDSA" });
    expect(rsa.jwk).toEqual({
      kty: "RSA",
      n: expect.any(String),
      e: "AQAB",
      kid: rsa.id,
      use: "sig",
      alg: "RS256",
    });
    // RSA 2048: a 256-byte modulus.
    expect(bytesOf((rsa.jwk.n as string).replaceAll("-", "+").replaceAll("_", "/").padEnd(344, "=")).length).toBe(256);
    // The same keys on every read: made once.
    expect((await signingKeys(org)).map((key) => key.id)).toEqual([ed.id, rsa.id]);

    // The stored private halves are encrypted; neither they nor their plaintext appear in a response.
    const rows = await env.DB.prepare("SELECT id, private_key_ciphertext FROM signing_keys WHERE org_id = ?")
      .bind(org.id)
      .all<{ id: string; private_key_ciphertext: string }>();
    expect(rows.results).toHaveLength(2);
    const listed = JSON.stringify(await signingKeys(org));
    for (const row of rows.results) {
      expect(storedKeyId(row.private_key_ciphertext)).toBe(await encryptionKeyId(env.WEBHOOK_ENCRYPTION_KEY));
      const pkcs8 = await decryptSecret(env, row.private_key_ciphertext, { signingKeyId: row.id });
      expect(pkcs8.length).toBeGreaterThan(40);
      expect(listed).not.toContain(pkcs8);
      expect(listed).not.toContain(row.private_key_ciphertext);
    }
    expect(listed).not.toContain("PRIVATE KEY");
    expect(listed).not.toMatch(/"(d|p|q|dp|dq|qi)":/);
  });

  it("ed25519: a real delivery carries a v1a signature that verifies with the published JWK and PEM, in workerd and in Node", async () => {
    const org = await createOrg();
    const { name, url } = receiverEndpoint("ed25519");
    const hook = await createWebhook(org, { url, events: ["member.added"], signatureScheme: "ed25519" });
    expect(hook.signatureScheme).toBe("ed25519");
    const key = activeKey(await signingKeys(org), "ed25519");
    await addMember(org);

    const [request] = await waitForRequests(name, 1);
    const { headers, body } = request!;
    // The HMAC signatures are still there, and still verify, for receivers holding the secret.
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}= v1a,[A-Za-z0-9+/]{86}==$/);
    expect(await verifyInNode(body, headers, hook.secret)).toEqual({ seed: true, standard: true });
    expect(headers["x-verk-signature-key-id"]).toBe(key.id);
    expect(headers["x-verk-signature-rsa"]).toBeUndefined();

    const [signature] = v1aEntries(headers);
    expect(await verifyEd25519(key, "jwk", headers, body, signature!)).toBe(true);
    expect(await verifyEd25519(key, "pem", headers, body, signature!)).toBe(true);
    expect(await verifyPublicInNode(body, headers, key.pem)).toEqual({ rsa: false, rsaNext: false, ed25519: [true] });

    const tampered = body.replace('"member.added"', '"member.removed"');
    expect(tampered).not.toBe(body);
    expect(await verifyEd25519(key, "jwk", headers, tampered, signature!)).toBe(false);
    expect((await verifyPublicInNode(tampered, headers, key.pem)).ed25519).toEqual([false]);
    // Another timestamp (a replay with a new one) fails too: it is signed.
    const replayed = { ...headers, "webhook-timestamp": String(Number(headers["webhook-timestamp"]) + 60) };
    expect(await verifyEd25519(key, "jwk", replayed, body, signature!)).toBe(false);

    // The SDK's helper, with the published keys as fetched.
    const published = await signingKeys(org);
    expect((await verifyWebhookPublicKey(body, headers, published)).id).toBe(JSON.parse(body).id);
    expect((await verifyWebhookPublicKey(body, headers, { algorithm: "ed25519", pem: key.pem })).id).toBeTruthy();
    await expect(verifyWebhookPublicKey(tampered, headers, published)).rejects.toThrow(WebhookVerificationError);
    await expect(verifyWebhookPublicKey(body, replayed, published)).rejects.toThrow(WebhookVerificationError);
  });

  it("rsa-sha256: a delivery through the queue consumer verifies with seed 003's snippet and the published PEM", async () => {
    const { org, endpoint, hook, deliveryId } = await pendingDelivery("rsa", { signatureScheme: "rsa-sha256" });
    const key = activeKey(await signingKeys(org), "rsa-sha256");
    const { result } = await deliver(deliveryId);
    expect(result.explicitAcks).toHaveLength(1);

    const [request] = await waitForRequests(endpoint.name, 1);
    const { headers, body } = request!;
    const signature = headers["x-verk-signature-rsa"]!;
    expect(signature).toMatch(/^[A-Za-z0-9+/]{342}==$/);
    expect(headers["x-verk-signature-rsa-next"]).toBeUndefined();
    expect(headers["x-verk-signature-key-id"]).toBe(key.id);
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(await verifyInNode(body, headers, hook.secret)).toEqual({ seed: true, standard: true });

    // Seed 003's snippet, in Node (the receiver) and in workerd; WebCrypto agrees.
    expect(await verifyPublicInNode(body, headers, key.pem)).toEqual({ rsa: true, rsaNext: false, ed25519: [] });
    expect(verifySignature(key.pem, body, signature)).toBe(true);
    expect(await verifyRsaWebCrypto(key, body, signature)).toBe(true);

    const tampered = body.replace('"member.added"', '"member.removed"');
    expect(verifySignature(key.pem, tampered, signature)).toBe(false);
    expect((await verifyPublicInNode(tampered, headers, key.pem)).rsa).toBe(false);
    // The SDK's helper, from the PEM or the JWK.
    expect((await verifyWebhookPublicKey(body, headers, { algorithm: "rsa-sha256", pem: key.pem })).id).toBeTruthy();
    expect((await verifyWebhookPublicKey(body, headers, [key])).id).toBeTruthy();
    await expect(verifyWebhookPublicKey(tampered, headers, [key])).rejects.toThrow(WebhookVerificationError);
    // The organization's Ed25519 key does not verify it.
    expect((await verifyPublicInNode(body, headers, activeKey(await signingKeys(org), "ed25519").pem)).rsa).toBe(false);
  });

  it("the scheme is set on create and update, defaults to hmac-sha256, and an unknown one is a 400 that changes nothing", async () => {
    const org = await createOrg();
    const { name, url } = receiverEndpoint("scheme");
    const hook = await createWebhook(org, { url, events: ["member.added"] });
    expect(hook.signatureScheme).toBe("hmac-sha256");

    const refused = await call("POST", "/v1/webhooks", {
      key: org.keys.admin,
      body: { url, events: ["member.added"], signatureScheme: "hmac-sha512" },
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { code: "VALIDATION_ERROR", field: "signatureScheme" } });
    const patchRefused = await call("PATCH", `/v1/webhooks/${hook.id}`, {
      key: org.keys.admin,
      body: { signatureScheme: "RSA" },
    });
    expect(patchRefused.status).toBe(400);
    const list = await call<{ data: Webhook[] }>("GET", "/v1/webhooks", { key: org.keys.admin });
    expect(list.body.data.map((h) => [h.id, h.signatureScheme])).toEqual([[hook.id, "hmac-sha256"]]);

    // An hmac-sha256 delivery carries no public-key signature.
    await addMember(org, "Hmac");
    const [plain] = await waitForRequests(name, 1);
    expect(plain!.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(plain!.headers["x-verk-signature-rsa"]).toBeUndefined();
    expect(plain!.headers["x-verk-signature-key-id"]).toBeUndefined();

    const patched = await call<Webhook>("PATCH", `/v1/webhooks/${hook.id}`, {
      key: org.keys.admin,
      body: { signatureScheme: "rsa-sha256" },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.signatureScheme).toBe("rsa-sha256");
    const got = await call<Webhook>("GET", `/v1/webhooks/${hook.id}`, { key: org.keys.admin });
    expect(got.body.signatureScheme).toBe("rsa-sha256");
    const key = activeKey(await signingKeys(org), "rsa-sha256");
    await addMember(org, "Rsa");
    const [, signed] = await waitForRequests(name, 2);
    expect(verifySignature(key.pem, signed!.body, signed!.headers["x-verk-signature-rsa"]!)).toBe(true);
  });

  it("rotating the Ed25519 key: both v1a signatures during the overlap, only the new one after it", async () => {
    const org = await createOrg();
    const { name, url } = receiverEndpoint("ed-rotate");
    await createWebhook(org, { url, events: ["member.added"], signatureScheme: "ed25519" });
    const before = await signingKeys(org);
    const old = activeKey(before, "ed25519");
    const rsaBefore = activeKey(before, "rsa-sha256");

    const rotated = await rotateKey(org, "ed25519");
    const fresh = rotated[0]!;
    expect(rotated.map((key) => [key.id, key.status])).toEqual([
      [fresh.id, "active"],
      [old.id, "previous"],
    ]);
    expect(fresh.id).not.toBe(old.id);
    // The overlap is WEBHOOK_SECRET_GRACE_SECONDS (86400 in wrangler.toml).
    const overlapEnd = Date.parse(rotated[1]!.expiresAt!);
    expect(Math.abs(overlapEnd - (Date.now() + 86_400_000))).toBeLessThan(60_000);
    const published = await signingKeys(org);
    expect(published.map((key) => [key.id, key.status])).toEqual([
      [fresh.id, "active"],
      [old.id, "previous"],
      [rsaBefore.id, "active"],
    ]);

    await addMember(org, "During");
    const [during] = await waitForRequests(name, 1);
    const entries = v1aEntries(during!.headers);
    expect(entries).toHaveLength(2);
    expect(during!.headers["x-verk-signature-key-id"]).toBe(`${fresh.id} ${old.id}`);
    expect(await verifyEd25519(fresh, "jwk", during!.headers, during!.body, entries[0]!)).toBe(true);
    expect(await verifyEd25519(old, "pem", during!.headers, during!.body, entries[1]!)).toBe(true);
    // A receiver holding either key finds one entry that verifies.
    expect((await verifyPublicInNode(during!.body, during!.headers, old.pem)).ed25519).toEqual([false, true]);
    expect((await verifyPublicInNode(during!.body, during!.headers, fresh.pem)).ed25519).toEqual([true, false]);

    await endOverlap(old.id);
    expect((await signingKeys(org)).map((key) => key.id)).toEqual([fresh.id, rsaBefore.id]);
    await addMember(org, "After");
    const [, after] = await waitForRequests(name, 2);
    expect(after!.headers["x-verk-signature-key-id"]).toBe(fresh.id);
    expect((await verifyPublicInNode(after!.body, after!.headers, fresh.pem)).ed25519).toEqual([true]);
    expect((await verifyPublicInNode(after!.body, after!.headers, old.pem)).ed25519).toEqual([false]);
  });

  it("rotating the RSA key: X-Verk-Signature-RSA keeps the old key through the overlap, -Next carries the new one", async () => {
    const org = await createOrg();
    const { name, url } = receiverEndpoint("rsa-rotate");
    await createWebhook(org, { url, events: ["member.added"], signatureScheme: "rsa-sha256" });
    const old = activeKey(await signingKeys(org), "rsa-sha256");
    const edBefore = activeKey(await signingKeys(org), "ed25519");
    const rotated = await rotateKey(org, "rsa-sha256");
    const fresh = rotated[0]!;
    expect(rotated.map((key) => [key.algorithm, key.status])).toEqual([
      ["rsa-sha256", "active"],
      ["rsa-sha256", "previous"],
    ]);
    // The other algorithm's key is untouched.
    expect(activeKey(await signingKeys(org), "ed25519").id).toBe(edBefore.id);

    await addMember(org, "During");
    const [during] = await waitForRequests(name, 1);
    const { headers, body } = during!;
    expect(headers["x-verk-signature-key-id"]).toBe(`${old.id} ${fresh.id}`);
    // A receiver that pinned the old PEM keeps verifying the one header it reads; one
    // holding the new PEM verifies -Next (and X-Verk-Signature-RSA once the overlap ends).
    expect(await verifyPublicInNode(body, headers, old.pem)).toEqual({ rsa: true, rsaNext: false, ed25519: [] });
    expect(await verifyPublicInNode(body, headers, fresh.pem)).toEqual({ rsa: false, rsaNext: true, ed25519: [] });
    expect(verifySignature(old.pem, body, headers["x-verk-signature-rsa"]!)).toBe(true);
    expect(verifySignature(fresh.pem, body, headers["x-verk-signature-rsa-next"]!)).toBe(true);
    // The SDK's helper accepts the delivery under either key alone.
    expect((await verifyWebhookPublicKey(body, headers, [old])).id).toBeTruthy();
    expect((await verifyWebhookPublicKey(body, headers, [fresh])).id).toBeTruthy();

    await endOverlap(old.id);
    await addMember(org, "After");
    const [, after] = await waitForRequests(name, 2);
    expect(after!.headers["x-verk-signature-key-id"]).toBe(fresh.id);
    expect(after!.headers["x-verk-signature-rsa-next"]).toBeUndefined();
    expect(await verifyPublicInNode(after!.body, after!.headers, fresh.pem)).toEqual({
      rsa: true,
      rsaNext: false,
      ed25519: [],
    });
    expect((await verifyPublicInNode(after!.body, after!.headers, old.pem)).rsa).toBe(false);
  });

  it("a queue batch, or a write's first attempts, read the signing keys once per algorithm, however many attempts sign", async () => {
    const org = await createOrg();
    const endpoints = ["reads-ed-1", "reads-ed-2", "reads-rsa"].map((label) => receiverEndpoint(label));
    const schemes = ["ed25519", "ed25519", "rsa-sha256"];
    const hooks = await Promise.all(
      endpoints.map((endpoint, i) =>
        createWebhook(org, { url: endpoint.url, events: ["member.added"], signatureScheme: schemes[i] }),
      ),
    );
    const keys = await signingKeys(org);
    const eventIds = [
      await insertEvent(org, "member.added", { id: org.member.id, name: "One" }),
      await insertEvent(org, "member.added", { id: org.member.id, name: "Two" }),
    ];
    const deliveryIds: string[] = [];
    for (const eventId of eventIds)
      for (const hook of hooks) deliveryIds.push(await insertDelivery(org, hook.id, eventId));

    // The real D1 binding, with every statement the batch prepares written down.
    const prepared: string[] = [];
    const countingDb = new Proxy(env.DB, {
      get(target, property) {
        if (property === "prepare") {
          return (query: string) => {
            prepared.push(query);
            return target.prepare(query);
          };
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const keyReads = () => prepared.filter((query) => /from "signing_keys"/i.test(query)).length;
    const verdicts = await attemptDeliveries(
      { ...env, DB: countingDb } as Env,
      deliveryIds.map((deliveryId) => ({ deliveryId, attempts: 1 })),
    );
    expect(verdicts).toEqual(deliveryIds.map(() => ({ ack: true })));
    // Six signed attempts, two algorithms: two reads (one per attempt was six).
    expect(keyReads()).toBe(2);

    // A write's first attempts (dispatch.ts), two events to the same three webhooks: two reads more.
    const committed = [];
    for (const name of ["Three", "Four"]) {
      const id = await insertEvent(org, "member.added", { id: org.member.id, name }, { enqueued: false });
      committed.push((await drizzle(env.DB).select().from(events).where(eq(events.id, id)))[0]!);
    }
    await dispatchCommitted({ ...env, DB: countingDb } as Env, committed);
    expect(keyReads()).toBe(4);

    // Every attempt was signed by its scheme's published key.
    for (const [i, endpoint] of endpoints.entries()) {
      const received = await waitForRequests(endpoint.name, 4);
      const pem = activeKey(keys, schemes[i] as SigningKey["algorithm"]).pem;
      for (const { body, headers } of received) {
        const verified = await verifyPublicInNode(body, headers, pem);
        expect(schemes[i] === "ed25519" ? verified.ed25519 : [verified.rsa]).toEqual([true]);
      }
    }
  });

  it("a test event (POST /v1/webhooks/{id}/test) carries the scheme's signature too", async () => {
    const org = await createOrg();
    const { name, url } = receiverEndpoint("test-event");
    const hook = await createWebhook(org, { url, events: ["task.created"], signatureScheme: "ed25519" });
    const key = activeKey(await signingKeys(org), "ed25519");
    const tested = await call<{ success: boolean }>("POST", `/v1/webhooks/${hook.id}/test`, { key: org.keys.admin });
    expect(tested.body.success).toBe(true);
    const [request] = await waitForRequests(name, 1);
    expect(request!.headers["x-verk-test"]).toBe("true");
    expect((await verifyPublicInNode(request!.body, request!.headers, key.pem)).ed25519).toEqual([true]);
  });

  it("a signing key whose private half does not decrypt: the delivery and test are not sent, and nothing secret is logged", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const org = await createOrg();
    const keys = await signingKeys(org);
    const rows = await env.DB.prepare("SELECT id, algorithm, private_key_ciphertext FROM signing_keys WHERE org_id = ?")
      .bind(org.id)
      .all<{ id: string; algorithm: string; private_key_ciphertext: string }>();
    const ed = rows.results.find((row) => row.algorithm === "ed25519")!;
    const rsa = rows.results.find((row) => row.algorithm === "rsa-sha256")!;
    // The Ed25519 key's ciphertext copied to the RSA row: bound to another row, it does not decrypt there.
    await env.DB.prepare("UPDATE signing_keys SET private_key_ciphertext = ? WHERE id = ?")
      .bind(ed.private_key_ciphertext, rsa.id)
      .run();
    const endpoint = receiverEndpoint("unreadable-key");
    const hook = await createWebhook(org, {
      url: endpoint.url,
      events: ["member.added"],
      signatureScheme: "rsa-sha256",
    });
    const eventId = await insertEvent(org, "member.added", { id: org.member.id, name: "Max Member" });
    const deliveryId = await insertDelivery(org, hook.id, eventId);
    expect(await attemptDelivery(env, deliveryId, 1)).toEqual({ ack: true });
    const attempts = await env.DB.prepare("SELECT error FROM delivery_attempts WHERE delivery_id = ?")
      .bind(deliveryId)
      .all<{ error: string }>();
    expect(attempts.results).toEqual([{ error: UNREADABLE_SIGNING_KEY_REASON }]);
    const tested = await call("POST", `/v1/webhooks/${hook.id}/test`, { key: org.keys.admin });
    expect(tested.body).toMatchObject({ success: false, statusCode: null, error: UNREADABLE_SIGNING_KEY_REASON });
    expect(await receivedBy(endpoint.name)).toEqual([]);
    // The published keys still answer (public halves only).
    expect((await signingKeys(org)).map((key) => key.id)).toEqual(keys.map((key) => key.id));

    const lines = logged.mock.calls.map((args) => args.join(" "));
    expect(lines.some((line) => line.includes(rsa.id) && line.includes(deliveryId))).toBe(true);
    for (const line of lines) expect(line).not.toContain(ed.private_key_ciphertext.slice(10, 50));
  });

  it("a second rotation within the overlap retires the oldest key at once", async () => {
    const org = await createOrg();
    const first = activeKey(await signingKeys(org), "ed25519");
    const second = (await rotateKey(org, "ed25519"))[0]!;
    const third = await rotateKey(org, "ed25519");
    expect(third.map((key) => [key.id === second.id, key.status])).toEqual([
      [false, "active"],
      [true, "previous"],
    ]);
    const ids = (await signingKeys(org)).filter((key) => key.algorithm === "ed25519").map((key) => key.id);
    expect(ids).toEqual([third[0]!.id, second.id]);
    expect(ids).not.toContain(first.id);
  });

  it("an organization's keys are its own: never published to, nor signing for, another", async () => {
    const a = await createOrg();
    const b = await createOrg();
    const endpointB = receiverEndpoint("tenant-b");
    await createWebhook(b, { url: endpointB.url, events: ["member.added"], signatureScheme: "rsa-sha256" });
    const keysA = await signingKeys(a);
    const keysB = await signingKeys(b);
    const idsA = keysA.map((key) => key.id);
    expect(keysB.map((key) => key.id).some((id) => idsA.includes(id))).toBe(false);

    // A rotation in A changes nothing in B.
    await rotateKey(a, "rsa-sha256");
    expect((await signingKeys(b)).map((key) => key.id)).toEqual(keysB.map((key) => key.id));

    await addMember(b, "Tenant");
    const [request] = await waitForRequests(endpointB.name, 1);
    const rsaA = activeKey(keysA, "rsa-sha256");
    const rsaB = activeKey(keysB, "rsa-sha256");
    expect(request!.headers["x-verk-signature-key-id"]).toBe(rsaB.id);
    expect(verifySignature(rsaB.pem, request!.body, request!.headers["x-verk-signature-rsa"]!)).toBe(true);
    expect(verifySignature(rsaA.pem, request!.body, request!.headers["x-verk-signature-rsa"]!)).toBe(false);
  });

  it("rotate validates its algorithm (400, nothing rotated) and needs webhooks:write", async () => {
    const org = await createOrg();
    const before = (await signingKeys(org)).map((key) => key.id);
    for (const body of [{ algorithm: "hmac-sha256" }, { algorithm: "dsa" }, {}, { algorithm: "ed25519", extra: 1 }]) {
      const res = await call("POST", "/v1/webhooks/signing-keys/rotate", { key: org.keys.admin, body });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: { code: "VALIDATION_ERROR" } });
    }
    const readOnly = await call("POST", "/v1/webhooks/signing-keys/rotate", {
      key: org.keys.read,
      body: { algorithm: "ed25519" },
    });
    expect(readOnly.status).toBe(403);
    expect((await signingKeys(org)).map((key) => key.id)).toEqual(before);
  });

  it("no private key appears in a response, a delivery's headers or a log line", async () => {
    const logged: string[] = [];
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        logged.push(args.map(String).join(" "));
      });
    }
    const org = await createOrg();
    const { name, url } = receiverEndpoint("no-private");
    await createWebhook(org, { url, events: ["member.added"], signatureScheme: "ed25519" });
    const published = JSON.stringify(await signingKeys(org));
    const rotated = JSON.stringify(await rotateKey(org, "rsa-sha256"));
    await addMember(org, "Private");
    const [request] = await waitForRequests(name, 1);
    const attempts = await call("GET", "/v1/webhooks", { key: org.keys.admin });

    const rows = await env.DB.prepare("SELECT id, private_key_ciphertext FROM signing_keys WHERE org_id = ?")
      .bind(org.id)
      .all<{ id: string; private_key_ciphertext: string }>();
    expect(rows.results.length).toBeGreaterThanOrEqual(3);
    const seen = [published, rotated, JSON.stringify(request!.headers), JSON.stringify(attempts.body), ...logged].join(
      "\n",
    );
    for (const row of rows.results) {
      const pkcs8 = await decryptSecret(env, row.private_key_ciphertext, { signingKeyId: row.id });
      // The PKCS #8 base64, and any long piece of it.
      expect(seen).not.toContain(pkcs8.slice(20, 60));
      expect(seen).not.toContain(row.private_key_ciphertext.slice(10, 50));
    }
  });
});

describe("webhooks: signing keys under a WEBHOOK_ENCRYPTION_KEY rotation", () => {
  it("the re-encryption cron moves every signing key's private half to the new key; it still signs", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const org = await createOrg();
    const published = await signingKeys(org);
    const OLD_KEY = env.WEBHOOK_ENCRYPTION_KEY;
    const NEW_KEY = bytesToBase64(crypto.getRandomValues(new Uint8Array(32)));
    const rotatingEnv = { ...env, WEBHOOK_ENCRYPTION_KEY: NEW_KEY, WEBHOOK_ENCRYPTION_KEY_PREVIOUS: OLD_KEY } as Env;
    const rotatedEnv = { ...env, WEBHOOK_ENCRYPTION_KEY: NEW_KEY, WEBHOOK_ENCRYPTION_KEY_PREVIOUS: undefined } as Env;
    const stored = async () =>
      (
        await env.DB.prepare("SELECT id, private_key_ciphertext FROM signing_keys WHERE org_id = ? ORDER BY algorithm")
          .bind(org.id)
          .all<{ id: string; private_key_ciphertext: string }>()
      ).results;
    const before = await stored();
    const oldId = await encryptionKeyId(OLD_KEY);
    const newId = await encryptionKeyId(NEW_KEY);
    expect(before.map((row) => storedKeyId(row.private_key_ciphertext))).toEqual([oldId, oldId]);

    const result = await reencryptWebhookSecrets(rotatingEnv, 1);
    expect(result.reencrypted).toBeGreaterThanOrEqual(2);
    expect(result.skipped).toBe(0);
    const after = await stored();
    expect(after.map((row) => storedKeyId(row.private_key_ciphertext))).toEqual([newId, newId]);
    // Nothing left to do on the next run.
    expect(await reencryptWebhookSecrets(rotatingEnv, 1)).toMatchObject({ reencrypted: 0, skipped: 0 });

    // Without the previous key, each private half decrypts to what it was and signs what its published key verifies.
    for (const [i, row] of after.entries()) {
      const pkcs8 = await decryptSecret(rotatedEnv, row.private_key_ciphertext, { signingKeyId: row.id });
      expect(pkcs8).toBe(await decryptSecret(env, before[i]!.private_key_ciphertext, { signingKeyId: row.id }));
      const key = published.find((k) => k.id === row.id)!;
      const algorithm =
        key.algorithm === "ed25519" ? { name: "Ed25519" } : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
      const privateKey = await crypto.subtle.importKey("pkcs8", bytesOf(pkcs8), algorithm, false, ["sign"]);
      const message = encoder.encode("re-encrypted");
      const signature = bytesToBase64(new Uint8Array(await crypto.subtle.sign(algorithm, privateKey, message)));
      if (key.algorithm === "rsa-sha256") expect(verifySignature(key.pem, "re-encrypted", signature)).toBe(true);
      else {
        const publicKey = await crypto.subtle.importKey("jwk", key.jwk as unknown as JsonWebKey, algorithm, false, [
          "verify",
        ]);
        expect(await crypto.subtle.verify(algorithm, publicKey, bytesOf(signature), message)).toBe(true);
      }
    }
  });
});
