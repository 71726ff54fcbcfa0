// The e2e step of `POST /v1/webhooks/{id}/recover` (README "Recovering after an outage"):
// a receiver that fails every request until the deliveries of five events end failed,
// then comes back; one recover call re-sends each of them exactly once more, on its own
// delivery id, as attempts that continue its log; a second call queues nothing.
import { check, sleep, waitFor } from "../local-worker.mjs";
import { apiClient } from "./api.mjs";

const EVENTS = 5;
/** 1 + max_retries in wrangler.toml: the attempts after which a delivery ends failed. */
const ATTEMPTS_TO_EXHAUST = 7;

/**
 * @param {{ base: string, key: string, receiver: Awaited<ReturnType<typeof import("../webhook-receiver.mjs").startReceiver>>, step: (text: string) => void }} options
 */
export async function recoveryAfterOutage({ base, key, receiver, step }) {
  const { expectStatus } = apiClient(base, key);
  const name = "recovery";
  const received = () => receiver.received(name);

  step(`recovery: a receiver outage while ${EVENTS} tasks are created, until their deliveries end failed`);
  const project = await expectStatus(201, "POST", "/v1/projects", { body: { name: "Outage" } });
  receiver.script(name, [], { status: 503, body: "outage" });
  const hook = await expectStatus(201, "POST", "/v1/webhooks", {
    body: { url: `${receiver.url}/hook/${name}`, events: ["task.created"] },
  });
  const log = `/v1/webhooks/${hook.id}/deliveries`;
  // Before the outage's first failure: the recover call's window starts here.
  const since = new Date(Date.now() - 1000).toISOString();
  const outageStarted = Date.now();
  for (let i = 1; i <= EVENTS; i += 1) {
    await expectStatus(201, "POST", "/v1/tasks", {
      body: { title: `Created during the outage ${i}`, projectId: project.id },
    });
  }
  const failed = await waitFor(
    async () => {
      const page = await expectStatus(200, "GET", `${log}?limit=100`);
      return page.data.length === EVENTS && page.data.every((d) => d.status === "failed") ? page.data : undefined;
    },
    `${EVENTS} deliveries to end failed`,
    45_000,
  );
  const failedIds = failed.map((d) => d.id).sort();
  check(
    failed.every((d) => d.attemptCount === ATTEMPTS_TO_EXHAUST),
    `attempts before failing: ${failed.map((d) => d.attemptCount)}`,
  );
  const duringOutage = received().length;
  check(duringOutage === EVENTS * ATTEMPTS_TO_EXHAUST, `requests during the outage: ${duringOutage}`);
  console.log(
    `  ✓ ${EVENTS} deliveries failed after ${ATTEMPTS_TO_EXHAUST} attempts each, ${((Date.now() - outageStarted) / 1000).toFixed(1)} s`,
  );

  step("recovery: the receiver is back; POST /recover re-sends each failed delivery once, on its own id");
  receiver.script(name, [], { status: 200, body: "ok" });
  const recovery = await expectStatus(202, "POST", `/v1/webhooks/${hook.id}/recover`, { body: { since } });
  check(
    recovery.queued === EVENTS && recovery.remaining === 0 && recovery.since === since,
    `recover answered ${JSON.stringify(recovery)}`,
  );
  // What a client following progress sees at once: each back to pending (or already through).
  const underway = await expectStatus(200, "GET", `${log}?limit=100`);
  check(
    underway.data.every((d) => d.status === "pending" || d.status === "succeeded"),
    `right after the 202: ${underway.data.map((d) => d.status)}`,
  );
  const pendingAtOnce = underway.data.filter((d) => d.status === "pending").length;
  const settled = await waitFor(async () => {
    const page = await expectStatus(200, "GET", `${log}?status=succeeded&limit=100`);
    return page.data.length === EVENTS ? page.data : undefined;
  }, `the ${EVENTS} recovered deliveries to succeed`);
  check(
    JSON.stringify(settled.map((d) => d.id).sort()) === JSON.stringify(failedIds),
    "the succeeded deliveries are the failed ones",
  );
  const resent = received().slice(duringOutage);
  const resentIds = resent.map((r) => r.headers["x-verk-delivery"]).sort();
  check(JSON.stringify(resentIds) === JSON.stringify(failedIds), `re-sent delivery ids: ${resentIds}`);
  check(
    resent.every((r) => r.headers["webhook-id"] === r.headers["x-verk-delivery"]),
    "webhook-id is the delivery id",
  );
  for (const id of failedIds) {
    const detail = await expectStatus(200, "GET", `${log}/${id}`);
    const numbers = detail.attempts.map((a) => a.attemptNumber);
    const expected = Array.from({ length: ATTEMPTS_TO_EXHAUST + 1 }, (_, i) => i + 1);
    check(JSON.stringify(numbers) === JSON.stringify(expected), `attempts of ${id}: ${numbers}`);
    check(
      detail.attempts.slice(0, -1).every((a) => a.statusCode === 503) && detail.attempts.at(-1).statusCode === 200,
      `status codes of ${id}: ${detail.attempts.map((a) => a.statusCode)}`,
    );
    // The same body as during the outage: the receiver can deduplicate on it.
    const bodies = new Set(
      received()
        .filter((r) => r.headers["x-verk-delivery"] === id)
        .map((r) => r.body),
    );
    check(bodies.size === 1, `the body of ${id} changed on recovery`);
  }
  console.log(
    `  ✓ queued ${recovery.queued} (${pendingAtOnce} pending at once), each received once more as attempt ${ATTEMPTS_TO_EXHAUST + 1}, all succeeded`,
  );

  step("recovery: a second call queues nothing and sends nothing");
  const again = await expectStatus(202, "POST", `/v1/webhooks/${hook.id}/recover`, { body: { since } });
  check(again.queued === 0 && again.remaining === 0, `second recover answered ${JSON.stringify(again)}`);
  await sleep(1500);
  check(received().length === duringOutage + EVENTS, `requests after the second call: ${received().length}`);
  console.log("  ✓ queued 0, nothing re-sent");
}
