// A closed-loop HTTP load generator: `concurrency` workers each send one request at a
// time for `durationMs`, recording every latency. Targets 127.0.0.1 only.
import { performance } from "node:perf_hooks";

export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/**
 * @param {{ url: string, durationMs: number, concurrency: number, headers?: (i: number) => Record<string,string> }} options
 */
export async function runLoad({ url, durationMs, concurrency, headers = () => ({}) }) {
  if (!new URL(url).hostname.match(/^(127\.0\.0\.1|localhost)$/)) throw new Error("load tests target 127.0.0.1 only");
  const latencies = [];
  const statuses = new Map();
  let sent = 0;
  const started = performance.now();
  const end = started + durationMs;
  async function worker() {
    while (performance.now() < end) {
      const i = sent++;
      const t0 = performance.now();
      const res = await fetch(url, { headers: headers(i) });
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    throughput: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    statuses: Object.fromEntries(statuses),
  };
}

export function formatRow(name, r) {
  return `${name.padEnd(34)} ${r.throughput.toFixed(0).padStart(7)} req/s   p50 ${r.p50.toFixed(2).padStart(7)} ms   p99 ${r.p99.toFixed(2).padStart(7)} ms   statuses ${JSON.stringify(r.statuses)}`;
}
