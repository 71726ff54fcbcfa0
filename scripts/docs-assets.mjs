#!/usr/bin/env node
// Copies the API reference UI (Scalar's standalone bundle, the exact version pinned in
// package.json) into public/docs/, which wrangler serves as Workers static assets
// (`[assets]` in wrangler.toml): /docs works with no internet and names no other origin.
// Runs on `npm install` (postinstall) and before `npm run dev`; public/ is not committed.
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

export function copyDocsAssets() {
  // The package's `exports` hide package.json and the browser build from resolution.
  const packageDir = join(ROOT, "node_modules", "@scalar", "api-reference");
  const { version } = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));
  const target = join(ROOT, "public", "docs");
  mkdirSync(target, { recursive: true });
  copyFileSync(join(packageDir, "dist", "browser", "standalone.js"), join(target, "scalar.js"));
  return version;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`API reference UI (@scalar/api-reference ${copyDocsAssets()}) copied to public/docs/`);
}
