// `npm run e2e`: the webhook pipeline end to end, as deployed code runs it locally.
//
// Starts `wrangler dev` (local D1, Durable Objects and Queues with the real consumer,
// retry delays and dead-letter queue of wrangler.toml; first attempts straight after the commit) on a free port with a fresh
// database, a seconds-long retry schedule, and a real HTTP receiver on 127.0.0.1.
// Then, through the public API only: creates an organization and webhooks; creates,
// updates, assigns, completes and deletes tasks; and checks that every expected event
// arrives (at least once, one delivery id and one body across retries), that every
// signature verifies (seed code and standardwebhooks), that a receiver failing twice
// gets the delivery on attempt 3 with all three in the log, that an always-failing
// receiver ends `failed` after its last retry (1 + max_retries attempts), and that 410 disables a
// webhook; and that a task created through an incoming-webhook credential is announced,
// signed, to an outgoing webhook. Everything it started is stopped on success, failure
// or timeout.

import { alertsStep } from "./e2e/alerts.mjs";
import { apiClient } from "./e2e/api.mjs";
import { filesStep } from "./e2e/files.mjs";
import { recoveryAfterOutage } from "./e2e/recovery.mjs";
import { publicKeySignatures } from "./e2e/sigs.mjs";
import { check, startLocalWorker, waitFor } from "./local-worker.mjs";
import { startReceiver, verifyStandard, verifyWebhook } from "./webhook-receiver.mjs";

const OVERALL_TIMEOUT_MS = 240_000;
const RETRY_SCHEDULE = "1,1,2,2,3,3";

const cleanups = [];
let finished = false;

async function cleanup() {
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()();
    } catch (error) {
      console.error("cleanup:", error);
    }
  }
}

async function finish(code, message) {
  if (finished) return;
  finished = true;
  if (message) (code === 0 ? console.log : console.error)(message);
  await cleanup();
  process.exit(code);
}

const overall = setTimeout(
  () => finish(1, `✗ e2e: timed out after ${OVERALL_TIMEOUT_MS / 1000} s`),
  OVERALL_TIMEOUT_MS,
);
overall.unref();
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => finish(130, `✗ e2e: ${signal}`));

function step(text) {
  console.log(`→ ${text}`);
}

