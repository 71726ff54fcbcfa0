import { createRoute, z } from "@hono/zod-openapi";
import { SIGNING_ALGORITHMS } from "../../core/enums";
import { authErrors, jsonBody, jsonResponse, needs } from "../../http/openapi";
import { IdempotencyHeaders } from "../common";
import { Timestamp } from "../schemas";

const SigningAlgorithm = z.enum(SIGNING_ALGORITHMS).openapi({
  description:
    "`ed25519`: Standard Webhooks `v1a,` signatures in `webhook-signature`; `rsa-sha256`: `X-Verk-Signature-RSA` (RSASSA-PKCS1-v1_5, SHA-256, over the raw body)",
});

export const SigningKeySchema = z
  .object({
    id: z.string().openapi({ example: "sk_4Fh8Lq2Nw9Xt3Zr7Bc1M", description: "Named by `X-Verk-Signature-Key-Id`" }),
    algorithm: SigningAlgorithm,
    status: z.enum(["active", "previous"]).openapi({
      description: "`previous`: replaced by a rotation, still signing beside the active key until `expiresAt`",
    }),
    expiresAt: Timestamp.nullable().openapi({ description: "When a previous key stops signing; null while active" }),
    createdAt: Timestamp,
    pem: z.string().openapi({
      description: "The public key, SPKI in PEM: what Node's `crypto.createVerify('SHA256').verify(pem, …)` takes",
      example: "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA…\n-----END PUBLIC KEY-----\n",
    }),
    jwk: z.record(z.string(), z.unknown()).openapi({
      description: "The public key as a JWK (RFC 7517), with `kid` = `id`",
      example: {
        kty: "OKP",
        crv: "Ed25519",
        x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
        kid: "sk_…",
        use: "sig",
        alg: "EdDSA",
      },
    }),
  })
  .openapi("SigningKey");

export const SigningKeyListSchema = z.object({ data: z.array(SigningKeySchema) }).openapi("SigningKeyList");

export const RotateSigningKeySchema = z.strictObject({ algorithm: SigningAlgorithm }).openapi("RotateSigningKey");

const tags = ["Webhooks"];

export const listSigningKeys = createRoute({
  operationId: "listWebhookSigningKeys",
  method: "get",
  path: "/signing-keys",
  tags,
  summary: "The organization's public keys for webhook signatures (admin)",
  description:
    "The public halves of the organization's Ed25519 and RSA signing keys, each made on first need: the active key of each algorithm and, during a rotation's overlap, the previous one. Private halves are never returned. RSA during an overlap: `X-Verk-Signature-RSA` stays signed by the `previous` key and `X-Verk-Signature-RSA-Next` by the `active` one, so a receiver set up during the overlap should pin the `previous` PEM (switching when its `expiresAt` passes) or accept either key. Ed25519 during an overlap: one `v1a,` entry per key, `active` first.",
  ...needs("webhooks:read"),
  responses: { 200: jsonResponse(SigningKeyListSchema, "The published keys"), ...authErrors },
});

export const rotateSigningKey = createRoute({
  operationId: "rotateWebhookSigningKey",
  method: "post",
  path: "/signing-keys/rotate",
  tags,
  summary: "Make a new signing key pair of an algorithm (admin)",
  description:
    "The new key is active at once; the key it replaces keeps signing beside it for the overlap (`WEBHOOK_SECRET_GRACE_SECONDS`, 24 h by default), then is no longer used nor published. A key still in an earlier overlap stops at once. RSA during an overlap: `X-Verk-Signature-RSA` stays signed by the `previous` key and `X-Verk-Signature-RSA-Next` by the `active` one, so a receiver set up during the overlap should pin the `previous` PEM (switching when its `expiresAt` passes) or accept either key. Ed25519 during an overlap: one `v1a,` entry per key, `active` first.",
  ...needs("webhooks:write"),
  request: { body: jsonBody(RotateSigningKeySchema), headers: IdempotencyHeaders },
  responses: { 200: jsonResponse(SigningKeyListSchema, "The new key, then the one it replaced"), ...authErrors },
});
