#!/usr/bin/env node
// Bundles the dashboard (dashboard/src, plain TypeScript with the SDK from sdk/src) with
// esbuild into public/dashboard/app.js and app.css, which wrangler serves as Workers static
// assets (`[assets]` in wrangler.toml); the page itself is the Worker's (src/dashboard/).
// Runs on `npm install` (postinstall), before `npm run dev` and in `npm run test:browser`;
// public/ is not committed. Fails if the JavaScript exceeds its budget: 100 KiB gzipped.
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const BUDGET = 100 * 1024;

export async function buildDashboardAssets() {
  const target = join(ROOT, "public", "dashboard");
  mkdirSync(target, { recursive: true });
  // Loaded here, not at the top: scripts/dev.mjs imports this file before a fresh clone has node_modules.
  const { build } = await import("esbuild");
  await build({
    entryPoints: [join(ROOT, "dashboard/src/main.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    outfile: join(target, "app.js"),
    logLevel: "error",
  });
  copyFileSync(join(ROOT, "dashboard/src/app.css"), join(target, "app.css"));
  const gzipped = gzipSync(readFileSync(join(target, "app.js"))).length;
  if (gzipped > BUDGET) throw new Error(`dashboard JavaScript is ${gzipped} bytes gzipped, over its ${BUDGET} budget`);
  return gzipped;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const gzipped = await buildDashboardAssets();
  console.log(`Dashboard bundled into public/dashboard/ (${(gzipped / 1024).toFixed(1)} KiB of JavaScript gzipped)`);
}
