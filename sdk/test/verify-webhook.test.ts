import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { verifyWebhook } from "../src/index";
import { refusal } from "./refusal";

// Vectors computed once with the server's signing code (src/webhooks/signing.ts,
// `signatureHeaders`); test/sdk-webhooks.test.ts (in workerd) recomputes them with it,
// so the two cannot drift.
const BODY =
  '{"id":"evt_vector0000000000001","event":"task.created","timestamp":"2026-01-01T00:00:00.000Z","webhookId":"wh_vector00000000000001","deliveryId":"del_vector0000000000001","data":{"id":"task_vector000000000001","title":"Ship it ✓"},"organization":{"id":"org_vector0000000000001","name":"Acme"},"actor":{"userId":"user_vector000000000001","apiKeyId":null}}';
const GENERATED = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OWN = "my-own-secret-0123456789";
const TIMESTAMP = 1767225600;
const NOW = TIMESTAMP * 1000 + 30_000;
const SIGNED = {
  "X-Verk-Signature": "sha256=7bdc8567554861a6014564497f37a37396afa5e177c5d8ab5690f13ebb2ababa",
  "webhook-id": "del_vector0000000000001",
  "webhook-timestamp": String(TIMESTAMP),
  "webhook-signature": "v1,6v4mtVe96C7UoIYxMI2MSrvejWyi6I4ybkg1gZSQHVE=",
};
/** After rotating from GENERATED to OWN: X-Verk-Signature with the new secret, two `v1,` signatures. */
const ROTATED = {
  "X-Verk-Signature": "sha256=3ea9b5ade957e7555f82549554612ac23ea3aee384e650f8aedc8a74460a9875",
  "webhook-id": "del_vector0000000000001",
  "webhook-timestamp": String(TIMESTAMP),
  "webhook-signature":
    "v1,fYs37yn4p5sA30gymOgF1mPV7nYLeTglZte5/tFxtGE= v1,6v4mtVe96C7UoIYxMI2MSrvejWyi6I4ybkg1gZSQHVE=",
};
const verkOnly = (headers: Record<string, string>) => ({ "X-Verk-Signature": headers["X-Verk-Signature"] });

