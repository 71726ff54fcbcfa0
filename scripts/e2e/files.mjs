// The e2e step for task attachments (README "Attachments") under wrangler dev: local R2.
// A raw and a multipart upload, both downloaded and compared byte for byte; a 413 on a
// free-plan organization; a delete; and a receiver subscribed to file events of one
// project gets file.uploaded and file.deleted, signed.
import { createHash, randomBytes } from "node:crypto";
import { verifyWebhook } from "../webhook-receiver.mjs";
import { apiClient } from "./api.mjs";

/**
 * @param {{ base: string, adminToken: string, receiver: any, step: (text: string) => void,
 *   check: (condition: unknown, message: string) => void,
 *   waitFor: <T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs?: number) => Promise<T> }} ctx
 */
export async function filesStep({ base, adminToken, receiver, step, check, waitFor }) {
  step("attachments: raw and multipart uploads to local R2, downloads, a 413, a delete, file events");
  const { request } = apiClient(base);
  const organization = async (plan) => {
    const res = await request("POST", "/v1/admin/organizations", {
      key: adminToken,
      body: {
        name: `Files ${plan}`,
        plan,
        owner: { name: "Fay Files", email: `fay-${plan}-${Date.now()}@e2e.example` },
      },
    });
    check(res.status === 201, `files: organization ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.apiKey.key;
  };

  const key = await organization("enterprise");
  const project = (await request("POST", "/v1/projects", { key, body: { name: "With files" } })).body;
  const task = (await request("POST", "/v1/tasks", { key, body: { title: "Has attachments", projectId: project.id } }))
    .body;
  const hook = await request("POST", "/v1/webhooks", {
    key,
    body: {
      url: `${receiver.url}/hook/files`,
      events: ["file.uploaded", "file.deleted"],
      filters: { projectId: project.id },
    },
  });
  check(hook.status === 201, `files: webhook ${hook.status} ${JSON.stringify(hook.body)}`);

  const raw = randomBytes(3 * 1024 * 1024 + 17);
  const up = await fetch(`${base}/v1/tasks/${task.id}/attachments?filename=${encodeURIComponent("plan v2.pdf")}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/pdf" },
    body: raw,
  });
  const rawMeta = await up.json();
  check(up.status === 201, `files: raw upload ${up.status} ${JSON.stringify(rawMeta)}`);
  check(rawMeta.size === raw.length, `files: raw size ${rawMeta.size}`);
  check(rawMeta.sha256 === createHash("sha256").update(raw).digest("hex"), "files: raw sha256");

  const form = new FormData();
  form.append("note", "ignored field");
  const partBytes = randomBytes(200_000);
  form.append("file", new Blob([partBytes], { type: "image/png" }), "screen shot.png");
  const multi = await fetch(`${base}/v1/tasks/${task.id}/attachments`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}` },
    body: form,
  });
  const multiMeta = await multi.json();
  check(multi.status === 201, `files: multipart upload ${multi.status} ${JSON.stringify(multiMeta)}`);
  check(
    multiMeta.name === "screen shot.png" &&
      multiMeta.contentType === "image/png" &&
      multiMeta.size === partBytes.length,
    `files: multipart metadata ${JSON.stringify(multiMeta)}`,
  );

  for (const [meta, bytes] of [
    [rawMeta, raw],
    [multiMeta, partBytes],
  ]) {
    const res = await fetch(`${base}/v1/attachments/${meta.id}/content`, {
      headers: { Authorization: `Bearer ${key}` },
    });
    const got = Buffer.from(await res.arrayBuffer());
    check(res.status === 200 && got.equals(bytes), `files: download of ${meta.name} (${res.status}) differs`);
    check(
      res.headers.get("Content-Type") === meta.contentType,
      `files: Content-Type ${res.headers.get("Content-Type")}`,
    );
    check(res.headers.get("X-Content-Type-Options") === "nosniff", "files: nosniff");
    check(/^attachment; /.test(res.headers.get("Content-Disposition") ?? ""), "files: Content-Disposition");
    check(res.headers.get("ETag") === `"${meta.sha256}"`, "files: ETag is the SHA-256");
  }
  console.log("  ✓ raw and multipart uploads read back byte for byte");

  const freeKey = await organization("free");
  const freeProject = (await request("POST", "/v1/projects", { key: freeKey, body: { name: "Small" } })).body;
  const freeTask = (
    await request("POST", "/v1/tasks", { key: freeKey, body: { title: "Too big", projectId: freeProject.id } })
  ).body;
  const big = await fetch(`${base}/v1/tasks/${freeTask.id}/attachments?filename=big.bin`, {
    method: "POST",
    headers: { Authorization: `Bearer ${freeKey}`, "Content-Type": "application/octet-stream" },
    body: Buffer.alloc(10 * 1024 * 1024 + 1),
  });
  const bigBody = await big.json();
  check(big.status === 413 && bigBody.error?.code === "PAYLOAD_TOO_LARGE", `files: free plan 11 MiB → ${big.status}`);
  const freeList = await request("GET", `/v1/tasks/${freeTask.id}/attachments`, { key: freeKey });
  check(freeList.body.data.length === 0, "files: the refused upload left a row");
  console.log("  ✓ 413 on the free plan, nothing stored");

  const deleted = await request("DELETE", `/v1/attachments/${rawMeta.id}`, { key });
  check(deleted.status === 200 && deleted.body.deleted === true, `files: delete ${deleted.status}`);
  const gone = await fetch(`${base}/v1/attachments/${rawMeta.id}/content`, {
    headers: { Authorization: `Bearer ${key}` },
  });
  check(gone.status === 404, `files: content after delete ${gone.status}`);

  const arrived = await waitFor(() => {
    const got = receiver.received("files");
    return got.length >= 3 ? got : undefined;
  }, "file.uploaded ×2 and file.deleted at the receiver");
  const events = arrived.map((r) => JSON.parse(r.body));
  check(
    JSON.stringify(events.map((e) => e.event).sort()) === '["file.deleted","file.uploaded","file.uploaded"]',
    `files: events ${events.map((e) => e.event)}`,
  );
  check(events.find((e) => e.event === "file.deleted")?.data.id === rawMeta.id, "files: file.deleted data");
  for (const r of arrived) {
    check(verifyWebhook(r.body, r.headers["x-verk-signature"], hook.body.secret), "files: delivery signature");
  }
  console.log("  ✓ file.uploaded and file.deleted delivered, signed");
}
