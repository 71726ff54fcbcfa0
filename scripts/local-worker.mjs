// Starts the Worker under `wrangler dev` on 127.0.0.1 with its own fresh local state
// (a temporary --persist-to folder with migrations applied), for benchmarks and the
// end-to-end test. Everything it starts is stopped by `stop()` or when this process exits.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * With `persistDir`, runs on that (already migrated) state and leaves it in place on
 * stop, so a benchmark can restart the Worker over the same data; `args` are passed to
 * `wrangler dev` as they are (e.g. `--test-scheduled`). With `config`, runs another Worker
 * (that wrangler config file instead of wrangler.toml, e.g. bench/wire/wrangler.toml) and
 * applies no migrations; it must answer GET /health with 2xx.
 * @param {{ vars?: Record<string,string>, port?: number, log?: boolean, persistDir?: string, args?: string[], config?: string }} options
 * @returns {Promise<{ url: string, adminToken: string, persistDir: string, stop: () => Promise<void> }>}
 */
export async function startLocalWorker(options = {}) {
  const ownState = !options.persistDir;
  const persistDir = options.persistDir ?? mkdtempSync(join(tmpdir(), "verk-local-"));
  if (ownState && !options.config) {
    const migrate = spawnSync(
      "npx",
      ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", persistDir],
      {
        env: { ...process.env, CI: "1" },
        encoding: "utf8",
      },
    );
    if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.stdout}\n${migrate.stderr}`);
  }

  const port = options.port ?? (await freePort());
  const vars = {
    ADMIN_TOKEN: randomBytes(32).toString("base64url"),
    WEBHOOK_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    ...options.vars,
  };
  const adminToken = vars.ADMIN_TOKEN;
  const args = ["wrangler", "dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persistDir];
  if (options.config) args.push("--config", options.config);
  args.push("--inspector-port", String(await freePort()), ...(options.args ?? []));
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  // Its own process group, so stopping it also stops workerd.
  const child = spawn("npx", args, {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, CI: "1" },
  });
  let output = "";
  const collect = (chunk) => {
    output += chunk;
    if (options.log) process.stderr.write(chunk);
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
    await new Promise((resolve) => {
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {}
        resolve();
      }, 5000);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (ownState) rmSync(persistDir, { recursive: true, force: true });
  };
  process.once("exit", () => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  });

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return { url, adminToken, persistDir, output: () => output, stop };
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`wrangler dev did not become ready:\n${output.slice(-4000)}`);
}

/** Runs a command from the project folder; throws with its output if it fails. */
export function runOrThrow(cmd, args) {
  const res = spawnSync(cmd, args, { env: { ...process.env, CI: "1" }, encoding: "utf8" });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed:\n${res.stdout}\n${res.stderr}`);
}

/** The local D1 database file under a `--persist-to` folder, for benchmarks that fill it directly. */
export function localD1File(persistDir) {
  const found = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".sqlite") && !name.includes("metadata")) found.push(path);
    }
  };
  walk(join(persistDir, "v3", "d1"));
  if (found.length !== 1) throw new Error(`expected one local D1 file, found ${found.join(", ") || "none"}`);
  return found[0];
}

/** A failed expectation of an end-to-end script. */
export function check(condition, message) {
  if (!condition) throw new Error(message);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every 200 ms until it returns something other than undefined or false. */
export async function waitFor(probe, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(200);
  }
}
