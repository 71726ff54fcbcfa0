// `npm run bench:webhooks`: how fast do committed events reach webhook receivers?
// In one run against local `wrangler dev` (local D1 and Queues, the real consumer and
// wrangler.toml's consumer settings) with a receiver on 127.0.0.1, it creates EVENTS
// tasks (8 concurrent API clients) in an organization with 1, then with 10, webhooks
// subscribed to task.created, and prints deliveries per second and the latency from
// the event's commit (its timestamp) to the receiver reading the request, p50/p99.
import { startLocalWorker } from "../scripts/local-worker.mjs";
import { startReceiver } from "../scripts/webhook-receiver.mjs";
import { percentile } from "./load.mjs";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 8);
const SCENARIOS = [1, 10];
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 180_000);

const receiver = await startReceiver();
const worker = await startLocalWorker({ vars: { WEBHOOK_ALLOW_LOCALHOST: "true" } });

async function api(method, path, key, body) {
  const res = await fetch(`${worker.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** One scenario: `hooks` webhooks, `events` task.created events; returns the measurements. */
async function run(label, hooks, events) {
  const org = await api("POST", "/v1/admin/organizations", worker.adminToken, {
    name: `Bench ${label}`,
    plan: "enterprise",
    owner: { name: "Bench", email: `bench-${label}@example.com` },
  });
  const key = org.apiKey.key;
  const project = await api("POST", "/v1/projects", key, { name: "Bench" });
  const names = [];
  for (let i = 0; i < hooks; i += 1) {
    const name = `${label}-${i}`;
    names.push(name);
    await api("POST", "/v1/webhooks", key, { url: `${receiver.url}/hook/${name}`, events: ["task.created"] });
  }

  const started = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < events) {
        next += 1;
        await api("POST", "/v1/tasks", key, { title: `Task ${next}`, projectId: project.id });
      }
    }),
  );
  const committed = Date.now();

  const expected = hooks * events;
  const deadline = Date.now() + TIMEOUT_MS;
  let requests = [];
  for (;;) {
    requests = names.flatMap((name) => receiver.received(name));
    const unique = new Set(requests.map((r) => r.headers["x-verk-delivery"])).size;
    if (unique >= expected) break;
    if (Date.now() > deadline) throw new Error(`${label}: ${unique}/${expected} deliveries after ${TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const firsts = new Map();
  for (const r of requests) {
    const id = r.headers["x-verk-delivery"];
    if (!firsts.has(id)) firsts.set(id, r);
  }
  const latencies = [...firsts.values()]
    .map((r) => r.receivedAt - Date.parse(JSON.parse(r.body).timestamp))
    .sort((a, b) => a - b);
  const lastReceived = Math.max(...[...firsts.values()].map((r) => r.receivedAt));
  return {
    label,
    hooks,
    events,
    deliveries: firsts.size,
    duplicates: requests.length - firsts.size,
    apiSeconds: (committed - started) / 1000,
    seconds: (lastReceived - started) / 1000,
    perSecond: firsts.size / ((lastReceived - started) / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1),
  };
}

try {
  // Warm-up (JIT, D1, Durable Objects, the queue's consumer): not reported.
  await run("warmup", 1, 20);
  const results = [];
  for (const hooks of SCENARIOS) results.push(await run(`hooks${hooks}`, hooks, EVENTS));

  console.log(
    `\nWebhook delivery through local Queues (wrangler dev, max_batch_size 10, max_batch_timeout 1 s) to 127.0.0.1`,
  );
  console.log(`${EVENTS} task.created events from ${CLIENTS} concurrent API clients per run\n`);
  const header = ["webhooks", "deliveries", "API s", "total s", "deliveries/s", "p50 ms", "p99 ms", "max ms", "dups"];
  const rows = results.map((r) => [
    r.hooks,
    r.deliveries,
    r.apiSeconds.toFixed(1),
    r.seconds.toFixed(1),
    r.perSecond.toFixed(0),
    r.p50,
    r.p99,
    r.max,
    r.duplicates,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padStart(widths[i])).join("  ");
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log(
    "\nlatency = receiver's arrival time − the event's commit timestamp (same host clock); deliveries/s over the whole run, from the first API call to the last arrival.",
  );
} finally {
  await worker.stop();
  await receiver.close();
}
