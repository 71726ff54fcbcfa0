// `npm run bench:outbox`: how fast does the cron's outbox sweep drain a backlog of
// unsent events (after a queue outage, say)? In one run against local `wrangler dev`
// (local D1 and Queues, the real consumer fanning the events out), it seeds unsent
// events into the local D1 file while the Worker is stopped, starts it, fires the cron
// at /__scheduled, lets the run finish (it stops itself within SWEEP_BUDGET.ms, 20 s),
// stops the Worker and reads the file. A run's time is from the cron request to the
// last `enqueued_at` it wrote (same host clock). It prints events/s for a 1,000-event
// backlog (the baseline) and a 10,000-event one, and the ratio of their steady
// per-event cost (from a run's first marked event to its last, so the cron's fixed
// start-up does not count). Target: 10,000 drained within 3 cron runs, steady
// per-event cost within 1.5x of the baseline (no slowdown as the backlog grows).
//
// Seeding writes the local D1 SQLite file directly (node:sqlite, one statement), as
// bench/lists.mjs does; the organization has no webhooks, so each event's fan-out is
// one lookup that finds nothing.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { localD1File, runOrThrow, startLocalWorker } from "../scripts/local-worker.mjs";

const SMALL = Number(process.env.BENCH_SMALL ?? 1_000);
const LARGE = Number(process.env.BENCH_LARGE ?? 10_000);
const MAX_RUNS = 5;
/** How long a cron run is given before the Worker is stopped: the sweep's 20 s budget and a margin. */
const RUN_WAIT_MS = Number(process.env.BENCH_RUN_WAIT_MS ?? 22_000);
const ORG = "org_bench_outbox";

/** `wrangler dev` with the cron reachable at /__scheduled. */
function startWorker(persistDir) {
  return startLocalWorker({ persistDir, args: ["--test-scheduled"] });
}

/** `count` unsent events, ten minutes old (past OUTBOX_SWEEP_AFTER_SECONDS), 1 ms apart. */
function seedEvents(file, count, salt) {
  const db = new DatabaseSync(file, { timeout: 15_000 });
  const now = new Date().toISOString();
  db.prepare("INSERT OR IGNORE INTO organizations VALUES (?, 'Bench outbox', 'enterprise', ?, ?)").run(ORG, now, now);
  db.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
     INSERT INTO events (id, org_id, type, resource_type, resource_id, data, created_at, enqueued_at)
     SELECT printf('evt_%s_%06d', ?, i), ?, 'task.created', 'task', printf('task_%06d', i), '{}',
            strftime('%Y-%m-%dT%H:%M:%fZ', ? / 1000.0 + i / 1000.0, 'unixepoch'), NULL
       FROM n`,
  ).run(count, salt, ORG, Date.now() - 600_000);
  db.close();
}

function unsent(file) {
  const db = new DatabaseSync(file, { readOnly: true, timeout: 15_000 });
  const { n } = db.prepare("SELECT COUNT(*) AS n FROM events WHERE enqueued_at IS NULL").get();
  db.close();
  return Number(n);
}

/** When a run that started at `since` marked its first and its last `salt` event enqueued (ms). */
function markedSpan(file, salt, since) {
  const db = new DatabaseSync(file, { readOnly: true, timeout: 15_000 });
  const { first, last } = db
    .prepare(
      "SELECT min(enqueued_at) AS first, max(enqueued_at) AS last FROM events WHERE id LIKE ? AND enqueued_at >= ?",
    )
    .get(`evt_${salt}_%`, new Date(since).toISOString());
  db.close();
  return first ? { first: Date.parse(first), last: Date.parse(last) } : { first: since, last: since };
}

/**
 * Fires the cron until the backlog of `salt` events is gone (the Worker is stopped
 * between runs to read the D1 file); returns the seconds the runs took to send them
 * and the events each run drained.
 */
async function drain(persistDir, file, salt) {
  const runs = [];
  let seconds = 0;
  let steadySeconds = 0;
  let left = unsent(file);
  while (left > 0 && runs.length < MAX_RUNS) {
    const worker = await startWorker(persistDir);
    const started = Date.now();
    try {
      const res = await fetch(`${worker.url}/__scheduled?cron=*+*+*+*+*`);
      await res.text();
      if (!res.ok) throw new Error(`/__scheduled: ${res.status}`);
      // The handler answers at once; its jobs run on in waitUntil.
      await new Promise((resolve) => setTimeout(resolve, RUN_WAIT_MS));
    } finally {
      await worker.stop();
    }
    const span = markedSpan(file, salt, started);
    seconds += (span.last - started) / 1000;
    steadySeconds += (span.last - span.first) / 1000;
    const now = unsent(file);
    runs.push(left - now);
    left = now;
  }
  return { runs, seconds, steadySeconds, left };
}

const workDir = mkdtempSync(join(tmpdir(), "verk-bench-outbox-"));
const persistDir = join(workDir, "state");
try {
  console.log("applying migrations to a fresh local D1…");
  runOrThrow("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", persistDir]);
  const file = localD1File(persistDir);

  const results = [];
  for (const [label, count] of [
    ["baseline", SMALL],
    ["backlog", LARGE],
  ]) {
    seedEvents(file, count, label);
    const r = await drain(persistDir, file, label);
    // After each run's first chunk (99 events) is marked: the sweep's pace once under way.
    const steady = count - 99 * r.runs.length;
    results.push({
      label,
      count,
      ...r,
      perSecond: count / r.seconds,
      steadyMsPerEvent: (r.steadySeconds * 1000) / steady,
    });
  }

  console.log("\nOutbox sweep draining unsent events (wrangler dev: local D1, local Queues with the real consumer)\n");
  const header = ["backlog", "events", "cron runs", "events per run", "cron s", "events/s", "steady ms/1k", "left"];
  const rows = results.map((r) => [
    r.label,
    r.count,
    r.runs.length,
    r.runs.join(" + "),
    r.seconds.toFixed(2),
    r.perSecond.toFixed(0),
    (r.steadyMsPerEvent * 1000).toFixed(0),
    r.left,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padStart(widths[i])).join("  ");
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log(
    "\ncron s: from the cron request to the last event marked enqueued; steady: from the first marked to the last",
  );
  const [small, large] = results;
  const ratio = large.steadyMsPerEvent / small.steadyMsPerEvent;
  console.log(
    `steady per-event cost ratio ${LARGE} / ${SMALL}: ${ratio.toFixed(2)}x (target ≤ 1.5x); ` +
      `${LARGE} drained in ${large.runs.length} cron run(s) (target ≤ 3)`,
  );
  if (large.left > 0 || ratio > 1.5 || large.runs.length > 3) process.exitCode = 1;
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
