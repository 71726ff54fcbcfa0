// `npm run bootstrap`: creates an organization, its owner and the owner's first admin
// API key on the running local API (npm run dev), and prints a ready curl.
// Options: --url http://127.0.0.1:8787 --name "Acme" --email you@example.com --plan pro
import { parseArgs } from "node:util";
import { readDevVars } from "./dev-vars.mjs";

const { values } = parseArgs({
  options: {
    url: { type: "string", default: process.env.VERK_URL ?? "http://127.0.0.1:8787" },
    name: { type: "string", default: "My Organization" },
    owner: { type: "string", default: "Owner" },
    email: { type: "string", default: "owner@example.com" },
    plan: { type: "string", default: "pro" },
  },
});

const adminToken = process.env.ADMIN_TOKEN ?? readDevVars().ADMIN_TOKEN;
if (!adminToken) {
  console.error("No ADMIN_TOKEN: run `npm run dev` once (it writes .dev.vars) or set ADMIN_TOKEN.");
  process.exit(1);
}

let response;
try {
  response = await fetch(`${values.url}/v1/admin/organizations`, {
    method: "POST",
    headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({ name: values.name, plan: values.plan, owner: { name: values.owner, email: values.email } }),
  });
} catch (error) {
  console.error(`Cannot reach ${values.url} (${error.cause?.code ?? error.message}). Is \`npm run dev\` running?`);
  process.exit(1);
}
const body = await response.json();
if (response.status !== 201) {
  console.error(`Bootstrap failed (${response.status}):`, JSON.stringify(body.error ?? body));
  process.exit(1);
}

console.log(`Organization ${body.organization.id} (${body.organization.plan}) with owner ${body.owner.email}.

Admin API key (shown once — store it now):
  ${body.apiKey.key}

Try it:
  curl -s ${values.url}/v1/users/me -H "Authorization: Bearer ${body.apiKey.key}"
`);
