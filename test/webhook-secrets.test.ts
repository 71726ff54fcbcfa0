import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Env } from "../src/env";
import { attemptDelivery } from "../src/webhooks/attempts";
import { UNREADABLE_SECRET_REASON } from "../src/webhooks/deliver";
import { reencryptWebhookSecrets } from "../src/webhooks/reencrypt";
import {
  bytesToBase64,
  decryptSecret,
  encryptionKeyId,
  encryptSecret,
  type SecretSlot,
  storedKeyId,
  UnreadableSecretError,
} from "../src/webhooks/secrets";
import type { WebhookWithSecret } from "./api-types";
import { call, createOrg, type TestOrg } from "./harness";
import { createWebhook, receivedBy, receiverEndpoint, verifyInNode, waitForRequests } from "./webhook-helpers";

// Webhook secrets at rest: each ciphertext is bound to its webhook and column (AES-GCM
// additional data) and names the key that encrypted it, so WEBHOOK_ENCRYPTION_KEY can
// be rotated. The Worker's own env holds the test key; a rotation is simulated by
// calling the functions with env-like objects holding other keys. Storage is this
// file's own, so re-encrypting "every row" touches no other test file's webhooks.

const OLD_KEY = env.WEBHOOK_ENCRYPTION_KEY;
const NEW_KEY = bytesToBase64(crypto.getRandomValues(new Uint8Array(32)));
/** Mid-rotation: the new key encrypts, the old one still decrypts. */
const rotatingEnv = { ...env, WEBHOOK_ENCRYPTION_KEY: NEW_KEY, WEBHOOK_ENCRYPTION_KEY_PREVIOUS: OLD_KEY } as Env;
/** After the rotation: the previous key removed. */
const rotatedEnv = { ...env, WEBHOOK_ENCRYPTION_KEY: NEW_KEY, WEBHOOK_ENCRYPTION_KEY_PREVIOUS: undefined } as Env;

afterEach(() => {
  vi.restoreAllMocks();
});

async function storedSecrets(webhookId: string) {
  const row = await env.DB.prepare("SELECT secret_ciphertext, previous_secret_ciphertext FROM webhooks WHERE id = ?")
    .bind(webhookId)
    .first<{ secret_ciphertext: string; previous_secret_ciphertext: string | null }>();
  return { current: row!.secret_ciphertext, previous: row!.previous_secret_ciphertext };
}

function decrypt(keys: Env, stored: string, webhookId: string, slot: SecretSlot) {
  return decryptSecret(keys, stored, { webhookId, slot });
}

async function rotate(org: TestOrg, webhookId: string): Promise<WebhookWithSecret> {
  const res = await call<WebhookWithSecret>("POST", `/v1/webhooks/${webhookId}/rotate-secret`, { key: org.keys.admin });
  expect(res.status).toBe(200);
  return res.body;
}

