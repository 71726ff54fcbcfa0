// `npm run bench:lists`: do task lists and the event log stay fast as an organization grows?
// In one run against local D1 under `wrangler dev` (127.0.0.1 only), it seeds one
// organization with 1,000 tasks and 1,000 events (plus constant noise in three other
// organizations), measures page 1 and the last page of three task lists and page 1 of
// four event lists, grows the organization to 100,000 tasks and 1,000,000 events,
// measures again, and prints the ratios and each query's EXPLAIN QUERY PLAN (the exact
// SQL the Worker runs, built by src/tasks/task-query.ts and src/events/log.ts).
// Targets: task page 1 at 100x the data within 3x the time; event page 1 (no filter,
// and by type) at 1000x the events within 1.5x the time. Event totals with `resourceId`
// or `since` are COUNT(*) over the matching events: measured and printed, not targeted.
// Cursor mode: at the large size, page 5,000 of 100 (rows 499,901-500,000; half the
// tasks at most) of four sorts, reached by the cursor of row 499,900 built with the
// server's own encodeCursor from that row (not by following 4,999 cursors), checked to
// show exactly page mode's page 5,000, against page 1 in the same run; target 1.5x.
// `BENCH_LARGE=1000000 npm run bench:lists` runs it at a million tasks.
//
// Seeding writes the local D1 SQLite file directly (node:sqlite, one transaction),
// while the Worker is stopped: the fast equivalent of `wrangler d1 execute --file`.
// API keys are inserted hashed, exactly as the API stores them.
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { localD1File, runOrThrow, startLocalWorker } from "../scripts/local-worker.mjs";
import { percentile } from "./load.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SMALL = Number(process.env.BENCH_SMALL ?? 1_000);
const LARGE = Number(process.env.BENCH_LARGE ?? 100_000);
const NOISE = Number(process.env.BENCH_NOISE ?? 30_000);
const EVENTS_SMALL = Number(process.env.BENCH_EVENTS_SMALL ?? 1_000);
const EVENTS_LARGE = Number(process.env.BENCH_EVENTS_LARGE ?? 1_000_000);
const EVENT_NOISE = Number(process.env.BENCH_EVENT_NOISE ?? 30_000);
const TASK_TARGET = 3;
const EVENT_TARGET = 1.5;
const PAGE1_SAMPLES = Number(process.env.BENCH_SAMPLES ?? 80);
const DEEP_SAMPLES = Math.max(10, Math.round(PAGE1_SAMPLES / 4));
// Cursor mode: page CURSOR_PAGE of CURSOR_LIMIT (rows 499,901-500,000 at the default),
// reached by the cursor of the row before it, built as the server builds it.
const CURSOR_LIMIT = 100;
const CURSOR_PAGE = Math.min(
  Number(process.env.BENCH_CURSOR_PAGE ?? 5_000),
  Math.max(1, Math.floor(LARGE / CURSOR_LIMIT / 2)),
);
const CURSOR_TARGET = 1.5;
const PROJECTS = 20;
const MEMBERS = 10;
const KEYS = 12;
const TAGS = Array.from({ length: 30 }, (_, i) => `tag-${i}`);
const STATUSES = ["todo", "todo", "in_progress", "done"];
const PRIORITIES = ["low", "medium", "medium", "high", "urgent"];

/** Deterministic pseudo-random numbers, so two runs seed the same data. */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const eventLabel = (n) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);
const pick = (rand, list) => list[Math.floor(rand() * list.length)];
const id = (prefix, n, salt) => `${prefix}_${salt}${String(n).padStart(12, "0")}`.slice(0, prefix.length + 21);