async function main() {
  step(`starting wrangler dev with a fresh local database (retry schedule ${RETRY_SCHEDULE} s)`);
  const receiver = await startReceiver();
  cleanups.push(() => receiver.close());
  const worker = await startLocalWorker({
    vars: { WEBHOOK_ALLOW_LOCALHOST: "true", WEBHOOK_RETRY_SCHEDULE: RETRY_SCHEDULE },
  });
  cleanups.push(() => worker.stop());
  const adminToken = worker.adminToken;
  const printLog = () => console.error(`--- wrangler dev output (tail) ---\n${worker.output().slice(-6000)}`);

  const base = worker.url;
  const { expectStatus } = apiClient(base);

  try {
    step("the API reference: /docs and its UI bundle, all from this origin");
    for (const [path, type] of [
      ["/docs", /^text\/html/],
      ["/docs/init.js", /javascript/],
      ["/docs/scalar.js", /javascript/],
    ]) {
      const res = await fetch(`${base}${path}`);
      await res.arrayBuffer();
      check(res.status === 200 && type.test(res.headers.get("Content-Type") ?? ""), `GET ${path}: ${res.status}`);
    }
    console.log("  ✓ served by wrangler dev (the UI as a static asset)");

    step("creating an organization, a member and webhooks");
    const created = await expectStatus(201, "POST", "/v1/admin/organizations", {
      key: adminToken,
      body: { name: "E2E Inc", plan: "enterprise", owner: { name: "Olive Owner", email: "olive@e2e.example" } },
    });
    const key = created.apiKey.key;
    const member = await expectStatus(201, "POST", "/v1/users", {
      key,
      body: { name: "Max Member", email: "max@e2e.example" },
    });
    const project = await expectStatus(201, "POST", "/v1/projects", { key, body: { name: "Launch" } });

    const hook = (name, events) =>
      expectStatus(201, "POST", "/v1/webhooks", { key, body: { url: `${receiver.url}/hook/${name}`, events } });
    receiver.script("flaky", [
      { status: 500, body: "first failure" },
      { status: 502, body: "second failure" },
    ]);
    receiver.script("dead", [], { status: 500, body: "always down" });
    receiver.script("gone", [{ status: 410, body: "unsubscribed" }]);
    const all = await hook("all", ["*"]);
    const flaky = await hook("flaky", ["task.created"]);
    const dead = await hook("dead", ["task.deleted"]);
    const gone = await hook("gone", ["task.completed"]);

    step("creating, updating, assigning, completing, commenting on and deleting a task");
    const task = await expectStatus(201, "POST", "/v1/tasks", {
      key,
      body: { title: "Ship it", projectId: project.id, priority: "high" },
    });
    await expectStatus(200, "PATCH", `/v1/tasks/${task.id}`, { key, body: { title: "Ship it today" } });
    await expectStatus(200, "PATCH", `/v1/tasks/${task.id}`, { key, body: { assigneeId: member.id } });
    await expectStatus(200, "PATCH", `/v1/tasks/${task.id}`, { key, body: { status: "done" } });
    await expectStatus(201, "POST", `/v1/tasks/${task.id}/comments`, { key, body: { content: "Shipped." } });
    const deleted = await expectStatus(200, "DELETE", `/v1/tasks/${task.id}`, { key });
    check(deleted.id === task.id && deleted.deleted === true, `DELETE answered ${JSON.stringify(deleted)}`);

    const expected = [
      "task.created",
      "task.updated",
      "task.updated",
      "task.assigned",
      "task.updated",
      "task.completed",
      "comment.created",
      "comment.deleted",
      "task.deleted",
    ];
    step(`waiting for ${expected.length} events at the catch-all receiver`);
    const byDelivery = await waitFor(() => {
      const groups = new Map();
      for (const request of receiver.received("all")) {
        // "*" includes the operational events (README "Alerts"): the gone and dead webhooks' alerts.
        if (/^(webhook|delivery)\./.test(request.headers["x-verk-event"])) continue;
        const id = request.headers["x-verk-delivery"];
        groups.set(id, [...(groups.get(id) ?? []), request]);
      }
      return groups.size >= expected.length ? groups : undefined;
    }, "every event at the catch-all webhook");
    const types = [...byDelivery.values()].map((requests) => requests[0].headers["x-verk-event"]).sort();
    check(
      JSON.stringify(types) === JSON.stringify([...expected].sort()),
      `events received: ${types.join(", ")}; expected ${[...expected].sort().join(", ")}`,
    );
    for (const [deliveryId, requests] of byDelivery) {
      const payload = JSON.parse(requests[0].body);
      check(payload.deliveryId === deliveryId && payload.webhookId === all.id, `payload ids of ${deliveryId}`);
      check(new Set(requests.map((r) => r.body)).size === 1, `retries of ${deliveryId} changed the body`);
      for (const r of requests) {
        check(verifyWebhook(r.body, r.headers["x-verk-signature"], all.secret), `X-Verk-Signature of ${deliveryId}`);
        check(verifyStandard(r.body, r.headers, all.secret), `webhook-signature of ${deliveryId}`);
        check(!verifyWebhook(`${r.body} `, r.headers["x-verk-signature"], all.secret), "a tampered body verified");
      }
    }
    const completed = [...byDelivery.values()]
      .map((r) => JSON.parse(r[0].body))
      .find((p) => p.event === "task.completed");
    check(completed.data.status === "done" && completed.data.assigneeId === member.id, "task.completed data");
    check(
      completed.data.taskId === task.id &&
        completed.data.assigneeName === member.name &&
        completed.data.projectName === project.name,
      "task.completed names its project and assignee",
    );
    console.log(`  ✓ ${byDelivery.size} events delivered, every signature verifies`);

    step("flaky receiver: fails twice, then succeeds on attempt 3");
    const flakyRequests = await waitFor(() => {
      const got = receiver.received("flaky");
      return got.length >= 3 ? got : undefined;
    }, "3 attempts at the flaky receiver");
    check(new Set(flakyRequests.map((r) => r.headers["x-verk-delivery"])).size === 1, "flaky: one delivery id");
    check(new Set(flakyRequests.map((r) => r.body)).size === 1, "flaky: one body");
    const flakyDeliveryId = flakyRequests[0].headers["x-verk-delivery"];
    const flakyLog = await waitFor(async () => {
      const detail = await expectStatus(200, "GET", `/v1/webhooks/${flaky.id}/deliveries/${flakyDeliveryId}`, { key });
      return detail.status === "succeeded" ? detail : undefined;
    }, "the flaky delivery to succeed");
    const codes = flakyLog.attempts.map((a) => a.statusCode);
    check(JSON.stringify(codes) === "[500,502,200]", `flaky attempts: ${JSON.stringify(codes)}`);
    const gaps = [1, 2].map((i) => flakyRequests[i].receivedAt - flakyRequests[i - 1].receivedAt);
    console.log(
      `  ✓ attempts ${codes.join(" → ")}, ${gaps.map((g) => `${(g / 1000).toFixed(1)} s`).join(" and ")} apart`,
    );

    step("gone receiver: 410 disables the webhook");
    const goneWebhook = await waitFor(async () => {
      const current = await expectStatus(200, "GET", `/v1/webhooks/${gone.id}`, { key });
      return current.enabled ? undefined : current;
    }, "the 410 webhook to be disabled");
    check(/410/.test(goneWebhook.disabledReason ?? ""), `disabledReason: ${goneWebhook.disabledReason}`);
    const goneDeliveries = await expectStatus(200, "GET", `/v1/webhooks/${gone.id}/deliveries`, { key });
    check(goneDeliveries.data[0]?.status === "failed", "the 410 delivery is failed");
    check(receiver.received("gone").length === 1, "410 was not retried");
    console.log(`  ✓ disabled: ${goneWebhook.disabledReason}`);

    step("dead receiver: always 500, ends failed after its last retry");
    const deadDelivery = await waitFor(
      async () => {
        const list = await expectStatus(200, "GET", `/v1/webhooks/${dead.id}/deliveries`, { key });
        return list.data[0]?.status === "failed" ? list.data[0] : undefined;
      },
      "the always-failing delivery to end failed",
      120_000,
    );
    const deadRequests = receiver.received("dead");
    check(deadRequests.length === 7, `dead: expected 7 attempts (1 + max_retries 6), got ${deadRequests.length}`);
    check(deadDelivery.attemptCount === 7 && deadDelivery.nextAttemptAt === null, "dead: 7 attempts, none scheduled");
    const deadWebhook = await expectStatus(200, "GET", `/v1/webhooks/${dead.id}`, { key });
    check(deadWebhook.enabled && deadWebhook.consecutiveFailures === 7, "dead: still enabled, 7 consecutive failures");
    check(deadWebhook.deliverySuccessRate === 0, "dead: success rate 0");
    const deadGaps = deadRequests
      .slice(1)
      .map((r, i) => ((r.receivedAt - deadRequests[i].receivedAt) / 1000).toFixed(1));
    console.log(`  ✓ failed after 7 attempts, gaps ${deadGaps.join(", ")} s (schedule ${RETRY_SCHEDULE})`);

    step("redelivering the failed delivery to a recovered receiver");
    receiver.script("dead", [], { status: 200 });
    await expectStatus(202, "POST", `/v1/webhooks/${dead.id}/deliveries/${deadDelivery.id}/redeliver`, { key });
    await waitFor(async () => {
      const detail = await expectStatus(200, "GET", `/v1/webhooks/${dead.id}/deliveries/${deadDelivery.id}`, { key });
      return detail.status === "succeeded" ? detail : undefined;
    }, "the redelivery to succeed");
    console.log("  ✓ redelivered and succeeded");

    step("incoming webhook: an automation tool creates a task; the outgoing webhook gets task.created");
    const credential = await expectStatus(201, "POST", "/v1/incoming-webhooks", {
      key,
      body: { name: "n8n", permissions: ["tasks:create"] },
    });
    const listener = await hook("incoming", ["task.created"]);
    const fromTool = await expectStatus(201, "POST", "/v1/webhooks/incoming/tasks", {
      key: credential.key,
      body: { title: "From n8n", projectId: project.id, tags: ["automation"] },
    });
    const [arrived] = await waitFor(() => {
      const got = receiver.received("incoming");
      return got.length >= 1 ? got : undefined;
    }, "task.created from the incoming webhook");
    const announced = JSON.parse(arrived.body);
    check(arrived.headers["x-verk-event"] === "task.created", `incoming: got ${arrived.headers["x-verk-event"]}`);
    check(announced.data.id === fromTool.id && announced.data.title === "From n8n", "incoming: task.created data");
    check(announced.actor.incomingWebhookId === credential.id, "incoming: the credential is the actor");
    check(verifyWebhook(arrived.body, arrived.headers["x-verk-signature"], listener.secret), "incoming: signature");
    check(verifyStandard(arrived.body, arrived.headers, listener.secret), "incoming: webhook-signature");
    console.log("  ✓ incoming task announced to the outgoing webhook, signed");

    await recoveryAfterOutage({ base, key, receiver, step });

    await publicKeySignatures({ base, key, receiver, step, check, waitFor });
    await alertsStep({ base, adminToken, receiver, step });

    await filesStep({ base, adminToken, receiver, step, check, waitFor });
    await finish(0, "✓ e2e: webhook pipeline verified end to end");
  } catch (error) {
    printLog();
    await finish(1, `✗ e2e: ${error instanceof Error ? error.message : String(error)}`);
  }
}

main().catch((error) => finish(1, `✗ e2e: ${error?.stack ?? error}`));
