// Helpers of `npm run bench:webhooks` (bench/webhooks.mjs): the API calls that set a
// scenario up and create its events, and the tally of what the receiver got per
// (event, webhook) pair. Targets 127.0.0.1 only.
import { percentile } from "./load.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A JSON client for one local Worker. A 429 waits for Retry-After and tries again (the
 * count is kept in `throttled`); any other status ≥ 300 throws.
 */
export function apiClient(baseUrl) {
  if (!new URL(baseUrl).hostname.match(/^127\.0\.0\.1$/)) throw new Error("the bench targets 127.0.0.1 only");
  const client = {
    throttled: 0,
    async call(method, path, key, body) {
      for (;;) {
        const res = await fetch(`${baseUrl}${path}`, {
          method,
          headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        if (res.status === 429) {
          client.throttled += 1;
          await sleep(Number(res.headers.get("Retry-After") ?? 1) * 1000);
          continue;
        }
        if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
        return text ? JSON.parse(text) : null;
      }
    },
  };
  return client;
}

/**
 * An enterprise organization with a project, `hooks` webhooks on task.created pointed at
 * `${receiverUrl}/hook/<label>/<i>`, and one write key per API client. Enterprise allows
 * 500 requests a minute per key (src/identity/plans.ts, counted per key by
 * src/ratelimit), so `clients` keys give the event load `clients` × 500 a minute.
 */
export async function setUpOrganization(api, adminToken, { label, hooks, clients, receiverUrl }) {
  const org = await api.call("POST", "/v1/admin/organizations", adminToken, {
    name: `Bench ${label}`,
    plan: "enterprise",
    owner: { name: "Bench", email: `bench-${label}-${Date.now()}@example.com` },
  });
  const owner = org.apiKey.key;
  const project = await api.call("POST", "/v1/projects", owner, { name: "Bench" });
  const hookNames = [];
  for (let i = 0; i < hooks; i += 1) {
    const name = `${label}/${i}`;
    hookNames.push(name);
    await api.call("POST", "/v1/webhooks", owner, { url: `${receiverUrl}/hook/${name}`, events: ["task.created"] });
  }
  const keys = [];
  for (let i = 0; i < clients; i += 1) {
    const created = await api.call("POST", "/v1/api-keys", owner, { name: `client ${i}`, scope: "write" });
    keys.push(created.key);
  }
  return { projectId: project.id, hookNames, keys };
}

/**
 * Creates `events` tasks from `keys.length` concurrent clients, one key each; calls
 * `onProgress(created)` after each. Returns the task ids (each is one task.created event).
 */
export async function createTasks(api, { keys, projectId, events, onProgress }) {
  const taskIds = [];
  let next = 0;
  await Promise.all(
    keys.map(async (key) => {
      while (next < events) {
        next += 1;
        const task = await api.call("POST", "/v1/tasks", key, { title: `Task ${next}`, projectId });
        taskIds.push(task.id);
        onProgress?.(taskIds.length);
      }
    }),
  );
  return taskIds;
}

/**
 * What the receiver got for one scenario, per (event, webhook) pair: the pair is the
 * task id in the body's `data` and the hook name in the path (one X-Verk-Delivery each).
 * A pair is delivered by its first 2xx answer; requests for it after that are duplicates,
 * failed attempts before it are retries.
 */
export class Tally {
  constructor() {
    /** @type {Map<string, { hook: string, eventAt: number, deliveredAt?: number, requests: number, lastStatus?: number, afterDelivered: number }>} */
    this.pairs = new Map();
    this.requests = 0;
    this.failuresAnswered = 0;
    this.delivered = 0;
    this.firstEventAt = Number.POSITIVE_INFINITY;
    this.lastDeliveredAt = 0;
    this.lastRequestAt = Date.now();
  }

  /** For the receiver's onRequest: one request to `hook`, answered with `status`. */
  add(hook, request, status) {
    const body = JSON.parse(request.body);
    const key = `${body.data.id} ${hook}`;
    let pair = this.pairs.get(key);
    if (!pair) {
      pair = { hook, eventAt: Date.parse(body.timestamp), requests: 0, afterDelivered: 0 };
      this.pairs.set(key, pair);
      this.firstEventAt = Math.min(this.firstEventAt, pair.eventAt);
    }
    this.requests += 1;
    this.lastRequestAt = request.receivedAt;
    pair.requests += 1;
    pair.lastStatus = status;
    const ok = status >= 200 && status < 300;
    if (!ok) this.failuresAnswered += 1;
    if (pair.deliveredAt !== undefined) pair.afterDelivered += 1;
    else if (ok) {
      pair.deliveredAt = request.receivedAt;
      this.delivered += 1;
      this.lastDeliveredAt = Math.max(this.lastDeliveredAt, request.receivedAt);
    }
  }

  /** Delivery latencies (first 2xx arrival − event commit) of the pairs of `hooks`, sorted. */
  latencies(hooks) {
    const counted = new Set(hooks);
    return [...this.pairs.values()]
      .filter((pair) => pair.deliveredAt !== undefined && counted.has(pair.hook))
      .map((pair) => pair.deliveredAt - pair.eventAt)
      .sort((a, b) => a - b);
  }

  /** Measurements against the expected pairs (every task id × every hook name). */
  summary(taskIds, hookNames) {
    const expected = taskIds.length * hookNames.length;
    const missing = [];
    let duplicates = 0;
    for (const taskId of taskIds) {
      for (const hook of hookNames) {
        const pair = this.pairs.get(`${taskId} ${hook}`);
        if (pair?.deliveredAt === undefined) {
          const tried = pair ? `${pair.requests} tried, last ${pair.lastStatus}` : "never tried";
          missing.push(`${taskId} → ${hook} (${tried})`);
        } else duplicates += pair.afterDelivered;
      }
    }
    const latencies = this.latencies(hookNames);
    const delivered = expected - missing.length;
    const seconds = (this.lastDeliveredAt - this.firstEventAt) / 1000;
    return {
      expected,
      delivered,
      lost: missing.length,
      missing: missing.slice(0, 5),
      requests: this.requests,
      failuresAnswered: this.failuresAnswered,
      duplicates,
      duplicatesPct: delivered ? (100 * duplicates) / delivered : 0,
      seconds,
      deliveriesPerSec: seconds > 0 ? delivered / seconds : 0,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
    };
  }
}

/** Resolves once `done()` holds (checked every 100 ms) or after `timeoutMs`; true if it held. */
export async function waitUntil(done, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

export { sleep };