/** Prints the SQLite plan of a list's page and total queries, flagging a full scan of `table`. */
function printPlans(db, table, label, queries) {
  for (const [what, q] of [
    ["page ", queries.page],
    ["total", queries.total],
  ]) {
    if (!q) continue; // cursor mode has no total query
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN ${q.sql}`)
      .all(...q.params)
      .map((row) => row.detail);
    const scan = plan.some((d) => d.startsWith(`SCAN ${table} `) || d === `SCAN ${table}`);
    console.log(`  ${label} ${what}  ${plan.join(" | ")}${scan ? "   <-- FULL SCAN" : ""}`);
  }
}

// ---------------------------------------------------------------- the SQL under test

/** Bundles the real query builder so the plans printed are of the SQL the Worker sends. */
async function loadQueryBuilder(dir) {
  const entry = join(dir, "plan-entry.ts");
  writeFileSync(
    entry,
    `import { drizzle } from "drizzle-orm/d1";
import { taskListQueries } from ${JSON.stringify(join(ROOT, "src/tasks/task-query.ts"))};
import { eventListQueries } from ${JSON.stringify(join(ROOT, "src/events/log.ts"))};
export { EVENT_TYPES } from ${JSON.stringify(join(ROOT, "src/core/enums.ts"))};
export { encodeCursor } from ${JSON.stringify(join(ROOT, "src/core/cursor.ts"))};
export async function sqlOf(orgId, query) {
  const { page, total } = await taskListQueries(drizzle({}), orgId, query);
  return { page: page.toSQL(), total: total?.toSQL() };
}
export async function eventSqlOf(orgId, query) {
  const { page, total } = await eventListQueries(drizzle({}), orgId, query);
  return { page: page.toSQL(), total: total?.toSQL() };
}
`,
  );
  const outfile = join(dir, "plan.mjs");
  await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "node",
    outfile,
    logLevel: "error",
    nodePaths: [join(ROOT, "node_modules")],
  });
  return import(pathToFileURL(outfile).href);
}

// ---------------------------------------------------------------- local D1 and the Worker

function startWorker(persistDir, adminToken) {
  return startLocalWorker({ persistDir, vars: { ADMIN_TOKEN: adminToken } });
}

// ---------------------------------------------------------------- seeding

function seedOrganizations(db, now) {
  const orgs = [{ id: id("org", 0, "bench"), plan: "enterprise" }];
  for (let i = 1; i <= 3; i++) orgs.push({ id: id("org", i, "noise"), plan: "pro" });
  const keys = [];
  const members = new Map();
  const projects = new Map();
  const insertOrg = db.prepare("INSERT INTO organizations VALUES (?, ?, ?, ?, ?)");
  const insertUser = db.prepare(
    "INSERT INTO users (id, org_id, name, email, role, etag, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'e', ?, ?)",
  );
  const insertKey = db.prepare(
    "INSERT INTO api_keys (id, org_id, user_id, name, scope, key_hash, prefix, created_at) VALUES (?, ?, ?, ?, 'read', ?, ?, ?)",
  );
  const insertProject = db.prepare(
    "INSERT INTO projects (id, org_id, name, archived, created_by, etag, created_at, updated_at) VALUES (?, ?, ?, 0, ?, 'e', ?, ?)",
  );
  db.exec("BEGIN");
  for (const [o, org] of orgs.entries()) {
    insertOrg.run(org.id, `Bench ${o}`, org.plan, now, now);
    const users = [];
    for (let u = 0; u < MEMBERS; u++) {
      const userId = id("user", o * 100 + u, "b");
      users.push(userId);
      insertUser.run(userId, org.id, `Member ${u}`, `m${u}@org${o}.example`, u === 0 ? "owner" : "member", now, now);
    }
    members.set(org.id, users);
    const ps = [];
    for (let p = 0; p < (o === 0 ? PROJECTS : 5); p++) {
      const projectId = id("proj", o * 100 + p, "b");
      ps.push(projectId);
      insertProject.run(projectId, org.id, `Project ${p}`, users[0], now, now);
    }
    projects.set(org.id, ps);
  }
  for (let k = 0; k < KEYS; k++) {
    const key = `vk_live_${randomBytes(30).toString("base64url").replace(/[-_]/g, "x").slice(0, 40)}`;
    const hash = createHash("sha256").update(key).digest("hex");
    insertKey.run(
      id("key", k, "bench"),
      orgs[0].id,
      members.get(orgs[0].id)[0],
      `bench ${k}`,
      hash,
      key.slice(0, 14),
      now,
    );
    keys.push(key);
  }
  db.exec("COMMIT");
  return { benchOrg: orgs[0].id, noiseOrgs: orgs.slice(1).map((o) => o.id), keys, members, projects };
}

/** Tasks number `from`..`to-1` of an organization: created a minute apart, mixed attributes. */
function seedTasks(db, world, orgId, from, to, salt) {
  const rand = rng(from * 7919 + salt.length);
  const insertTask = db.prepare(
    `INSERT INTO tasks (id, org_id, project_id, title, description, status, priority, assignee_id, due_date, tags,
       created_by, etag, created_at, updated_at, completed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'e', ?, ?, ?)`,
  );
  const insertTag = db.prepare("INSERT INTO task_tags (task_id, org_id, tag) VALUES (?, ?, ?)");
  const users = world.members.get(orgId);
  const projects = world.projects.get(orgId);
  const epoch = Date.parse("2024-01-01T00:00:00Z");
  db.exec("BEGIN");
  for (let n = from; n < to; n++) {
    const taskId = id("task", n, salt);
    const created = epoch + n * 60_000;
    const status = pick(rand, STATUSES);
    const due = rand() < 0.3 ? null : new Date(epoch + Math.floor(rand() * 730) * 86_400_000).toISOString();
    const tags = [...new Set(Array.from({ length: Math.floor(rand() * 4) }, () => pick(rand, TAGS)))];
    const updated = created + Math.floor(rand() * 86_400_000);
    insertTask.run(
      taskId,
      orgId,
      pick(rand, projects),
      `Task ${n} ${pick(rand, ["fix", "build", "ship", "review", "plan"])}`,
      rand() < 0.5 ? null : "Seeded by bench/lists.mjs",
      status,
      pick(rand, PRIORITIES),
      rand() < 0.2 ? null : pick(rand, users),
      due,
      JSON.stringify(tags),
      users[0],
      new Date(created).toISOString(),
      new Date(updated).toISOString(),
      status === "done" ? new Date(updated).toISOString() : null,
    );
    for (const tag of tags) insertTag.run(taskId, orgId, tag);
  }
  db.exec("COMMIT");
}

const EVENT_EPOCH_SECONDS = Date.parse("2024-01-01T00:00:00Z") / 1000;
/** Consecutive events that share their resources: each resource then has the same few events at any size. */
const EVENTS_PER_GROUP = 70;

/** The createdAt of event number `n` of the bench organization (one a second). */
const eventTime = (n) => new Date((EVENT_EPOCH_SECONDS + n) * 1000).toISOString();

/**
 * Events number `from`..`to-1` of an organization, generated inside SQLite (WITH
 * RECURSIVE) in one transaction: one a second, types in turn, already enqueued (so no
 * sweep picks them up). The `event_counts` trigger fires for every row, exactly as for
 * the API's writes; the run checks the counts against the log afterwards.
 */
function seedEvents(db, world, orgId, from, to, salt, types) {
  const typeOf = `CASE i % ${types.length} ${types.map((t, k) => `WHEN ${k} THEN '${t}'`).join(" ")} END`;
  db.exec("BEGIN");
  db.prepare(
    `INSERT INTO events (id, org_id, type, resource_type, resource_id, data, changes, actor_user_id, actor_api_key_id,
       created_at, enqueued_at)
     WITH RECURSIVE n(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?2),
       e AS (SELECT i, ${typeOf} AS type, strftime('%Y-%m-%dT%H:%M:%fZ', ?3 + i, 'unixepoch') AS at FROM n),
       r AS (SELECT i, type, at, substr(type, 1, instr(type, '.') - 1) AS rtype FROM e)
     SELECT printf('evt_%s%016d', ?4, i), ?5, type, rtype, printf('%s_%s%012d', rtype, ?4, i / ${EVENTS_PER_GROUP}),
       json_object('id', printf('%s_%s%012d', rtype, ?4, i / ${EVENTS_PER_GROUP}), 'seeded', 1), NULL, ?6, ?7, at, at
     FROM r`,
  ).run(from, to, EVENT_EPOCH_SECONDS, salt, orgId, world.members.get(orgId)[0], id("key", 0, "bench"));
  db.exec("COMMIT");
}

/** The kept counts must equal the log: the totals measured would otherwise be wrong, not just fast. */
function checkEventCounts(db) {
  const wrong = db
    .prepare(
      `SELECT e.org_id, e.type, e.n AS logged, coalesce(c.n, 0) AS kept
       FROM (SELECT org_id, type, COUNT(*) AS n FROM events GROUP BY org_id, type) e
       LEFT JOIN event_counts c ON c.org_id = e.org_id AND c.type = e.type WHERE coalesce(c.n, 0) != e.n`,
    )
    .all();
  if (wrong.length > 0) throw new Error(`event_counts disagrees with the log: ${JSON.stringify(wrong.slice(0, 5))}`);
}

// ---------------------------------------------------------------- measuring

async function sample(url, path, keys, count) {
  const latencies = [];
  let body;
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const res = await fetch(`${url}${path}`, { headers: { Authorization: `Bearer ${keys[i % keys.length]}` } });
    const text = await res.text();
    latencies.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${text.slice(0, 300)}`);
    body ??= JSON.parse(text);
  }
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p90: percentile(latencies, 90), body };
}

