// `npm run bench:webhooks`: how close does the webhook pipeline come to the wire?
// One run against local `wrangler dev` (local D1, Queues and Durable Objects) and a Node
// receiver on 127.0.0.1 (scripts/webhook-receiver.mjs, which answers `Connection: close`):
//
// wireRate       POSTs/s the same workerd makes to the same receiver with nothing in between:
//                bench/wire/worker.mjs sends BENCH_WIRE_POSTS ~1 KB JSON POSTs,
//                BENCH_WIRE_CONCURRENCY (48) at a time, the most the pipeline can have in
//                flight (8 API clients × 6 connections per Worker invocation; local workerd
//                does not cap one invocation at 6, so one probe call with 48 lanes is the
//                same load). The median of 3 rounds, after a warm-up.
// scenarios      an enterprise organization with 1, 10 or 100 webhooks on task.created;
//                BENCH_CLIENTS (8) API clients, one write key each, create the events.
//   deliveriesPerSec  unique (event, webhook) pairs delivered / (last arrival − first
//                     event's commit time, the body's `timestamp`); ratioToWire = that / wireRate
//   p50Ms, p99Ms      per pair: first 2xx arrival at the receiver − the event's commit time
//   lost              expected pairs (events × webhooks) with no 2xx before the timeout
//   duplicatesPct     requests for a pair after its first 2xx, per 100 delivered pairs
// slowEndpoint   10 webhooks, one answering after 4.9 s (under WEBHOOK_TIMEOUT_MS 5000):
//                healthyP50Ms is the nine others' p50; baselineP50Ms the same nine hooks'
//                p50 in the 10-webhook scenario (or a run of the same shape if it was not
//                selected); ratio = healthy / baseline (1 = the slow one costs the others nothing).
// faults         10 webhooks on a second Worker whose retries come after seconds
//                (BENCH_RETRY_SCHEDULE); every receiver answers 500 to a random 20 %, and
//                one answers 503 (no Retry-After, so the schedule applies) for 10 s from the
//                moment half the events exist: down, but reachable, so every attempt is seen.
//                lost = pairs with no 2xx once nothing has arrived for the longest retry
//                step + 30 s; duplicatesPct as above (retries after a failure are not duplicates).
//                The schedule (4,8,12,…) leaves at most 2 of a delivery's 7 attempts inside
//                the outage: a pair is then lost only if all 5 others draw a 500 (0.2^5 =
//                0.03 %). With 1,2,4,… the outage took 4 and ~1 pair in 125 was lost so.
//
// Env: BENCH_SCENARIOS (1,10,100,slow,faults), BENCH_EVENTS (200), BENCH_EVENTS_100 (50),
// BENCH_CLIENTS (8), BENCH_TIMEOUT_MS (300000 per scenario), BENCH_SETTLE_MS (2000, waited
// after the last pair for late duplicates), BENCH_WIRE_CONCURRENCY (48), BENCH_WIRE_POSTS
// (2000), BENCH_FAIL_RATE (0.2), BENCH_DOWN_MS (10000), BENCH_RETRY_SCHEDULE (4,8,12,16,20,24),
// BENCH_WORKER_LOG=1 (wrangler's output on stderr).
// The last line printed is one JSON object with every figure.
import { startLocalWorker } from "../scripts/local-worker.mjs";
import { startReceiver } from "../scripts/webhook-receiver.mjs";
import { percentile } from "./load.mjs";
import { apiClient, createTasks, setUpOrganization, sleep, Tally, waitUntil } from "./webhook-pipeline.mjs";

const env = process.env;
const EVENTS = Number(env.BENCH_EVENTS ?? 200);
const EVENTS_100 = Number(env.BENCH_EVENTS_100 ?? 50);
const CLIENTS = Number(env.BENCH_CLIENTS ?? 8);
const TIMEOUT_MS = Number(env.BENCH_TIMEOUT_MS ?? 300_000);
const SETTLE_MS = Number(env.BENCH_SETTLE_MS ?? 2000);
const WIRE_CONCURRENCY = Number(env.BENCH_WIRE_CONCURRENCY ?? 48);
const WIRE_POSTS = Number(env.BENCH_WIRE_POSTS ?? 2000);
const FAIL_RATE = Number(env.BENCH_FAIL_RATE ?? 0.2);
const DOWN_MS = Number(env.BENCH_DOWN_MS ?? 10_000);
const RETRY_SCHEDULE = env.BENCH_RETRY_SCHEDULE ?? "4,8,12,16,20,24";
const SELECTED = new Set((env.BENCH_SCENARIOS ?? "1,10,100,slow,faults").split(",").map((s) => s.trim()));
const SLOW = { status: 200, body: "ok, slowly", delayMs: 4900 };

