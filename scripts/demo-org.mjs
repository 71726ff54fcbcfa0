// The demo organization `npm run dev` makes on the first start against an empty local
// database: its admin key goes to .dev-demo.json (git-ignored, like .dev.vars), so later
// starts can say where to find it. Local only: never called with --remote.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { readDevVars } from "./dev-vars.mjs";

export const DEMO_FILE = ".dev-demo.json";

/** True when the local D1 database has no organization (a fresh clone, or a wiped .wrangler/). */
export function localDatabaseIsEmpty() {
  const result = spawnSync(
    "npx",
    ["wrangler", "d1", "execute", "DB", "--local", "--json", "--command", "SELECT COUNT(*) AS n FROM organizations"],
    { encoding: "utf8", env: { ...process.env, CI: "1" } },
  );
  if (result.status !== 0) return false;
  try {
    return JSON.parse(result.stdout)[0].results[0].n === 0;
  } catch {
    return false;
  }
}

export async function waitForHealth(url) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`${url} did not answer /health within 60 s`);
}

/** Creates the organization through the operator API, saves its key and returns what to print. */
export async function createDemoOrganization(url) {
  await waitForHealth(url);
  const response = await fetch(`${url}/v1/admin/organizations`, {
    method: "POST",
    headers: { Authorization: `Bearer ${readDevVars().ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      name: "Demo (local)",
      plan: "pro",
      owner: { name: "Demo Owner", email: "demo@example.com" },
    }),
  });
  const body = await response.json();
  if (response.status !== 201) throw new Error(`${response.status} ${JSON.stringify(body.error ?? body)}`);
  const demo = { organizationId: body.organization.id, email: body.owner.email, adminKey: body.apiKey.key, url };
  writeFileSync(DEMO_FILE, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 });
  return `
✓ Created a local demo organization (${demo.organizationId}). Its admin API key (also in ${DEMO_FILE}):
    ${demo.adminKey}
  Open the dashboard and paste it:
    ${url}/dashboard
`;
}

export function demoOrganizationNote(url) {
  if (!existsSync(DEMO_FILE)) return `  Dashboard: ${url}/dashboard (sign in with a key from \`npm run bootstrap\`)`;
  const demo = JSON.parse(readFileSync(DEMO_FILE, "utf8"));
  return `  Demo organization ${demo.organizationId}: its admin key is in ${DEMO_FILE}. Dashboard: ${url}/dashboard`;
}