/** `sample` of two paths taking turns (A B, B A, ...), so drift in the machine's load is shared. */
async function samplePair(url, pathA, pathB, keys, count) {
  const a = [];
  const b = [];
  for (let i = 0; i < count; i++) {
    for (const [path, into] of i % 2
      ? [
          [pathB, b],
          [pathA, a],
        ]
      : [
          [pathA, a],
          [pathB, b],
        ]) {
      into.push(await sample(url, path, [keys[i % keys.length]], 1));
    }
  }
  const summary = (runs) => {
    const latencies = runs.map((r) => r.p50).sort((x, y) => x - y);
    return { p50: percentile(latencies, 50), p90: percentile(latencies, 90), body: runs[0].body };
  };
  return [summary(a), summary(b)];
}

function listsUnderTest(world) {
  const project = world.projects.get(world.benchOrg)[0];
  return [
    { name: "default list (createdAt desc)", query: {}, path: "" },
    {
      name: "projectId + status filter",
      query: { projectId: project, status: "todo" },
      path: `projectId=${project}&status=todo`,
    },
    { name: "dueDate sort (asc)", query: { sortBy: "dueDate", order: "asc" }, path: "sortBy=dueDate&order=asc" },
  ];
}

/** The event lists measured: the first two are the target; the others count matching events. */
function eventListsUnderTest(size) {
  // A resource in the middle of the log (its events are the same few at any size), and
  // the newest 10% of the log: COUNT(*) over the matches grows with them.
  const resourceId = `task_b${String(Math.floor(EVENTS_SMALL / 2 / EVENTS_PER_GROUP)).padStart(12, "0")}`;
  const since = eventTime(Math.floor(size * 0.9));
  return [
    { name: "no filter", query: {}, path: "", kept: true },
    { name: "type=task.updated", query: { type: "task.updated" }, path: "type=task.updated", kept: true },
    { name: "resourceId (COUNT(*))", query: { resourceId }, path: `resourceId=${resourceId}`, kept: false },
    {
      name: "since newest 10% (COUNT(*))",
      query: { since },
      path: `since=${encodeURIComponent(since)}`,
      kept: false,
    },
  ];
}

