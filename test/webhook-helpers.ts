import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { Delivery, Page, User, WebhookPayload, WebhookWithSecret } from "./api-types";
import { call, type TestOrg } from "./harness";

/** A request the Node receiver recorded: headers as received, the raw body, its arrival (ms). */
export interface ReceivedRequest {
  headers: Record<string, string>;
  body: string;
  receivedAt: number;
}

export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  delayMs?: number;
}

/** A public URL the webhook policy admits, for webhooks that are never sent to. */
export const HOOK_URL = "https://hooks.example.com/verk";

/** A fresh endpoint on the real receiver (test/webhook-receiver.setup.mjs); its name keeps tests apart. */
export function receiverEndpoint(label: string): { name: string; url: string } {
  const name = `${label}-${crypto.randomUUID()}`;
  return { name, url: `${env.TEST_RECEIVER_URL}/hook/${name}` };
}

export async function scriptReceiver(name: string, responses: ScriptedResponse[], afterwards?: ScriptedResponse) {
  const res = await fetch(`${env.TEST_RECEIVER_URL}/control/${name}`, {
    method: "PUT",
    body: JSON.stringify({ responses, afterwards }),
  });
  if (res.status !== 204) throw new Error(`receiver script failed: ${res.status}`);
}

export async function receivedBy(name: string): Promise<ReceivedRequest[]> {
  return (await fetch(`${env.TEST_RECEIVER_URL}/control/${name}`)).json();
}

/** Verifies a delivery in Node with the seeds' own code and the standardwebhooks package. */
export async function verifyInNode(
  body: string,
  headers: Record<string, string>,
  secret: string,
): Promise<{ seed: boolean; standard: boolean }> {
  const res = await fetch(`${env.TEST_RECEIVER_URL}/verify`, {
    method: "POST",
    body: JSON.stringify({ body, headers, secret }),
  });
  return res.json();
}

/**
 * Verifies a delivery's public-key signatures in Node under one published PEM:
 * `X-Verk-Signature-RSA` and `-Next` with seed 003's snippet, each `v1a,` entry with
 * Node's Ed25519 `crypto.verify` (scripts/webhook-receiver.mjs).
 */
export async function verifyPublicInNode(
  body: string,
  headers: Record<string, string>,
  pem: string,
): Promise<{ rsa: boolean; rsaNext: boolean; ed25519: boolean[] }> {
  const res = await fetch(`${env.TEST_RECEIVER_URL}/verify-public`, {
    method: "POST",
    body: JSON.stringify({ body, headers, pem }),
  });
  return res.json();
}

/** Polls `probe` until it returns a value (not undefined), or fails after `timeoutMs`. */
export async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 25_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until the endpoint has received at least `count` requests. */
export function waitForRequests(name: string, count: number, timeoutMs?: number): Promise<ReceivedRequest[]> {
  return waitFor(
    async () => {
      const got = await receivedBy(name);
      return got.length >= count ? got : undefined;
    },
    `${count} request(s) at ${name}`,
    timeoutMs,
  );
}

export async function createWebhook(org: TestOrg, body: Record<string, unknown>): Promise<WebhookWithSecret> {
  const res = await call<WebhookWithSecret>("POST", "/v1/webhooks", { key: org.keys.admin, body });
  if (res.status !== 201) throw new Error(`webhook create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

// Real deliveries: the API commits an event, the local queue runs the Worker's own
// consumer, which POSTs to the receiver. These read what arrived and the delivery log.

export async function addMember(org: TestOrg, name = "Ada"): Promise<User> {
  const res = await call<User>("POST", "/v1/users", {
    key: org.keys.admin,
    body: { name, email: `${name.toLowerCase()}-${crypto.randomUUID()}@example.com` },
  });
  expect(res.status).toBe(201);
  return res.body;
}

export function payloadOf(request: ReceivedRequest): WebhookPayload {
  return JSON.parse(request.body);
}

export async function deliveriesOf(org: TestOrg, webhookId: string, query = ""): Promise<Delivery[]> {
  const res = await call<Page<Delivery>>("GET", `/v1/webhooks/${webhookId}/deliveries${query}`, {
    key: org.keys.admin,
  });
  expect(res.status).toBe(200);
  return res.body.data;
}

/** Waits until the webhook's delivery log holds a delivery in `status` (the log is written after the POST). */
export function settledDelivery(org: TestOrg, webhookId: string, status: string) {
  return waitFor(async () => (await deliveriesOf(org, webhookId, `?status=${status}`))[0], `a ${status} delivery`);
}
