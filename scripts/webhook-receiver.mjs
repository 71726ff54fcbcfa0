// A real HTTP webhook receiver on 127.0.0.1 for tests, the e2e run and the benchmark.
//
//   POST /hook/<name>        records the request (headers, raw body, arrival time) and
//                            answers with the next scripted response for <name>
//                            (200 "ok" once the script is used up)
//   PUT  /control/<name>     {"responses": [{"status", "headers"?, "body"?, "delayMs"?}, …],
//                            "afterwards"?: {…same…}, "failRate"?: 0…1, "failWith"?: {…same…}}
//                            scripts the answers, in order; `afterwards` answers every request
//                            after the list; once the list is used up, a random `failRate`
//                            share of requests gets `failWith` (default 500) instead
//   GET  /control/<name>     the requests received so far, oldest first
//   DELETE /control/<name>   forgets the script and the requests
//   POST /verify             {"body", "headers", "secret"} → {"seed", "standard"}: whether
//                            the delivery verifies with the seeds' own Node code and with
//                            the `standardwebhooks` package, run here in Node
//   POST /verify-public      {"body", "headers", "pem"} → {"rsa", "rsaNext", "ed25519"}: whether
//                            X-Verk-Signature-RSA and X-Verk-Signature-RSA-Next verify with
//                            seed 003's snippet under that PEM, and which `v1a,` entries of
//                            webhook-signature verify with Node's Ed25519 (one boolean each)
import crypto from "node:crypto";
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

/**
 * Seed 001's Node verification, as customers run it: HMAC-SHA256 hex of the raw body
 * keyed with the secret, compared timing-safe with the `X-Verk-Signature` header.
 */
