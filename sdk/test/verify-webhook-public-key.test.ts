import { createSign, generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { verifyWebhookPublicKey } from "../src/index";
import { refusal } from "./refusal";

// Public-key signatures as the server makes them (README "Public-key signatures"),
// made here with Node's own crypto: Ed25519 `v1a,` entries over `id.timestamp.body`,
// and X-Verk-Signature-RSA over the body. test/webhooks.public-key-signatures.test.ts
// checks the helper against real deliveries from the Worker.
const BODY = '{"id":"evt_1","event":"task.created","data":{"title":"Ship it ✓"}}';
const ID = "del_1";
const TIMESTAMP = 1767225600;
const NOW = TIMESTAMP * 1000 + 30_000;

function ed25519Key() {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
  const jwk = publicKey.export({ format: "jwk" }) as Record<string, unknown>;
  return { algorithm: "ed25519" as const, pem, jwk, privateKey };
}

function rsaKey() {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
  return { algorithm: "rsa-sha256" as const, pem, privateKey };
}

const v1a = (key: ReturnType<typeof ed25519Key>, body = BODY, timestamp = TIMESTAMP) =>
  `v1a,${sign(null, Buffer.from(`${ID}.${timestamp}.${body}`), key.privateKey).toString("base64")}`;
const rsaSignature = (key: ReturnType<typeof rsaKey>, body = BODY) =>
  createSign("SHA256").update(body).sign(key.privateKey, "base64");

describe("verifyWebhookPublicKey", () => {
  const ed = ed25519Key();
  const edNext = ed25519Key();
  const rsa = rsaKey();
  const rsaNext = rsaKey();
  const edHeaders = (signature: string, timestamp = TIMESTAMP) => ({
    "webhook-id": ID,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": `v1,aGVsbG8= ${signature}`,
  });

  it("verifies an Ed25519 v1a entry with the key's JWK or PEM, and returns the event", async () => {
    const headers = edHeaders(v1a(ed));
    expect((await verifyWebhookPublicKey(BODY, headers, { algorithm: "ed25519", jwk: ed.jwk }, { now: NOW })).id).toBe(
      "evt_1",
    );
    expect((await verifyWebhookPublicKey(BODY, headers, { algorithm: "ed25519", pem: ed.pem }, { now: NOW })).id).toBe(
      "evt_1",
    );
    expect(await refusal(verifyWebhookPublicKey(`${BODY} `, headers, ed, { now: NOW }))).toBe("INVALID_SIGNATURE");
    expect(await refusal(verifyWebhookPublicKey(BODY, headers, edNext, { now: NOW }))).toBe("INVALID_SIGNATURE");
    expect(await refusal(verifyWebhookPublicKey(BODY, headers, ed, { now: NOW + 600_000 }))).toBe(
      "TIMESTAMP_OUT_OF_TOLERANCE",
    );
  });

  it("during a rotation, two v1a entries: either key verifies", async () => {
    const headers = {
      ...edHeaders(""),
      "webhook-signature": `v1,aGVsbG8= ${v1a(edNext)} ${v1a(ed)}`,
    };
    await expect(verifyWebhookPublicKey(BODY, headers, ed, { now: NOW })).resolves.toBeTruthy();
    await expect(verifyWebhookPublicKey(BODY, headers, edNext, { now: NOW })).resolves.toBeTruthy();
  });

  it("verifies X-Verk-Signature-RSA, and -Next during a rotation, with the PEM", async () => {
    const headers = { "X-Verk-Signature-RSA": rsaSignature(rsa) };
    expect((await verifyWebhookPublicKey(BODY, headers, rsa)).id).toBe("evt_1");
    expect(await refusal(verifyWebhookPublicKey(BODY, headers, rsaNext))).toBe("INVALID_SIGNATURE");
    expect(await refusal(verifyWebhookPublicKey(BODY.replace("✓", "x"), headers, rsa))).toBe("INVALID_SIGNATURE");
    const rotating = new Headers({
      "X-Verk-Signature-RSA": rsaSignature(rsa),
      "X-Verk-Signature-RSA-Next": rsaSignature(rsaNext),
    });
    await expect(verifyWebhookPublicKey(BODY, rotating, rsaNext)).resolves.toBeTruthy();
    await expect(verifyWebhookPublicKey(BODY, rotating, [rsa, rsaNext])).resolves.toBeTruthy();
  });

  it("refuses a delivery without a signature for the keys given", async () => {
    expect(await refusal(verifyWebhookPublicKey(BODY, { "X-Verk-Signature": "sha256=00" }, [ed, rsa]))).toBe(
      "MISSING_SIGNATURE",
    );
    expect(await refusal(verifyWebhookPublicKey(BODY, edHeaders(v1a(ed)), rsa))).toBe("MISSING_SIGNATURE");
    expect(await refusal(verifyWebhookPublicKey(BODY, { "X-Verk-Signature-RSA": "not base64!" }, rsa))).toBe(
      "INVALID_SIGNATURE",
    );
  });
});
