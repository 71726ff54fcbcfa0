import { env } from "cloudflare:workers";
import { ERROR_STATUS } from "../../src/core/errors";
import type { CreatedApiKey, ErrorBody } from "../api-types";
import { type ApiResponse, call, type TestOrg } from "../harness";
import { bodyText } from "./arbitraries";

// ---------------------------------------------------------------------------
// The database, compared around every refused request

/**
 * Columns and tables written after the response or by the queue consumer, by design:
 * requests that were refused long ago, or earlier successful ones, may still touch them.
 */
const BACKGROUND_COLUMNS: Record<string, string[]> = {
  api_keys: ["last_used_at"], // authentication touches the key that was used, whatever the answer
  incoming_webhooks: ["last_used_at"],
  events: ["enqueued_at"], // marked after the queue send of an earlier, successful write
  // Delivery outcomes, recorded by the consumer for events of earlier writes (organization setup included).
  webhooks: ["last_triggered_at", "consecutive_failures", "delivered_count", "failed_count"],
};
const BACKGROUND_TABLES = ["deliveries", "delivery_attempts"];

/** One statement that reads the whole state: per table, its row count and every row as text, sorted. */
let snapshotSql = "";
let snapshotTables: string[] = [];

export async function prepareSnapshot(): Promise<void> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations' ORDER BY name",
  ).all<{ name: string }>();
  const parts: string[] = [];
  snapshotTables = [];
  for (const { name } of tables.results) {
    if (BACKGROUND_TABLES.includes(name)) continue;
    const info = await env.DB.prepare(`PRAGMA table_info("${name}")`).all<{ name: string }>();
    const columns = info.results.map((c) => c.name).filter((c) => !(BACKGROUND_COLUMNS[name] ?? []).includes(c));
    const row = columns.map((c) => `quote("${c}")`).join(" || ',' || ");
    const where =
      name === "organizations"
        ? " WHERE id = ?1"
        : info.results.some((c) => c.name === "org_id")
          ? " WHERE org_id = ?1"
          : "";
    parts.push(
      `(SELECT count(*) || ':' || coalesce(group_concat(r, char(10) ORDER BY r), '') FROM (SELECT ${row} AS r FROM "${name}"${where}))`,
    );
    snapshotTables.push(name);
  }
  snapshotSql = `SELECT ${parts.map((p, i) => `${p} AS t${i}`).join(", ")}`;
}

/** Every row of the organization (and of the tables without an organization), per table. */
async function snapshot(orgId: string): Promise<Record<string, string>> {
  const row = await env.DB.prepare(snapshotSql).bind(orgId).first<Record<string, string>>();
  if (!row) throw new Error("snapshot read nothing");
  return Object.fromEntries(snapshotTables.map((t, i) => [t, row[`t${i}`] ?? ""]));
}

function changedTables(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys(before).filter((t) => before[t] !== after[t]);
}

// ---------------------------------------------------------------------------
// Endpoints

export interface Target {
  name: string;
  method: string;
  path: string;
}

export interface FuzzOrg {
  org: TestOrg;
  /** Admin keys handed out in turn, so that no key reaches its burst limit. */
  keys: string[];
  uses: number;
  /** The state after the last refused request, which the next request starts from (nothing ran in between). */
  state?: Record<string, string>;
}

/** Below the enterprise burst of 500 a minute per key, with room for the harness's own calls. */
const REQUESTS_PER_KEY = 300;

async function keyFor(f: FuzzOrg): Promise<string> {
  f.uses += 1;
  if (f.uses > REQUESTS_PER_KEY * f.keys.length) {
    const res = await call<CreatedApiKey>("POST", "/v1/api-keys", {
      key: f.keys[f.keys.length - 1],
      body: { name: `fuzz ${f.keys.length}`, scope: "admin" },
    });
    if (res.status !== 201) throw new Error(`fuzz key create failed: ${res.status} ${JSON.stringify(res.body)}`);
    f.keys.push(res.body.key);
    f.state = undefined;
  }
  return f.keys[f.keys.length - 1]!;
}

function describeResponse(res: ApiResponse): string {
  return `${res.status} ${JSON.stringify(res.body)?.slice(0, 300)}`;
}

function preview(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text;
}

/** One request; throws unless the answer is a success or a well-formed refusal that changed nothing. */
export async function probe(f: FuzzOrg, target: Target, body: unknown, idempotencyKey: string | null): Promise<number> {
  const key = await keyFor(f);
  const text = bodyText(body);
  const before = f.state ?? (await snapshot(f.org.id));
  f.state = undefined;
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (idempotencyKey && target.method === "POST") headers["Idempotency-Key"] = idempotencyKey;
  const res = await call(target.method, target.path, { key, rawBody: text, headers });

  const context = `${target.name}${headers["Idempotency-Key"] ? " (with an Idempotency-Key)" : ""} with ${preview(text)}`;
  if (res.status >= 500) throw new Error(`${context}: ${describeResponse(res)}`);
  if (res.status === 429) throw new Error(`${context}: rate limited; the fuzz must stay under the key's burst limit`);
  if (res.status >= 400) {
    const error = (res.body as Partial<ErrorBody> | null)?.error;
    const code: keyof typeof ERROR_STATUS | undefined = error?.code;
    const shaped =
      error !== undefined &&
      code !== undefined &&
      ERROR_STATUS[code] === res.status &&
      typeof error.message === "string" &&
      typeof error.requestId === "string" &&
      res.headers.get("X-Request-Id") === error.requestId;
    if (!shaped) throw new Error(`${context}: error body not in the spec's shape: ${describeResponse(res)}`);
    const after = await snapshot(f.org.id);
    const changed = changedTables(before, after);
    f.state = after;
    if (changed.length > 0) {
      throw new Error(`${context}: refused with ${describeResponse(res)} but changed ${changed.join(", ")}`);
    }
  } else if (res.status !== 200 && res.status !== 201 && res.status !== 202) {
    throw new Error(`${context}: unexpected ${describeResponse(res)}`);
  }
  return res.status;
}
