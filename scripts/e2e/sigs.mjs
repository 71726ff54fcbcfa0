// e2e step: public-key webhook signatures (README "Signatures") under wrangler dev.
// Webhooks with the `ed25519` and `rsa-sha256` schemes; the published keys from
// GET /v1/webhooks/signing-keys; the real receiver's deliveries verified in Node with
// seed 003's snippet (RSA, PEM) and Node's Ed25519 `crypto.verify`; then a rotation of
// both keys, during whose overlap both signatures arrive.
import crypto from "node:crypto";
import { verifySignature, verifyStandard, verifyWebhook } from "../webhook-receiver.mjs";
import { apiClient } from "./api.mjs";

/** Each `v1a,` entry of webhook-signature checked with Node's Ed25519 verify: one boolean per entry. */
function ed25519Entries(request, pem) {
  const ed25519PublicKey = crypto.createPublicKey(pem);
  const data = Buffer.from(`${request.headers["webhook-id"]}.${request.headers["webhook-timestamp"]}.${request.body}`);
  return request.headers["webhook-signature"]
    .split(" ")
    .filter((entry) => entry.startsWith("v1a,"))
    .map((entry) => crypto.verify(null, data, ed25519PublicKey, Buffer.from(entry.slice(4), "base64")));
}

/**
 * @param {{ base: string, key: string, receiver: Awaited<ReturnType<typeof import("../webhook-receiver.mjs").startReceiver>>,
 *   step: (text: string) => void, check: (condition: unknown, message: string) => void,
 *   waitFor: (probe: () => unknown, what: string, timeoutMs?: number) => Promise<any> }} ctx
 */
export async function publicKeySignatures({ base, key, receiver, step, check, waitFor }) {
  const { request } = apiClient(base, key);
  async function api(method, path, body) {
    const res = await request(method, path, { body });
    check(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }
  const arrivals = (name, count) =>
    waitFor(() => {
      const got = receiver.received(name);
      return got.length >= count ? got : undefined;
    }, `${count} signed deliveries at ${name}`);
  const activeOf = (keys, algorithm) => keys.find((k) => k.algorithm === algorithm && k.status === "active");

  step(
    "public-key signatures: webhooks with the ed25519 and rsa-sha256 schemes, keys from GET /v1/webhooks/signing-keys",
  );
  const hook = (name, signatureScheme) =>
    api("POST", "/v1/webhooks", { url: `${receiver.url}/hook/${name}`, events: ["member.added"], signatureScheme });
  const ed = await hook("sigs-ed25519", "ed25519");
  const rsa = await hook("sigs-rsa", "rsa-sha256");
  check(ed.signatureScheme === "ed25519" && rsa.signatureScheme === "rsa-sha256", "schemes as created");
  const { data: keys } = await api("GET", "/v1/webhooks/signing-keys");
  const edKey = activeOf(keys, "ed25519");
  const rsaKey = activeOf(keys, "rsa-sha256");
  check(edKey && rsaKey, `published keys: ${JSON.stringify(keys.map((k) => [k.algorithm, k.status]))}`);
  check(!JSON.stringify(keys).includes("PRIVATE"), "no private key published");

  await api("POST", "/v1/users", { name: "Sig Nature", email: "sigs-1@e2e.example" });
  const [edFirst] = await arrivals("sigs-ed25519", 1);
  const [rsaFirst] = await arrivals("sigs-rsa", 1);
  check(
    verifySignature(rsaKey.pem, rsaFirst.body, rsaFirst.headers["x-verk-signature-rsa"]),
    "rsa: seed 003's snippet verifies X-Verk-Signature-RSA with the published PEM",
  );
  check(rsaFirst.headers["x-verk-signature-key-id"] === rsaKey.id, "rsa: X-Verk-Signature-Key-Id");
  check(verifyWebhook(rsaFirst.body, rsaFirst.headers["x-verk-signature"], rsa.secret), "rsa: HMAC still sent");
  check(ed25519Entries(edFirst, edKey.pem).join() === "true", "ed25519: the v1a entry verifies with the published PEM");
  check(verifyStandard(edFirst.body, edFirst.headers, ed.secret), "ed25519: the v1 (HMAC) entry still verifies");
  check(
    !verifySignature(rsaKey.pem, `${rsaFirst.body} `, rsaFirst.headers["x-verk-signature-rsa"]),
    "rsa: a changed body fails",
  );
  console.log("  ✓ Ed25519 (Node crypto.verify) and RSA (seed 003's snippet) verify real deliveries");

  step("rotating both signing keys: during the overlap both signatures arrive");
  const [edNew, edOld] = (await api("POST", "/v1/webhooks/signing-keys/rotate", { algorithm: "ed25519" })).data;
  const [rsaNew, rsaOld] = (await api("POST", "/v1/webhooks/signing-keys/rotate", { algorithm: "rsa-sha256" })).data;
  check(edOld.id === edKey.id && edOld.status === "previous" && edOld.expiresAt, "ed25519: the old key is previous");
  check(rsaOld.id === rsaKey.id && rsaOld.status === "previous", "rsa: the old key is previous");
  await api("POST", "/v1/users", { name: "Rota Tion", email: "sigs-2@e2e.example" });
  const [, edSecond] = await arrivals("sigs-ed25519", 2);
  const [, rsaSecond] = await arrivals("sigs-rsa", 2);
  check(ed25519Entries(edSecond, edNew.pem).join() === "true,false", "ed25519: the first v1a is the new key's");
  check(ed25519Entries(edSecond, edOld.pem).join() === "false,true", "ed25519: the second v1a is the old key's");
  check(
    verifySignature(rsaOld.pem, rsaSecond.body, rsaSecond.headers["x-verk-signature-rsa"]),
    "rsa: X-Verk-Signature-RSA still verifies with the old PEM during the overlap",
  );
  check(
    verifySignature(rsaNew.pem, rsaSecond.body, rsaSecond.headers["x-verk-signature-rsa-next"]),
    "rsa: X-Verk-Signature-RSA-Next verifies with the new PEM",
  );
  check(rsaSecond.headers["x-verk-signature-key-id"] === `${rsaOld.id} ${rsaNew.id}`, "rsa: both key ids named");
  console.log("  ✓ after a rotation, receivers holding either key verify");
}
