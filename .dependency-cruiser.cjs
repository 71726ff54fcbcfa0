// The layers of src/ (docs/architecture.md), checked by `npm run lint:deps` in `npm test`:
// core ← db ← domain modules ← http ← routes, dashboard ← app/index. No exceptions list.
const DOMAIN = "^src/(identity|projects|tasks|comments|events|webhooks|incoming-webhooks|ratelimit)/";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      severity: "error",
      comment: "No import cycle, type-only imports included: every layer can be read without the ones above it.",
      from: {},
      to: { circular: true },
    },
    {
      name: "core-stands-alone",
      severity: "error",
      comment: "src/core is framework-free: it imports only itself and plain libraries, never Hono.",
      from: { path: "^src/core/" },
      to: { pathNot: ["^src/core/", "^node_modules/(drizzle-orm|ipaddr\\.js)/"] },
    },
    {
      name: "db-below-the-domain",
      severity: "error",
      comment: "src/db holds tables and batch guards; it knows nothing of the domain or of HTTP.",
      from: { path: "^src/db/" },
      to: { path: "^src/(?!core/|db/)" },
    },
    {
      name: "domain-without-http",
      severity: "error",
      comment: "Domain modules never import the HTTP layer, the routes, the dashboard, the app or Hono.",
      from: { path: DOMAIN },
      to: { path: ["^src/(http|routes|dashboard)/", "^src/app\\.ts$", "^node_modules/(hono|@hono)/"] },
    },
    {
      name: "http-below-routes",
      severity: "error",
      comment: "src/http is middleware and adapters for app.ts, routes/ and dashboard/, never the other way round.",
      from: { path: "^src/http/" },
      to: { path: ["^src/(routes|dashboard)/", "^src/app\\.ts$"] },
    },
    {
      name: "dashboard-beside-routes",
      comment:
        "src/dashboard serves the dashboard's page (HTTP layer, like routes/); the dashboard calls only the public API, so it needs no handler, table or domain function.",
      severity: "error",
      from: { path: "^src/dashboard/" },
      to: { path: ["^src/(routes|db)/", "^src/app\\.ts$", DOMAIN] },
    },
    {
      name: "routes-stay-thin",
      severity: "error",
      comment: "Handlers call the domain's functions; they do not reach into the tables.",
      from: { path: "^src/routes/" },
      to: { path: "^src/db/(schema|row-guards)\\.ts$", dependencyTypesNot: ["type-only"] },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "workerd"],
    },
  },
};
