// `npm run dev`: everything a fresh clone needs to serve the API locally.
// Installs dependencies if missing, writes .dev.vars with random secrets, applies the
// D1 migrations to the local database, then runs `wrangler dev` (local D1, Durable
// Objects and Queues; nothing else to install).
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { ensureDevVars } from "./dev-vars.mjs";
import { copyDocsAssets } from "./docs-assets.mjs";

const npx = process.platform === "win32" ? "npx.cmd" : "npx";
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

function run(command, args, env = {}) {
  const result = spawnSync(command, args, { stdio: "inherit", env: { ...process.env, ...env } });
  if (result.status !== 0) {
    console.error(`\n✗ ${command} ${args.join(" ")} failed`);
    process.exit(result.status ?? 1);
  }
}

if (!existsSync("node_modules/.bin/wrangler")) {
  console.log("→ Installing dependencies (first run)…");
  run(npm, ["install", "--no-audit", "--no-fund"]);
}

// npm install copies it too (postinstall); again here for a clone that installed before /docs had assets.
copyDocsAssets();

if (ensureDevVars()) console.log("→ Wrote .dev.vars with a random ADMIN_TOKEN and WEBHOOK_ENCRYPTION_KEY");

console.log("→ Applying D1 migrations to the local database…");
// CI=1 keeps wrangler from asking for confirmation.
run(npx, ["wrangler", "d1", "migrations", "apply", "DB", "--local"], { CI: "1" });

const port = process.env.PORT ?? "8787";
console.log(`
→ Starting the API on http://127.0.0.1:${port}
  Get an organization and an admin API key, in another terminal:
      npm run bootstrap
  API reference: http://127.0.0.1:${port}/docs
`);
// wrangler itself, not through npx, so a signal to this script reaches it (and it stops workerd).
const wrangler = process.platform === "win32" ? "node_modules\\.bin\\wrangler.cmd" : "node_modules/.bin/wrangler";
const child = spawn(wrangler, ["dev", "--ip", "127.0.0.1", "--port", port, ...process.argv.slice(2)], {
  stdio: "inherit",
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));
