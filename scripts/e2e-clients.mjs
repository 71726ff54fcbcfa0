// `npm run e2e` (third part): the Python and Go clients (clients/) against a real
// `wrangler dev`. Starts one Worker with a fresh database and one webhook receiver, makes
// two organizations per language (an enterprise one for the flow, a free one, 20 requests
// a minute, for the rate limit), and runs clients/python/tests/test_e2e.py and
// clients/go/e2e_test.go side by side: each creates a project and tasks, lists with
// filters and walks every page, updates and deletes, replays an Idempotency-Key, hits the
// rate limit and recovers, and verifies the real deliveries its receiver endpoint got.
// Everything it started is stopped on success, failure or timeout.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startLocalWorker } from "./local-worker.mjs";
import { startReceiver } from "./webhook-receiver.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
// The rate-limit step may wait up to a whole minute window (the limit resets on the minute).
const OVERALL_TIMEOUT_MS = 170_000;

const cleanups = [];
const children = new Set();
let finished = false;
async function finish(code, message) {
  if (finished) return;
  finished = true;
  if (message) (code === 0 ? console.log : console.error)(message);
  for (const child of children) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  }
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()();
    } catch (error) {
      console.error("cleanup:", error);
    }
  }
  process.exit(code);
}
setTimeout(
  () => finish(1, `✗ e2e-clients: timed out after ${OVERALL_TIMEOUT_MS / 1000} s`),
  OVERALL_TIMEOUT_MS,
).unref();
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => finish(130, `✗ e2e-clients: ${signal}`));

/** Runs a command in its own process group, collecting its output; resolves with its exit code. */
function run(name, command, args, cwd, env) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, detached: true });
    children.add(child);
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    child.on("error", (error) => {
      output += `\n${name}: ${error.message} (is ${command} installed? .ci/run installs it)`;
    });
    child.on("close", (code) => {
      children.delete(child);
      resolve({ name, code: code ?? 1, output, seconds: ((Date.now() - started) / 1000).toFixed(1) });
    });
  });
}

async function organization(worker, name, plan) {
  const response = await fetch(`${worker.url}/v1/admin/organizations`, {
    method: "POST",
    headers: { Authorization: `Bearer ${worker.adminToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      name,
      plan,
      owner: { name: `${name} owner`, email: `owner@${name.toLowerCase().replace(/[^a-z]+/g, "-")}.example` },
    }),
  });
  if (response.status !== 201) throw new Error(`bootstrap ${name}: ${response.status} ${await response.text()}`);
  return (await response.json()).apiKey.key;
}

async function main() {
  console.log("→ starting wrangler dev with a fresh local database and a webhook receiver");
  const receiver = await startReceiver();
  cleanups.push(() => receiver.close());
  const worker = await startLocalWorker({ vars: { WEBHOOK_ALLOW_LOCALHOST: "true" } });
  cleanups.push(() => worker.stop());
  try {
    const env = async (language) => ({
      VERK_E2E: "1",
      VERK_BASE_URL: worker.url,
      VERK_API_KEY: await organization(worker, `${language} Inc`, "enterprise"),
      VERK_FREE_API_KEY: await organization(worker, `${language} Free`, "free"),
      VERK_RECEIVER_URL: receiver.url,
    });
    const [pythonEnv, goEnv] = [await env("Python"), await env("Go")];
    console.log("→ Python (unittest) and Go (go test) end to end, side by side");
    const results = await Promise.all([
      run("python", "python3", ["-m", "unittest", "-v", "tests.test_e2e"], join(ROOT, "clients/python"), pythonEnv),
      run("go", "go", ["test", "-count=1", "-run", "^TestE2E$", "-v", "."], join(ROOT, "clients/go"), goEnv),
    ]);
    let failed = false;
    for (const result of results) {
      const ok = result.code === 0 && !/\bskipped\b|--- SKIP/i.test(result.output);
      failed ||= !ok;
      console.log(`${ok ? "✓" : "✗"} ${result.name} (${result.seconds} s)`);
      if (!ok) console.log(result.output);
    }
    if (failed) {
      console.error(`--- wrangler dev output (tail) ---\n${worker.output().slice(-3000)}`);
      await finish(1, "✗ e2e-clients: a client failed against the Worker");
    }
    await finish(
      0,
      "✓ e2e-clients: the Python and Go clients drove the API, recovered from a 429 and verified their webhooks",
    );
  } catch (error) {
    console.error(`--- wrangler dev output (tail) ---\n${worker.output().slice(-4000)}`);
    await finish(1, `✗ e2e-clients: ${error.stack ?? error}`);
  }
}

main().catch((error) => finish(1, `✗ e2e-clients: ${error.stack ?? error}`));