describe("verifyWebhook", () => {
  it("verifies the Standard Webhooks signature of a generated whsec_ secret and returns the typed event", async () => {
    const event = await verifyWebhook(BODY, SIGNED, GENERATED, { now: NOW });
    expect(event.event).toBe("task.created");
    expect(event.deliveryId).toBe("del_vector0000000000001");
    expect(event.data).toEqual({ id: "task_vector000000000001", title: "Ship it ✓" });
  });

  it("verifies X-Verk-Signature alone (the secret's own bytes, no timestamp)", async () => {
    expect((await verifyWebhook(BODY, verkOnly(SIGNED), GENERATED)).id).toBe("evt_vector0000000000001");
    expect((await verifyWebhook(BODY, verkOnly(ROTATED), OWN)).id).toBe("evt_vector0000000000001");
  });

  it("during a rotation, either the old or the new secret verifies webhook-signature", async () => {
    await expect(verifyWebhook(BODY, ROTATED, OWN, { now: NOW })).resolves.toBeTruthy();
    await expect(verifyWebhook(BODY, ROTATED, GENERATED, { now: NOW })).resolves.toBeTruthy();
    // A receiver holding both secrets while it rolls the rotation out.
    await expect(verifyWebhook(BODY, SIGNED, [OWN, GENERATED], { now: NOW })).resolves.toBeTruthy();
  });

  it("reads Node's lower-case headers, a Fetch Headers and bytes", async () => {
    const lower = Object.fromEntries(Object.entries(SIGNED).map(([k, v]) => [k.toLowerCase(), v]));
    await expect(verifyWebhook(BODY, lower, GENERATED, { now: NOW })).resolves.toBeTruthy();
    await expect(verifyWebhook(BODY, new Headers(SIGNED), GENERATED, { now: NOW })).resolves.toBeTruthy();
    const bytes = new TextEncoder().encode(BODY);
    await expect(verifyWebhook(bytes, SIGNED, GENERATED, { now: NOW })).resolves.toBeTruthy();
    await expect(verifyWebhook(bytes.buffer, SIGNED, GENERATED, { now: NOW })).resolves.toBeTruthy();
  });

  it("refuses a wrong secret, a changed body and a changed signature", async () => {
    expect(await refusal(verifyWebhook(BODY, SIGNED, OWN, { now: NOW }))).toBe("INVALID_SIGNATURE");
    expect(await refusal(verifyWebhook(BODY.replace("Ship", "Shop"), SIGNED, GENERATED, { now: NOW }))).toBe(
      "INVALID_SIGNATURE",
    );
    expect(await refusal(verifyWebhook(BODY, verkOnly(SIGNED), OWN))).toBe("INVALID_SIGNATURE");
    const truncated = { ...SIGNED, "webhook-signature": SIGNED["webhook-signature"].slice(0, -2) };
    expect(await refusal(verifyWebhook(BODY, truncated, GENERATED, { now: NOW }))).toBe("INVALID_SIGNATURE");
    const otherScheme = { ...SIGNED, "webhook-signature": `v2,${SIGNED["webhook-signature"].slice(3)}` };
    expect(await refusal(verifyWebhook(BODY, otherScheme, GENERATED, { now: NOW }))).toBe("INVALID_SIGNATURE");
  });

  it("refuses a timestamp outside the tolerance (replays), even with a valid X-Verk-Signature beside it", async () => {
    const late = TIMESTAMP * 1000 + 301_000;
    expect(await refusal(verifyWebhook(BODY, SIGNED, GENERATED, { now: late }))).toBe("TIMESTAMP_OUT_OF_TOLERANCE");
    const early = TIMESTAMP * 1000 - 301_000;
    expect(await refusal(verifyWebhook(BODY, SIGNED, GENERATED, { now: early }))).toBe("TIMESTAMP_OUT_OF_TOLERANCE");
    await expect(verifyWebhook(BODY, SIGNED, GENERATED, { now: late, toleranceSeconds: 600 })).resolves.toBeTruthy();
    const bad = { ...SIGNED, "webhook-timestamp": "soon" };
    expect(await refusal(verifyWebhook(BODY, bad, GENERATED, { now: NOW }))).toBe("INVALID_TIMESTAMP");
  });

  it("refuses a request without signatures, an empty secret and a signed body that is not JSON", async () => {
    expect(await refusal(verifyWebhook(BODY, {}, GENERATED))).toBe("MISSING_SIGNATURE");
    expect(await refusal(verifyWebhook(BODY, SIGNED, "", { now: NOW }))).toBe("MISSING_SIGNATURE");
    expect(await refusal(verifyWebhook(BODY, SIGNED, [], { now: NOW }))).toBe("MISSING_SIGNATURE");
    // HMAC-SHA256 of "not json" keyed with GENERATED: X-Verk-Signature as the server computes it.
    const notJson = "not json";
    const headers = { "X-Verk-Signature": "sha256=d16ac22d28c9bfbb23d5042e65e10cce062c5a3cba2a063e4b5cbbf7c6e87575" };
    expect(await refusal(verifyWebhook(notJson, headers, GENERATED))).toBe("INVALID_PAYLOAD");
  });
});

// The same cases the Python and Go clients run (clients/vectors/webhooks.json), so the
// three verifiers agree byte for byte.
interface SharedCase {
  name: string;
  body?: string;
  headers: Record<string, string>;
  secrets: string[];
  nowMs: number | null;
  toleranceSeconds?: number;
  expect: { ok: { id: string; event: string; dataTitle: string } } | { error: string };
}
const shared = JSON.parse(
  readFileSync(fileURLToPath(new URL("../../clients/vectors/webhooks.json", import.meta.url)), "utf8"),
) as { body: string; cases: SharedCase[] };

describe("verifyWebhook: the vectors shared with the Python and Go clients", () => {
  it.each(shared.cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const options = { now: c.nowMs ?? undefined, toleranceSeconds: c.toleranceSeconds };
    const result = verifyWebhook(c.body ?? shared.body, c.headers, c.secrets, options);
    if ("ok" in c.expect) {
      const event = await result;
      expect(event.id).toBe(c.expect.ok.id);
      expect(event.event).toBe(c.expect.ok.event);
      expect((event.data as { title?: string }).title).toBe(c.expect.ok.dataTitle);
    } else {
      expect(await refusal(result)).toBe(c.expect.error);
    }
  });
});