async function measureEvents(url, world, size, label) {
  // The machine's drift between the two phases, seen by a request that touches no data.
  await sample(url, "/health", world.keys, 5);
  const health = await sample(url, "/health", world.keys, PAGE1_SAMPLES);
  console.log(`  [${label} events] GET /health (reference, no data)       p50 ${health.p50.toFixed(2).padStart(6)} ms`);
  const results = [];
  for (const list of eventListsUnderTest(size)) {
    const path = `/v1/events?limit=50${list.path ? `&${list.path}` : ""}`;
    await sample(url, path, world.keys, 5); // warm-up
    const first = await sample(url, path, world.keys, PAGE1_SAMPLES);
    results.push({ list: list.name, kept: list.kept, total: first.body.pagination.total, page1: first.p50 });
    console.log(
      `  [${label} events] ${list.name.padEnd(28)} total ${String(first.body.pagination.total).padStart(7)}  page 1 p50 ${first.p50.toFixed(2).padStart(6)} ms (p90 ${first.p90.toFixed(2)})`,
    );
  }
  return { health: health.p50, lists: results };
}

async function measure(url, world, label) {
  const results = [];
  for (const list of listsUnderTest(world)) {
    const base = `/v1/tasks?limit=50${list.path ? `&${list.path}` : ""}`;
    await sample(url, base, world.keys, 5); // warm-up
    const first = await sample(url, base, world.keys, PAGE1_SAMPLES);
    const lastPage = Math.max(1, first.body.pagination.totalPages);
    const deep = await sample(url, `${base}&page=${lastPage}`, world.keys, DEEP_SAMPLES);
    results.push({ list: list.name, total: first.body.pagination.total, lastPage, page1: first.p50, deep: deep.p50 });
    console.log(
      `  [${label}] ${list.name.padEnd(32)} total ${String(first.body.pagination.total).padStart(6)}  page 1 p50 ${first.p50.toFixed(2).padStart(6)} ms (p90 ${first.p90.toFixed(2)})  page ${String(lastPage).padStart(4)} p50 ${deep.p50.toFixed(2).padStart(6)} ms`,
    );
  }
  return results;
}

