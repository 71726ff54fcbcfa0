// `npm run bench`: the cost of authentication + rate limiting + D1 on every request.
// Measures, in one run against local `wrangler dev`, GET /health (no auth) beside an
// authenticated GET /v1/users/me, interleaved so both see the same machine state, and
// prints the ratio (and each round's, to show the noise). Target: authenticated p50
// within 1.3x of /health.
import { startLocalWorker } from "../scripts/local-worker.mjs";
import { formatRow, runLoad } from "./load.mjs";

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const TARGET = 1.3;
// Enough keys that the enterprise burst limit (500/min per key) never binds during the run.
const KEYS = Number(process.env.BENCH_KEYS ?? 40);

const worker = await startLocalWorker();
try {
  const post = async (path, key, body) => {
    const res = await fetch(`${worker.url}${path}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const org = await post("/v1/admin/organizations", worker.adminToken, {
    name: "Bench",
    plan: "enterprise",
    owner: { name: "Bench", email: "bench@example.com" },
  });
  const keys = [];
  for (let i = 0; i < KEYS; i++)
    keys.push((await post("/v1/api-keys", org.apiKey.key, { name: `k${i}`, scope: "read" })).key);

  const health = { url: `${worker.url}/health`, concurrency: CONCURRENCY };
  const me = {
    url: `${worker.url}/v1/users/me`,
    concurrency: CONCURRENCY,
    headers: (i) => ({ Authorization: `Bearer ${keys[i % keys.length]}` }),
  };
  // Warm-up: JIT, each key's Durable Object and its cached record.
  await runLoad({ ...health, durationMs: 1000 });
  await runLoad({ ...me, durationMs: 1500 });

  const results = { health: [], me: [] };
  for (let round = 0; round < ROUNDS; round++) {
    results.health.push(await runLoad({ ...health, durationMs: DURATION_MS }));
    results.me.push(await runLoad({ ...me, durationMs: DURATION_MS }));
  }
  const merge = (runs) => ({
    throughput: runs.reduce((s, r) => s + r.throughput, 0) / runs.length,
    p50: runs.reduce((s, r) => s + r.p50, 0) / runs.length,
    p99: runs.reduce((s, r) => s + r.p99, 0) / runs.length,
    statuses: runs.reduce((acc, r) => {
      for (const [k, v] of Object.entries(r.statuses)) acc[k] = (acc[k] ?? 0) + v;
      return acc;
    }, {}),
  });
  const h = merge(results.health);
  const m = merge(results.me);
  console.log(`\nconcurrency ${CONCURRENCY}, ${ROUNDS} interleaved rounds of ${DURATION_MS} ms, ${KEYS} keys\n`);
  console.log(formatRow("GET /health (baseline)", h));
  console.log(formatRow("GET /v1/users/me (auth+DO+D1)", m));
  const ratio = m.p50 / h.p50;
  const rounds = results.me.map((r, i) => (r.p50 / results.health[i].p50).toFixed(2)).join(", ");
  console.log(
    `\np50 ratio authenticated / health: ${ratio.toFixed(2)}x (target ≤ ${TARGET}x) ${ratio <= TARGET ? "PASS" : "OVER"}; each round: ${rounds}`,
  );
  console.log(`throughput ratio: ${(m.throughput / h.throughput).toFixed(2)}x`);
  if (Object.keys(m.statuses).some((s) => s !== "200")) console.log("note: non-200 responses seen above");
} finally {
  await worker.stop();
}