/** An event and a pending delivery of it to the webhook, written straight to D1 (never enqueued). */
async function pendingDelivery(org: TestOrg, webhookId: string): Promise<string> {
  const suffix = crypto.randomUUID().replaceAll("-", "").slice(0, 20);
  const now = new Date().toISOString();
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO events (id, org_id, type, resource_type, resource_id, data, changes, actor_user_id, actor_api_key_id, created_at, enqueued_at)
       VALUES (?, ?, 'member.added', 'member', ?, ?, NULL, ?, ?, ?, ?)`,
    ).bind(
      `evt_${suffix}`,
      org.id,
      org.member.id,
      JSON.stringify({ id: org.member.id, name: "Max Member" }),
      org.owner.id,
      org.keyIds.admin,
      now,
      now,
    ),
    env.DB.prepare(
      "INSERT INTO deliveries (id, org_id, webhook_id, event_id, event_type, status, created_at, updated_at) VALUES (?, ?, ?, ?, 'member.added', 'pending', ?, ?)",
    ).bind(`del_${suffix}`, org.id, webhookId, `evt_${suffix}`, now, now),
  ]);
  return `del_${suffix}`;
}

async function deliveryOutcome(deliveryId: string) {
  const delivery = await env.DB.prepare("SELECT status FROM deliveries WHERE id = ?")
    .bind(deliveryId)
    .first<{ status: string }>();
  const attempts = await env.DB.prepare("SELECT error, status_code FROM delivery_attempts WHERE delivery_id = ?")
    .bind(deliveryId)
    .all<{ error: string | null; status_code: number | null }>();
  return { status: delivery!.status, attempts: attempts.results };
}

describe("webhook secrets: bound to their row and column", () => {
  it("a ciphertext copied to another webhook's row does not decrypt there; its delivery and test fail cleanly, reads still answer", async () => {
    const org = await createOrg();
    const a = await createWebhook(org, { url: receiverEndpoint("copy-a").url, events: ["member.added"] });
    const bEndpoint = receiverEndpoint("copy-b");
    const b = await createWebhook(org, { url: bEndpoint.url, events: ["member.added"] });
    const fromA = (await storedSecrets(a.id)).current;
    await env.DB.prepare("UPDATE webhooks SET secret_ciphertext = ? WHERE id = ?").bind(fromA, b.id).run();

    // Intact, and under a configured key: only the binding refuses it.
    expect(await decrypt(env, fromA, a.id, "current")).toBe(a.secret);
    await expect(decrypt(env, fromA, b.id, "current")).rejects.toThrow(UnreadableSecretError);

    const got = await call("GET", `/v1/webhooks/${b.id}`, { key: org.keys.admin });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: b.id, enabled: true });
    expect((await call("GET", "/v1/webhooks", { key: org.keys.admin })).status).toBe(200);

    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const deliveryId = await pendingDelivery(org, b.id);
    expect(await attemptDelivery(env, deliveryId, 1)).toEqual({ ack: true });
    expect(await deliveryOutcome(deliveryId)).toEqual({
      status: "failed",
      attempts: [{ error: UNREADABLE_SECRET_REASON, status_code: null }],
    });
    const tested = await call("POST", `/v1/webhooks/${b.id}/test`, { key: org.keys.admin });
    expect(tested.status).toBe(200);
    expect(tested.body).toMatchObject({ success: false, statusCode: null, error: UNREADABLE_SECRET_REASON });
    expect(await receivedBy(bEndpoint.name)).toEqual([]);

    // Logged with the webhook, never a secret or the ciphertext.
    const lines = logged.mock.calls.map((args) => args.join(" "));
    expect(lines.filter((line) => line.includes(b.id) && line.includes(deliveryId))).toHaveLength(1);
    for (const line of lines) {
      for (const hidden of [a.secret, b.secret, fromA, fromA.split(".")[2]!]) expect(line).not.toContain(hidden);
    }
    // Not counted against the webhook: the receiver did nothing wrong.
    expect((await call("GET", `/v1/webhooks/${b.id}`, { key: org.keys.admin })).body).toMatchObject({
      enabled: true,
      consecutiveFailures: 0,
    });
  });

  it("rotating a webhook whose secret cannot be decrypted gives it a working secret and no previous one", async () => {
    const org = await createOrg();
    const a = await createWebhook(org, { url: receiverEndpoint("recover-a").url, events: ["member.added"] });
    const endpoint = receiverEndpoint("recover-b");
    const b = await createWebhook(org, { url: endpoint.url, events: ["member.added"] });
    const fromA = (await storedSecrets(a.id)).current;
    await env.DB.prepare("UPDATE webhooks SET secret_ciphertext = ? WHERE id = ?").bind(fromA, b.id).run();
    vi.spyOn(console, "error").mockImplementation(() => {});

    const rotated = await rotate(org, b.id);
    expect(rotated.previousSecretExpiresAt).toBeNull();
    expect((await storedSecrets(b.id)).previous).toBeNull();

    const deliveryId = await pendingDelivery(org, b.id);
    expect(await attemptDelivery(env, deliveryId, 1)).toEqual({ ack: true });
    const [request] = await waitForRequests(endpoint.name, 1);
    expect(await verifyInNode(request!.body, request!.headers, rotated.secret)).toEqual({ seed: true, standard: true });
    expect((await deliveryOutcome(deliveryId)).status).toBe("succeeded");
  });

  it("the current and previous columns cannot be swapped", async () => {
    const org = await createOrg();
    const endpoint = receiverEndpoint("swap");
    const hook = await createWebhook(org, { url: endpoint.url, events: ["member.added"] });
    const rotated = await rotate(org, hook.id);
    const before = await storedSecrets(hook.id);
    expect(await decrypt(env, before.current, hook.id, "current")).toBe(rotated.secret);
    expect(await decrypt(env, before.previous!, hook.id, "previous")).toBe(hook.secret);

    await env.DB.prepare(
      "UPDATE webhooks SET secret_ciphertext = previous_secret_ciphertext, previous_secret_ciphertext = secret_ciphertext WHERE id = ?",
    )
      .bind(hook.id)
      .run();
    const swapped = await storedSecrets(hook.id);
    expect(swapped).toEqual({ current: before.previous, previous: before.current });
    await expect(decrypt(env, swapped.current, hook.id, "current")).rejects.toThrow(UnreadableSecretError);
    await expect(decrypt(env, swapped.previous!, hook.id, "previous")).rejects.toThrow(UnreadableSecretError);

    vi.spyOn(console, "error").mockImplementation(() => {});
    const deliveryId = await pendingDelivery(org, hook.id);
    expect(await attemptDelivery(env, deliveryId, 1)).toEqual({ ack: true });
    expect((await deliveryOutcome(deliveryId)).attempts).toEqual([
      { error: UNREADABLE_SECRET_REASON, status_code: null },
    ]);
    expect(await receivedBy(endpoint.name)).toEqual([]);
  });

  it("names the encrypting key by id (k + 8 hex of SHA-256 of its bytes) and refuses the unversioned form", async () => {
    const stored = await encryptSecret(env, "whsec_dGVzdA==", { webhookId: "wh_x", slot: "current" });
    const raw = Uint8Array.from(atob(OLD_KEY), (c) => c.charCodeAt(0));
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", raw));
    const hex8 = [...digest.slice(0, 4)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
    expect(await encryptionKeyId(OLD_KEY)).toBe(`k${hex8}`);
    expect(storedKeyId(stored)).toBe(`k${hex8}`);
    expect(stored).toMatch(/^k[0-9a-f]{8}\.[A-Za-z0-9+/]{16}\.[A-Za-z0-9+/=]+$/);
    const unversioned = stored.slice(stored.indexOf(".") + 1);
    await expect(decrypt(env, unversioned, "wh_x", "current")).rejects.toThrow(UnreadableSecretError);
  });
});

describe("webhook secrets: rotating WEBHOOK_ENCRYPTION_KEY", () => {
  it("with the old key as PREVIOUS, secrets under it still decrypt and deliveries sign with them", async () => {
    const org = await createOrg();
    const endpoint = receiverEndpoint("key-rotation");
    const hook = await createWebhook(org, { url: endpoint.url, events: ["member.added"] });
    const rotated = await rotate(org, hook.id);
    const stored = await storedSecrets(hook.id);
    expect(storedKeyId(stored.current)).toBe(await encryptionKeyId(OLD_KEY));

    expect(await decrypt(rotatingEnv, stored.current, hook.id, "current")).toBe(rotated.secret);
    expect(await decrypt(rotatingEnv, stored.previous!, hook.id, "previous")).toBe(hook.secret);
    // Without the previous key they do not: it is what keeps them readable.
    await expect(decrypt(rotatedEnv, stored.current, hook.id, "current")).rejects.toThrow(UnreadableSecretError);
    // New secrets are encrypted under the new key.
    const fresh = await encryptSecret(rotatingEnv, "fresh-secret-0123456789", { webhookId: hook.id, slot: "current" });
    expect(storedKeyId(fresh)).toBe(await encryptionKeyId(NEW_KEY));
    expect(storedKeyId(fresh)).not.toBe(storedKeyId(stored.current));

    const deliveryId = await pendingDelivery(org, hook.id);
    expect(await attemptDelivery(rotatingEnv, deliveryId, 1)).toEqual({ ack: true });
    const [request] = await waitForRequests(endpoint.name, 1);
    expect(await verifyInNode(request!.body, request!.headers, rotated.secret)).toEqual({ seed: true, standard: true });
    expect(await verifyInNode(request!.body, request!.headers, hook.secret)).toEqual({ seed: false, standard: true });
    expect((await deliveryOutcome(deliveryId)).status).toBe("succeeded");
  });

  it("reencryptWebhookSecrets moves every secret to the new key in batches; then PREVIOUS can go", async () => {
    const org = await createOrg();
    const hooks = [];
    for (const label of ["re-1", "re-2", "re-3"]) {
      hooks.push(await createWebhook(org, { url: receiverEndpoint(label).url, events: ["member.added"] }));
    }
    const endpoint = receiverEndpoint("re-rotated");
    const rotatedHook = await createWebhook(org, { url: endpoint.url, events: ["member.added"] });
    const rotated = await rotate(org, rotatedHook.id);
    const mine = [...hooks.map((h) => h.id), rotatedHook.id];
    const before = await call("GET", `/v1/webhooks/${rotatedHook.id}`, { key: org.keys.admin });
    // Rows other tests in this file left unreadable on purpose are logged, not re-encrypted.
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "log").mockImplementation(() => {});

    // Nothing to do while no previous key is set.
    expect(await reencryptWebhookSecrets(env, 2)).toEqual({ reencrypted: 0, skipped: 0, unreadable: 0 });

    const first = await reencryptWebhookSecrets(rotatingEnv, 2);
    expect(first.reencrypted).toBeGreaterThanOrEqual(mine.length);
    expect(first.skipped).toBe(0);
    const newId = await encryptionKeyId(NEW_KEY);
    const stale = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM webhooks WHERE substr(secret_ciphertext, 1, 9) != ?1 OR substr(previous_secret_ciphertext, 1, 9) != ?1",
    )
      .bind(newId)
      .first<{ n: number }>();
    expect(stale!.n).toBe(first.unreadable);
    expect(await reencryptWebhookSecrets(rotatingEnv, 2)).toMatchObject({ reencrypted: 0, skipped: 0 });

    // The previous key removed: every secret still decrypts, to what it was.
    for (const hook of hooks) {
      const stored = await storedSecrets(hook.id);
      expect(storedKeyId(stored.current)).toBe(newId);
      expect(await decrypt(rotatedEnv, stored.current, hook.id, "current")).toBe(hook.secret);
    }
    const stored = await storedSecrets(rotatedHook.id);
    expect([storedKeyId(stored.current), storedKeyId(stored.previous!)]).toEqual([newId, newId]);
    expect(await decrypt(rotatedEnv, stored.current, rotatedHook.id, "current")).toBe(rotated.secret);
    expect(await decrypt(rotatedEnv, stored.previous!, rotatedHook.id, "previous")).toBe(rotatedHook.secret);
    // The resource did not change (same ETag and updatedAt).
    const after = await call("GET", `/v1/webhooks/${rotatedHook.id}`, { key: org.keys.admin });
    expect(after.headers.get("ETag")).toBe(before.headers.get("ETag"));
    expect(after.body).toEqual(before.body);

    const deliveryId = await pendingDelivery(org, rotatedHook.id);
    expect(await attemptDelivery(rotatedEnv, deliveryId, 1)).toEqual({ ack: true });
    const [request] = await waitForRequests(endpoint.name, 1);
    expect(await verifyInNode(request!.body, request!.headers, rotated.secret)).toEqual({ seed: true, standard: true });
    expect(await verifyInNode(request!.body, request!.headers, rotatedHook.secret)).toEqual({
      seed: false,
      standard: true,
    });

    // Back to the test key for the tests after this one.
    await reencryptWebhookSecrets({ ...env, WEBHOOK_ENCRYPTION_KEY_PREVIOUS: NEW_KEY } as Env, 2);
    expect(await decrypt(env, (await storedSecrets(hooks[0]!.id)).current, hooks[0]!.id, "current")).toBe(
      hooks[0]!.secret,
    );
  });

  it("reencryptWebhookSecrets skips a row whose secret was rotated between its read and its write", async () => {
    const org = await createOrg();
    const hook = await createWebhook(org, { url: receiverEndpoint("re-race").url, events: ["member.added"] });
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "log").mockImplementation(() => {});

    // A secret rotation (through the API, under the Worker's key) lands just before the first write.
    let rotated: { secret: string } | undefined;
    const racingDb = new Proxy(env.DB, {
      get(target, property) {
        if (property === "batch") {
          return async (statements: D1PreparedStatement[]) => {
            rotated ??= await rotate(org, hook.id);
            return target.batch(statements);
          };
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const raced = await reencryptWebhookSecrets({ ...rotatingEnv, DB: racingDb }, 100);
    expect(rotated).toBeDefined();
    expect(raced.skipped).toBe(1);

    // The rotation's secrets stand: not overwritten with the re-encrypted old one.
    const afterRace = await storedSecrets(hook.id);
    expect(await decrypt(rotatingEnv, afterRace.current, hook.id, "current")).toBe(rotated!.secret);
    expect(await decrypt(rotatingEnv, afterRace.previous!, hook.id, "previous")).toBe(hook.secret);

    // The next run re-encrypts it.
    expect((await reencryptWebhookSecrets(rotatingEnv, 100)).reencrypted).toBeGreaterThanOrEqual(1);
    const settled = await storedSecrets(hook.id);
    expect(storedKeyId(settled.current)).toBe(await encryptionKeyId(NEW_KEY));
    expect(await decrypt(rotatedEnv, settled.current, hook.id, "current")).toBe(rotated!.secret);
    expect(await decrypt(rotatedEnv, settled.previous!, hook.id, "previous")).toBe(hook.secret);
    await reencryptWebhookSecrets({ ...env, WEBHOOK_ENCRYPTION_KEY_PREVIOUS: NEW_KEY } as Env, 100);
  });
});