// ---------------------------------------------------------------- cursor mode, deep in the list

/** The task sorts measured in cursor mode, and how a row's sort-key values read (src/tasks/task-query.ts). */
const CURSOR_LISTS = [
  { name: "createdAt desc", sortBy: "createdAt", order: "desc", position: (r) => [r.created_at, r.id] },
  {
    name: "dueDate asc (no date last)",
    sortBy: "dueDate",
    order: "asc",
    position: (r) => [r.due_sort, r.created_at, r.id],
  },
  {
    name: "dueDate desc (no date first)",
    sortBy: "dueDate",
    order: "desc",
    position: (r) => [r.due_sort, r.created_at, r.id],
  },
  {
    name: "priority desc (by rank)",
    sortBy: "priority",
    order: "desc",
    position: (r) => [r.priority_rank, r.created_at, r.id],
  },
];

/**
 * For each cursor list: the cursor of the last row of page CURSOR_PAGE - 1, built with
 * the server's own encodeCursor from that row as SQLite returns it (the page-mode SQL
 * of the Worker, run here once), and the ids page CURSOR_PAGE must show.
 */
async function deepCursors(db, builder, orgId) {
  const cursors = [];
  for (const list of CURSOR_LISTS) {
    const request = { limit: CURSOR_LIMIT, sortBy: list.sortBy, order: list.order };
    const { page } = await builder.sqlOf(orgId, { ...request, page: CURSOR_PAGE - 1 });
    const rows = db.prepare(page.sql).all(...page.params);
    const before = rows[CURSOR_LIMIT - 1];
    const { page: expectedPage } = await builder.sqlOf(orgId, { ...request, page: CURSOR_PAGE });
    const expected = db
      .prepare(expectedPage.sql)
      .all(...expectedPage.params)
      .slice(0, CURSOR_LIMIT)
      .map((r) => r.id);
    const cursor = await builder.encodeCursor(request, list.position(before));
    const plan = await builder.sqlOf(orgId, { ...request, cursor });
    cursors.push({ ...list, cursor, expected, plan });
  }
  return cursors;
}