export function verifyWebhook(payload, signature, secret) {
  const expectedSignature = `sha256=${crypto.createHmac("sha256", secret).update(payload).digest("hex")}`;
  const given = Buffer.from(String(signature ?? ""));
  const expected = Buffer.from(expectedSignature);
  // timingSafeEqual throws on different lengths; a wrong-length signature is simply wrong.
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

/**
 * Standard Webhooks verification with the `standardwebhooks` package: a `whsec_`
 * secret as is, any other (customer-chosen) secret in the package's raw format.
 */
export function verifyStandard(payload, headers, secret) {
  const webhook = secret.startsWith("whsec_") ? new Webhook(secret) : new Webhook(secret, { format: "raw" });
  try {
    webhook.verify(payload, headers);
    return true;
  } catch {
    return false;
  }
}

/**
 * Seed 003's Node verification, as its receivers run it: an RSA-SHA256 signature
 * (base64) over the raw body, checked with the sender's public key (PEM).
 */
export function verifySignature(publicKey, payload, signature) {
  const verifier = crypto.createVerify("SHA256");
  verifier.update(payload);
  verifier.end();
  return verifier.verify(publicKey, signature, "base64");
}

/** Seed 003's check of one header, false (not a throw) when the header is missing or the key is not RSA. */
export function verifyRsaHeader(publicKeyPem, payload, signature) {
  if (typeof signature !== "string") return false;
  try {
    return verifySignature(publicKeyPem, payload, signature);
  } catch {
    return false;
  }
}

/**
 * Standard Webhooks' asymmetric signatures: each `v1a,<base64>` entry of
 * `webhook-signature`, an Ed25519 signature of `id.timestamp.body`, checked with
 * Node's `crypto.verify(null, data, publicKey, signature)`. One boolean per entry.
 */
export function verifyEd25519Entries(publicKeyPem, payload, headers) {
  const key = crypto.createPublicKey(publicKeyPem);
  const content = Buffer.from(`${headers["webhook-id"]}.${headers["webhook-timestamp"]}.${payload}`);
  return String(headers["webhook-signature"] ?? "")
    .split(" ")
    .filter((entry) => entry.startsWith("v1a,"))
    .map((entry) => {
      try {
        return crypto.verify(null, content, key, Buffer.from(entry.slice(4), "base64"));
      } catch {
        return false;
      }
    });
}

/**
 * @typedef {{ status: number, headers?: Record<string, string>, body?: string, delayMs?: number }} ScriptedResponse
 * @typedef {{ method: string, path: string, headers: Record<string, string>, body: string, receivedAt: number }} ReceivedRequest
 * @typedef {{ failRate?: number, failWith?: ScriptedResponse }} RandomFailures
 */

const RANDOM_FAILURE = { status: 500, body: "random failure" };

/**
 * `onRequest` is called as each request arrives, with the answer it is about to get.
 * @param {{ port?: number, onRequest?: (name: string, request: ReceivedRequest, answer: ScriptedResponse) => void }} [options]
 */
export async function startReceiver(options = {}) {
  /** @type {Map<string, { script: ScriptedResponse[], afterwards?: ScriptedResponse, failRate?: number, failWith?: ScriptedResponse, received: ReceivedRequest[] }>} */
  const endpoints = new Map();
  const endpoint = (name) => {
    let found = endpoints.get(name);
    if (!found) {
      found = { script: [], received: [] };
      endpoints.set(name, found);
    }
    return found;
  };

  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", async () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const url = new URL(req.url ?? "/", "http://receiver");
      const [, kind, ...rest] = url.pathname.split("/");
      const name = decodeURIComponent(rest.join("/"));
      const send = (status, body = "", headers = {}) => {
        // No connection reuse: a pooled connection the server closes for idleness just as
        // workerd reuses it fails that request with "Network connection lost".
        res.writeHead(status, { "Content-Type": "text/plain", Connection: "close", ...headers });
        res.end(body);
      };
      try {
        if (kind === "hook" && req.method === "POST") {
          const state = endpoint(name);
          const request = {
            method: req.method,
            path: url.pathname,
            headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
            body: raw,
            receivedAt: Date.now(),
          };
          state.received.push(request);
          const randomFailure =
            state.script.length === 0 && state.failRate && Math.random() < state.failRate
              ? (state.failWith ?? RANDOM_FAILURE)
              : undefined;
          const answer = state.script.shift() ?? randomFailure ?? state.afterwards ?? { status: 200, body: "ok" };
          options.onRequest?.(name, request, answer);
          if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
          if (!res.destroyed) send(answer.status, answer.body ?? "", answer.headers ?? {});
          return;
        }
        if (kind === "verify" && req.method === "POST") {
          const { body, headers, secret } = JSON.parse(raw);
          const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
          const result = {
            seed: verifyWebhook(body, lower["x-verk-signature"], secret),
            standard: verifyStandard(body, lower, secret),
          };
          return send(200, JSON.stringify(result), { "Content-Type": "application/json" });
        }
        if (kind === "verify-public" && req.method === "POST") {
          const { body, headers, pem } = JSON.parse(raw);
          const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
          const isEd25519 = crypto.createPublicKey(pem).asymmetricKeyType === "ed25519";
          const result = {
            rsa: !isEd25519 && verifyRsaHeader(pem, body, lower["x-verk-signature-rsa"]),
            rsaNext: !isEd25519 && verifyRsaHeader(pem, body, lower["x-verk-signature-rsa-next"]),
            ed25519: isEd25519 ? verifyEd25519Entries(pem, body, lower) : [],
          };
          return send(200, JSON.stringify(result), { "Content-Type": "application/json" });
        }
        if (kind === "control") {
          if (req.method === "PUT") {
            const config = raw ? JSON.parse(raw) : {};
            const state = endpoint(name);
            state.script = [...(config.responses ?? [])];
            state.afterwards = config.afterwards;
            state.failRate = config.failRate;
            state.failWith = config.failWith;
            return send(204);
          }
          if (req.method === "GET") {
            return send(200, JSON.stringify(endpoints.get(name)?.received ?? []), {
              "Content-Type": "application/json",
            });
          }
          if (req.method === "DELETE") {
            endpoints.delete(name);
            return send(204);
          }
        }
        send(404, "not found");
      } catch (error) {
        send(400, String(error));
      }
    });
  });
  // Receivers that hold a request open (timeout tests) must not keep the process alive.
  server.keepAliveTimeout = 1000;

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    /** @param {string} name */
    received: (name) => endpoints.get(name)?.received ?? [],
    /** @param {string} name @param {ScriptedResponse[]} responses @param {ScriptedResponse} [afterwards] @param {RandomFailures} [random] */
    script: (name, responses, afterwards, random = {}) => {
      const state = endpoint(name);
      state.script = [...responses];
      state.afterwards = afterwards;
      state.failRate = random.failRate;
      state.failWith = random.failWith;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve(undefined));
      }),
  };
}
