// `npm run e2e` (second part): the TypeScript SDK (sdk/) against a real `wrangler dev`.
//
// Bundles sdk/src with esbuild (as a user's bundler would), starts the Worker on a free
// port with a fresh database and a webhook receiver on 127.0.0.1, and then, through the
// SDK only: creates a project, tasks and a webhook pointing at the receiver; pages a
// list with `listAll`; checks that a repeated Idempotency-Key replays instead of
// creating twice and that a refusal is a `VerkError`; receives deliveries and verifies
// them with `verifyWebhook` (a real event, a test event, and after a secret rotation
// with the old and the new secret); reads the delivery log. Everything it started is
// stopped on success, failure or timeout.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { startLocalWorker } from "./local-worker.mjs";
import { startReceiver } from "./webhook-receiver.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OVERALL_TIMEOUT_MS = 90_000;

const cleanups = [];
let finished = false;
async function finish(code, message) {
  if (finished) return;
  finished = true;
  if (message) (code === 0 ? console.log : console.error)(message);
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()();
    } catch (error) {
      console.error("cleanup:", error);
    }
  }
  process.exit(code);
}
setTimeout(() => finish(1, `✗ e2e-sdk: timed out after ${OVERALL_TIMEOUT_MS / 1000} s`), OVERALL_TIMEOUT_MS).unref();
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => finish(130, `✗ e2e-sdk: ${signal}`));

const step = (text) => console.log(`→ ${text}`);
function check(condition, message) {
  if (!condition) throw new Error(message);
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function waitFor(probe, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(200);
  }
}

async function loadSdk() {
  const dir = mkdtempSync(join(tmpdir(), "verk-sdk-e2e-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const outfile = join(dir, "sdk.mjs");
  await build({
    entryPoints: [join(ROOT, "sdk/src/index.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    outfile,
    logLevel: "error",
  });
  return import(pathToFileURL(outfile).href);
}

async function main() {
  const { VerkClient, VerkError, WebhookVerificationError, verifyWebhook } = await loadSdk();
  step("starting wrangler dev with a fresh local database and a webhook receiver");
  const receiver = await startReceiver();
  cleanups.push(() => receiver.close());
  const worker = await startLocalWorker({ vars: { WEBHOOK_ALLOW_LOCALHOST: "true" } });
  cleanups.push(() => worker.stop());

  try {
    // The operator's bootstrap (scripts/bootstrap.mjs) is outside the SDK: it hands out the first key.
    const bootstrap = await fetch(`${worker.url}/v1/admin/organizations`, {
      method: "POST",
      headers: { Authorization: `Bearer ${worker.adminToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        name: "SDK Inc",
        plan: "enterprise",
        owner: { name: "Olive", email: "olive@sdk.example" },
      }),
    });
    check(bootstrap.status === 201, `bootstrap: ${bootstrap.status} ${await bootstrap.clone().text()}`);
    const { apiKey } = await bootstrap.json();
    const verk = new VerkClient({ apiKey: apiKey.key, baseUrl: worker.url });

    step("SDK: a project, a webhook to the receiver, five tasks");
    const project = await verk.projects.create({ name: "Launch" });
    const webhook = await verk.webhooks.create({ url: `${receiver.url}/hook/sdk`, events: ["task.created"] });
    check(webhook.secret.startsWith("whsec_"), "the webhook's secret is returned once");
    const tasks = [];
    for (let i = 1; i <= 5; i++) tasks.push(await verk.tasks.create({ title: `Task ${i}`, projectId: project.id }));
    await verk.tasks.update(tasks[0].id, { status: "done" });

    step("SDK: listAll pages through the todo tasks two at a time");
    const titles = [];
    for await (const task of verk.tasks.listAll({ projectId: project.id, status: "todo", limit: 2, order: "asc" })) {
      titles.push(task.title);
    }
    check(
      JSON.stringify(titles) === JSON.stringify(["Task 2", "Task 3", "Task 4", "Task 5"]),
      `listAll gave ${JSON.stringify(titles)}`,
    );

    step("SDK: the same Idempotency-Key replays the first create; a refusal is a VerkError");
    const fixed = new VerkClient({ apiKey: apiKey.key, baseUrl: worker.url, idempotencyKey: () => "e2e-sdk-key-1" });
    const first = await fixed.tasks.create({ title: "Once", projectId: project.id });
    const again = await fixed.tasks.create({ title: "Once", projectId: project.id });
    check(first.id === again.id, `a replayed create made a second task: ${first.id} ${again.id}`);
    const missing = await verk.tasks.get("task_doesnotexist0000000").catch((e) => e);
    check(
      missing instanceof VerkError && missing.status === 404 && missing.code === "NOT_FOUND" && missing.requestId,
      `expected a 404 VerkError, got ${missing}`,
    );

    step("receiver: deliveries verify with verifyWebhook");
    const expectedCreates = tasks.length + 1;
    const received = await waitFor(() => {
      const got = receiver.received("sdk");
      return got.length >= expectedCreates ? got : undefined;
    }, `${expectedCreates} task.created deliveries`);
    const secret = webhook.secret;
    for (const request of received) {
      const event = await verifyWebhook(request.body, request.headers, secret);
      check(event.event === "task.created" && event.webhookId === webhook.id, `unexpected event ${event.event}`);
    }
    const forged = await verifyWebhook(received[0].body, received[0].headers, "whsec_bm90LXRoZS1zZWNyZXQ=").catch(
      (e) => e,
    );
    check(forged instanceof WebhookVerificationError, "a wrong secret must not verify");
    const deliveredIds = new Set(
      await Promise.all(received.map(async (r) => (await verifyWebhook(r.body, r.headers, secret)).data.id)),
    );
    check(
      tasks.every((t) => deliveredIds.has(t.id)),
      "every created task was delivered",
    );

    step("SDK: the delivery log, a test event, and a secret rotation");
    const log = await waitFor(async () => {
      const page = await verk.webhooks.deliveries.list(webhook.id, { status: "succeeded" });
      return page.pagination.total >= expectedCreates ? page : undefined;
    }, "the delivery log to show the deliveries succeeded");
    const detail = await verk.webhooks.deliveries.get(webhook.id, log.data[0].id);
    check(detail.attempts.length >= 1, "a delivery lists its attempts");
    const test = await verk.webhooks.test(webhook.id);
    check(test.success === true, `test event: ${JSON.stringify(test)}`);
    const testRequest = receiver.received("sdk").at(-1);
    check(testRequest.headers["x-verk-test"] === "true", "the test event reached the receiver");
    await verifyWebhook(testRequest.body, testRequest.headers, secret);

    const rotated = await verk.webhooks.rotateSecret(webhook.id);
    check(rotated.secret !== secret, "rotation gives a new secret");
    const before = receiver.received("sdk").length;
    await verk.tasks.create({ title: "After rotation", projectId: project.id });
    const [afterRotation] = await waitFor(() => {
      const got = receiver.received("sdk").slice(before);
      return got.length > 0 ? got : undefined;
    }, "a delivery after the rotation");
    for (const key of [rotated.secret, secret]) await verifyWebhook(afterRotation.body, afterRotation.headers, key);
    await finish(0, "✓ e2e-sdk: the SDK drove the API and verified its webhooks");
  } catch (error) {
    console.error(`--- wrangler dev output (tail) ---\n${worker.output().slice(-4000)}`);
    await finish(1, `✗ e2e-sdk: ${error.stack ?? error}`);
  }
}

main().catch((error) => finish(1, `✗ e2e-sdk: ${error.stack ?? error}`));