/** Page 1 against the cursor's page CURSOR_PAGE (and page mode's OFFSET to the same rows, for contrast). */
async function measureCursors(url, world, cursors) {
  const results = [];
  for (const list of cursors) {
    const base = `/v1/tasks?limit=${CURSOR_LIMIT}&sortBy=${list.sortBy}&order=${list.order}`;
    const deepPath = `${base}&cursor=${encodeURIComponent(list.cursor)}`;
    await sample(url, base, world.keys, 5); // warm-up
    await sample(url, deepPath, world.keys, 5);
    // Interleaved, so a change in the machine's load (2 shared cores) hits both alike.
    const [first, deep] = await samplePair(url, base, deepPath, world.keys, PAGE1_SAMPLES);
    const shown = deep.body.data.map((t) => t.id);
    if (JSON.stringify(shown) !== JSON.stringify(list.expected)) {
      throw new Error(
        `${list.name}: the cursor's page is not page ${CURSOR_PAGE} (first id ${shown[0]}, expected ${list.expected[0]})`,
      );
    }
    const offset = await sample(url, `${base}&page=${CURSOR_PAGE}`, world.keys, DEEP_SAMPLES);
    const ratio = deep.p50 / first.p50;
    results.push({ list: list.name, page1: first.p50, deep: deep.p50, offset: offset.p50, ratio });
    console.log(
      `  [cursor] ${list.name.padEnd(30)} page 1 p50 ${first.p50.toFixed(2).padStart(6)} ms (p90 ${first.p90.toFixed(2)})  cursor page ${CURSOR_PAGE} p50 ${deep.p50.toFixed(2).padStart(6)} ms (p90 ${deep.p90.toFixed(2)})  ?page=${CURSOR_PAGE} p50 ${offset.p50.toFixed(2)} ms`,
    );
  }
  return results;
}

// ---------------------------------------------------------------- the run

