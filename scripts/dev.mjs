// `npm run dev`: everything a fresh clone needs to serve the API locally.
// Installs dependencies if missing, writes .dev.vars with random secrets, applies the
// D1 migrations to the local database, bundles the dashboard, then runs `wrangler dev`
// (local D1, Durable Objects and Queues; nothing else to install). On the first start
// against an empty local database it creates a demo organization and prints its admin
// key and the dashboard's address (scripts/demo-org.mjs); never with --remote.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { buildDashboardAssets } from "./dashboard-assets.mjs";
import { createDemoOrganization, demoOrganizationNote, localDatabaseIsEmpty, waitForHealth } from "./demo-org.mjs";
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
await buildDashboardAssets();

if (ensureDevVars()) console.log("→ Wrote .dev.vars with a random ADMIN_TOKEN and WEBHOOK_ENCRYPTION_KEY");

console.log("→ Applying D1 migrations to the local database…");
// CI=1 keeps wrangler from asking for confirmation.
run(npx, ["wrangler", "d1", "migrations", "apply", "DB", "--local"], { CI: "1" });

const port = process.env.PORT ?? "8787";
const extraArgs = process.argv.slice(2);
const remote = extraArgs.some((arg) => arg === "--remote" || arg.startsWith("--remote="));
// Asked before wrangler starts: a database with no organization gets the demo one.
const makeDemo = !remote && localDatabaseIsEmpty();
console.log(`
→ Starting the API on http://127.0.0.1:${port}
  Dashboard: http://127.0.0.1:${port}/dashboard
  API reference: http://127.0.0.1:${port}/docs
  More organizations and admin keys, in another terminal: npm run bootstrap
`);
// wrangler itself, not through npx, so a signal to this script reaches it (and it stops workerd).
const wrangler = process.platform === "win32" ? "node_modules\\.bin\\wrangler.cmd" : "node_modules/.bin/wrangler";
const child = spawn(wrangler, ["dev", "--ip", "127.0.0.1", "--port", port, ...extraArgs], {
  stdio: "inherit",
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));

const url = `http://127.0.0.1:${port}`;
if (makeDemo) {
  createDemoOrganization(url).then(
    (message) => console.log(message),
    (error) =>
      console.error(
        `\n✗ Could not create the demo organization: ${error.message}\n  Run \`npm run bootstrap\` instead.\n`,
      ),
  );
} else if (!remote) {
  // After wrangler's own start-up lines, so it is the last thing on the screen.
  waitForHealth(url).then(
    () => console.log(`\n${demoOrganizationNote(url)}\n`),
    () => {},
  );
}