/** Scenario label → its tally; the receiver routes `/hook/<label>/<i>` there. */
const tallies = new Map();
const receiver = await startReceiver({
  onRequest: (name, request, answer) => tallies.get(name.split("/")[0])?.add(name, request, answer.status),
});
const workers = [];
const start = async (options) => {
  const worker = await startLocalWorker({ ...options, log: env.BENCH_WORKER_LOG === "1" });
  workers.push(worker);
  return worker;
};

/**
 * One scenario on `worker`: sets up `hooks` webhooks, lets `prepare(hookNames)` script the
 * receiver, creates `events` tasks and waits for every pair (or the timeout, or `quietMs`
 * without any request while pairs are missing), then SETTLE_MS for late duplicates.
 */
async function scenario(worker, label, { hooks, events, prepare, onProgress, quietMs }) {
  const deadline = Date.now() + TIMEOUT_MS;
  const reloadsBefore = reloads(worker);
  const api = apiClient(worker.url);
  const tally = new Tally();
  tallies.set(label, tally);
  const setup = await setUpOrganization(api, worker.adminToken, {
    label,
    hooks,
    clients: CLIENTS,
    receiverUrl: receiver.url,
  });
  prepare?.(setup.hookNames);
  const taskIds = await createTasks(api, { keys: setup.keys, projectId: setup.projectId, events, onProgress });
  const expected = taskIds.length * hooks;
  await waitUntil(
    () => tally.delivered >= expected || (quietMs !== undefined && Date.now() - tally.lastRequestAt > quietMs),
    Math.max(0, deadline - Date.now()),
  );
  await sleep(SETTLE_MS);
  const summary = tally.summary(taskIds, setup.hookNames);
  // Hook 0 is the slow one in "slow": the healthy figures are over the others.
  const healthyP50Ms = percentile(tally.latencies(setup.hookNames.slice(1)), 50);
  const reloaded = reloads(worker) - reloadsBefore;
  return { label, hooks, events: taskIds.length, throttled: api.throttled, reloaded, healthyP50Ms, ...summary };
}

/**
 * How often wrangler dev has reloaded the Worker, on an edit under src/ by someone else:
 * it restarts the local runtime, and pending (retry) queue messages may not survive it.
 */
function reloads(worker) {
  return worker.output().split("Reloading local server").length - 1;
}

/** POSTs/s of the wire probe: a warm-up, then the median of three rounds. */
async function wireRate(wire) {
  const hook = `${receiver.url}/hook/wire`;
  const round = async (n) => {
    const query = new URLSearchParams({ url: hook, n: String(n), concurrency: String(WIRE_CONCURRENCY) });
    const result = await (await fetch(`${wire.url}/?${query}`)).json();
    await fetch(`${receiver.url}/control/wire`, { method: "DELETE" });
    if (result.failed) throw new Error(`wire probe: ${result.failed}/${n} POSTs failed: ${result.errors.join("; ")}`);
    return (result.ok * 1000) / result.elapsedMs;
  };
  await round(Math.min(WIRE_POSTS, 300));
  const rounds = [];
  for (let i = 0; i < 3; i += 1) rounds.push(await round(WIRE_POSTS));
  return { rate: [...rounds].sort((a, b) => a - b)[1], rounds };
}

const fixed = (x, digits) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);