const workDir = mkdtempSync(join(tmpdir(), "verk-bench-lists-"));
const persistDir = join(workDir, "state");
const adminToken = randomBytes(32).toString("base64url");
let worker;
try {
  const builder = await loadQueryBuilder(workDir);
  console.log("applying migrations to a fresh local D1…");
  runOrThrow("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", persistDir]);
  const file = localD1File(persistDir);

  let db = new DatabaseSync(file);
  const now = new Date().toISOString();
  const world = seedOrganizations(db, now);
  for (const [i, orgId] of world.noiseOrgs.entries()) {
    seedTasks(db, world, orgId, 0, Math.round(NOISE / world.noiseOrgs.length), `n${i}`);
  }
  seedTasks(db, world, world.benchOrg, 0, SMALL, "b");
  for (const [i, orgId] of world.noiseOrgs.entries()) {
    seedEvents(db, world, orgId, 0, Math.round(EVENT_NOISE / world.noiseOrgs.length), `n${i}`, builder.EVENT_TYPES);
  }
  seedEvents(db, world, world.benchOrg, 0, EVENTS_SMALL, "b", builder.EVENT_TYPES);
  checkEventCounts(db);
  db.close();
  console.log(
    `seeded ${SMALL} tasks and ${EVENTS_SMALL} events in the bench organization, ${NOISE} tasks and ${EVENT_NOISE} events in 3 others`,
  );

  worker = await startWorker(persistDir, adminToken);
  const small = await measure(worker.url, world, `${SMALL / 1000}k`);
  const smallEvents = await measureEvents(worker.url, world, EVENTS_SMALL, eventLabel(EVENTS_SMALL));
  await worker.stop();

  db = new DatabaseSync(file);
  let t0 = performance.now();
  seedTasks(db, world, world.benchOrg, SMALL, LARGE, "b");
  console.log(`grew the bench organization to ${LARGE} tasks (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  t0 = performance.now();
  seedEvents(db, world, world.benchOrg, EVENTS_SMALL, EVENTS_LARGE, "b", builder.EVENT_TYPES);
  const seeded = (performance.now() - t0) / 1000;
  checkEventCounts(db);
  const cursors = await deepCursors(db, builder, world.benchOrg);
  db.close();
  console.log(`grew it to ${EVENTS_LARGE} events (${seeded.toFixed(1)} s; event_counts checked against the log)`);

  worker = await startWorker(persistDir, adminToken);
  const large = await measure(worker.url, world, `${LARGE / 1000}k`);
  const deep = await measureCursors(worker.url, world, cursors);
  const largeEvents = await measureEvents(worker.url, world, EVENTS_LARGE, eventLabel(EVENTS_LARGE));
  await worker.stop();
  worker = undefined;

  console.log(`\ntask lists: ratios ${LARGE / 1000}k / ${SMALL / 1000}k (p50; target for page 1: <= ${TASK_TARGET})\n`);
  let ok = true;
  for (const [i, s] of small.entries()) {
    const l = large[i];
    const r1 = l.page1 / s.page1;
    const rd = l.deep / s.deep;
    ok &&= r1 <= TASK_TARGET;
    console.log(
      `  ${s.list.padEnd(32)} page 1 ${s.page1.toFixed(2).padStart(6)} -> ${l.page1.toFixed(2).padStart(6)} ms  x${r1.toFixed(2)} ${r1 <= TASK_TARGET ? "ok" : "OVER"}   last page (${s.lastPage} -> ${l.lastPage}) ${s.deep.toFixed(2)} -> ${l.deep.toFixed(2)} ms  x${rd.toFixed(2)}`,
    );
  }

  console.log(
    `\ncursor mode at ${LARGE} tasks: page ${CURSOR_PAGE} of ${CURSOR_LIMIT} (rows ${(CURSOR_PAGE - 1) * CURSOR_LIMIT + 1}-${CURSOR_PAGE * CURSOR_LIMIT}) by a cursor built as the server builds it, against page 1 in the same run (p50; target <= ${CURSOR_TARGET})\n`,
  );
  let cursorOk = true;
  for (const r of deep) {
    cursorOk &&= r.ratio <= CURSOR_TARGET;
    console.log(
      `  ${r.list.padEnd(30)} page 1 ${r.page1.toFixed(2).padStart(6)} ms  cursor page ${CURSOR_PAGE} ${r.deep.toFixed(2).padStart(6)} ms  x${r.ratio.toFixed(2)} ${r.ratio <= CURSOR_TARGET ? "PASS" : "OVER"}   (?page=${CURSOR_PAGE}: ${r.offset.toFixed(2)} ms, x${(r.offset / r.page1).toFixed(2)})`,
    );
  }

  console.log(
    `\nevent lists: ratios ${eventLabel(EVENTS_LARGE)} / ${eventLabel(EVENTS_SMALL)} events (page 1 p50; target: <= ${EVENT_TARGET} for the lists whose total is kept)\n`,
  );
  const drift = largeEvents.health / smallEvents.health;
  console.log(
    `  machine drift between the phases: GET /health p50 ${smallEvents.health.toFixed(2)} -> ${largeEvents.health.toFixed(2)} ms (x${drift.toFixed(2)}: if far from 1, the machine's load changed between the phases; repeat the run)`,
  );
  let eventsOk = true;
  for (const [i, s] of smallEvents.lists.entries()) {
    const l = largeEvents.lists[i];
    const r = l.page1 / s.page1;
    if (s.kept) eventsOk &&= r <= EVENT_TARGET;
    const verdict = s.kept
      ? r <= EVENT_TARGET
        ? "PASS"
        : "OVER"
      : "(total is COUNT(*) over the matches: not targeted)";
    console.log(
      `  ${s.list.padEnd(28)} total ${String(s.total).padStart(5)} -> ${String(l.total).padStart(7)}  page 1 ${s.page1.toFixed(2).padStart(6)} -> ${l.page1.toFixed(2).padStart(6)} ms  x${r.toFixed(2)} ${verdict}`,
    );
  }

  console.log(`\nquery plans (EXPLAIN QUERY PLAN of the SQL the Worker sends, at ${LARGE} tasks)\n`);
  db = new DatabaseSync(file, { readOnly: true });
  for (const list of listsUnderTest(world)) {
    const { page, total } = await builder.sqlOf(world.benchOrg, {
      page: 1,
      limit: 50,
      sortBy: "createdAt",
      order: "desc",
      ...list.query,
    });
    printPlans(db, "tasks", list.name.padEnd(32), { page, total });
  }

  console.log(`\ncursor page plans (page ${CURSOR_PAGE}, at ${LARGE} tasks; cursor mode has no total query)\n`);
  for (const list of cursors) printPlans(db, "tasks", list.name.padEnd(32), { page: list.plan.page });

  // Why totals come from task_counts: the same totals as COUNT(*), timed in SQLite alone.
  console.log(`\ntotals in SQLite alone at ${LARGE} tasks (mean of 50): kept counts vs COUNT(*)\n`);
  const timeIt = (statement, params) => {
    statement.all(...params);
    const t = performance.now();
    for (let i = 0; i < 50; i++) statement.all(...params);
    return (performance.now() - t) / 50;
  };
  for (const list of listsUnderTest(world)) {
    const { total } = await builder.sqlOf(world.benchOrg, {
      page: 1,
      limit: 50,
      sortBy: "createdAt",
      order: "desc",
      ...list.query,
    });
    const where = ["org_id = ?", list.query.projectId && "project_id = ?", list.query.status && "status = ?"].filter(
      Boolean,
    );
    const params = [world.benchOrg, list.query.projectId, list.query.status].filter(Boolean);
    const kept = timeIt(db.prepare(total.sql), total.params);
    const counted = timeIt(db.prepare(`SELECT COUNT(*) FROM tasks WHERE ${where.join(" AND ")}`), params);
    console.log(
      `  ${list.name.padEnd(32)} task_counts ${kept.toFixed(3).padStart(7)} ms   COUNT(*) ${counted.toFixed(3).padStart(7)} ms`,
    );
  }

  console.log(`\nevent list plans (EXPLAIN QUERY PLAN of the SQL the Worker sends, at ${EVENTS_LARGE} events)\n`);
  const eventQuery = (list) => ({ page: 1, limit: 50, sortBy: "createdAt", order: "desc", ...list.query });
  for (const list of eventListsUnderTest(EVENTS_LARGE)) {
    const { page, total } = await builder.eventSqlOf(world.benchOrg, eventQuery(list));
    printPlans(db, "events", list.name.padEnd(28), { page, total });
  }

  console.log(
    `\nevent totals in SQLite alone at ${EVENTS_LARGE} events (mean of 50): what the Worker runs vs COUNT(*)\n`,
  );
  for (const list of eventListsUnderTest(EVENTS_LARGE)) {
    const { total } = await builder.eventSqlOf(world.benchOrg, eventQuery(list));
    const where = [
      "org_id = ?",
      list.query.type && "type = ?",
      list.query.resourceId && "resource_id = ?",
      list.query.since && "created_at >= ?",
    ].filter(Boolean);
    const params = [world.benchOrg, list.query.type, list.query.resourceId, list.query.since].filter(Boolean);
    const used = timeIt(db.prepare(total.sql), total.params);
    const counted = timeIt(db.prepare(`SELECT COUNT(*) FROM events WHERE ${where.join(" AND ")}`), params);
    console.log(
      `  ${list.name.padEnd(28)} ${total.sql.includes("event_counts") ? "event_counts" : "COUNT(*)    "} ${used.toFixed(3).padStart(8)} ms   COUNT(*) ${counted.toFixed(3).padStart(8)} ms`,
    );
  }
  db.close();
  console.log(
    ok
      ? `\nPASS: task page 1 within ${TASK_TARGET}x at ${LARGE / SMALL}x the data`
      : "\nOVER: task page 1, see the ratios above",
  );
  console.log(
    cursorOk
      ? `PASS: cursor page ${CURSOR_PAGE} within ${CURSOR_TARGET}x of page 1 at ${LARGE} tasks`
      : "OVER: cursor page, see the ratios above",
  );
  console.log(
    eventsOk
      ? `PASS: event page 1 (no filter, type) within ${EVENT_TARGET}x at ${EVENTS_LARGE / EVENTS_SMALL}x the events`
      : "OVER: event page 1, see the ratios above",
  );
} finally {
  if (worker) await worker.stop();
  if (!process.env.BENCH_KEEP) rmSync(workDir, { recursive: true, force: true });
  else console.log(`kept ${workDir}`);
}