try {
  const verk = await start({ vars: { WEBHOOK_ALLOW_LOCALHOST: "true" } });
  const wire = await start({ config: "bench/wire/wrangler.toml" });
  // Warm-up (JIT, D1, Durable Objects, the queue's consumer): not reported.
  await scenario(verk, "warmup", { hooks: 1, events: 20 });
  const wireResult = await wireRate(wire);
  await wire.stop();
  const W = wireResult.rate;

  const results = [];
  for (const hooks of [1, 10, 100].filter((n) => SELECTED.has(String(n)))) {
    const events = hooks === 100 ? EVENTS_100 : EVENTS;
    results.push(await scenario(verk, `hooks${hooks}`, { hooks, events }));
  }

  let slowEndpoint = null;
  const extra = [];
  if (SELECTED.has("slow")) {
    const baseline =
      results.find((r) => r.hooks === 10) ?? (await scenario(verk, "baseline", { hooks: 10, events: EVENTS }));
    if (!results.includes(baseline)) extra.push(baseline);
    const slow = await scenario(verk, "slow", {
      hooks: 10,
      events: EVENTS,
      prepare: (names) => receiver.script(names[0], [], SLOW),
    });
    extra.push(slow);
    slowEndpoint = {
      healthyP50Ms: slow.healthyP50Ms,
      baselineP50Ms: baseline.healthyP50Ms,
      ratio: fixed(slow.healthyP50Ms / baseline.healthyP50Ms, 3),
    };
  }
  await verk.stop();

  let faults = null;
  if (SELECTED.has("faults")) {
    const steps = RETRY_SCHEDULE.split(",").map(Number);
    const faulty = await start({
      vars: {
        WEBHOOK_ALLOW_LOCALHOST: "true",
        WEBHOOK_RETRY_SCHEDULE: RETRY_SCHEDULE,
        // One attempt per step before the dead-letter queue, as wrangler.toml keeps them equal.
        EVENTS_QUEUE_MAX_RETRIES: String(steps.length),
        // The down endpoint fails hundreds of times in a row; it must not be disabled for it.
        WEBHOOK_DISABLE_AFTER_FAILURES: "1000000",
      },
    });
    let names = [];
    let down;
    const random = { failRate: FAIL_RATE };
    const result = await scenario(faulty, "faults", {
      hooks: 10,
      events: EVENTS,
      quietMs: (Math.max(...steps) + 30) * 1000,
      prepare: (hookNames) => {
        names = hookNames;
        for (const name of names) receiver.script(name, [], undefined, random);
      },
      onProgress: (created) => {
        if (down || created < EVENTS / 2) return;
        receiver.script(names[0], [], { status: 503, body: "down" });
        down = setTimeout(() => receiver.script(names[0], [], undefined, random), DOWN_MS);
        down.unref();
      },
    });
    extra.push(result);
    faults = {
      expected: result.expected,
      lost: result.lost,
      duplicatesPct: fixed(result.duplicatesPct, 2),
      requests: result.requests,
      failuresAnswered: result.failuresAnswered,
      retrySchedule: RETRY_SCHEDULE,
      reloads: result.reloaded,
      missing: result.missing,
    };
  }

  const all = [...results, ...extra];
  console.log("\nWebhook pipeline vs the wire (wrangler dev, local D1 and Queues, receiver on 127.0.0.1)");
  console.log(
    `wire: ${W.toFixed(0)} POSTs/s at concurrency ${WIRE_CONCURRENCY} (rounds ${wireResult.rounds.map((r) => r.toFixed(0)).join(", ")}); ${CLIENTS} API clients\n`,
  );
  const header = [
    "scenario",
    "hooks",
    "events",
    "expected",
    "lost",
    "dup %",
    "s",
    "deliv/s",
    "× wire",
    "p50 ms",
    "p99 ms",
    "429s",
    "reloads",
  ];
  const rows = all.map((r) => [
    r.label,
    r.hooks,
    r.events,
    r.expected,
    r.lost,
    r.duplicatesPct.toFixed(1),
    r.seconds.toFixed(1),
    r.deliveriesPerSec.toFixed(1),
    (r.deliveriesPerSec / W).toFixed(3),
    r.p50Ms,
    r.p99Ms,
    r.throttled,
    r.reloaded,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padStart(widths[i])).join("  ");
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log(
    "\np50/p99: first 2xx arrival − event commit, over all the scenario's hooks (in 'slow', the slow one too)",
  );
  console.log("429s: API calls throttled and retried; reloads: wrangler dev reloads (a src/ edit) during the scenario");
  if (slowEndpoint) {
    console.log(
      `slow endpoint: healthy p50 ${slowEndpoint.healthyP50Ms} ms vs ${slowEndpoint.baselineP50Ms} ms without it (× ${slowEndpoint.ratio})`,
    );
  }
  if (faults) {
    console.log(
      `faults: ${faults.lost}/${faults.expected} lost, ${faults.duplicatesPct} % duplicates, ${faults.requests} requests of which ${faults.failuresAnswered} answered 5xx; retries ${RETRY_SCHEDULE} s`,
    );
    if (faults.missing.length) console.log(`  missing, e.g.: ${faults.missing.join(", ")}`);
  }
  const scenarios = results.map((r) => ({
    webhooks: r.hooks,
    events: r.events,
    deliveriesPerSec: fixed(r.deliveriesPerSec, 1),
    ratioToWire: fixed(r.deliveriesPerSec / W, 4),
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    expected: r.expected,
    lost: r.lost,
    duplicatesPct: fixed(r.duplicatesPct, 2),
    reloads: r.reloaded,
  }));
  console.log(
    JSON.stringify({ wireRate: fixed(W, 1), wireConcurrency: WIRE_CONCURRENCY, scenarios, slowEndpoint, faults }),
  );
} finally {
  for (const worker of workers) await worker.stop();
  await receiver.close();
}
