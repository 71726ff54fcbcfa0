#!/usr/bin/env node
// Writes the OpenAPI document the Worker serves at /openapi.json to a file, without a
// server: the app is bundled for Node with esbuild and asked for its document (the same
// `apiDocument` the route answers with). Used by `npm run lint:openapi`.
//
//   node scripts/openapi.mjs [out.json]     (default: .openapi/openapi.json)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The app's document, as an object. */
export async function buildDocument() {
  const dir = mkdtempSync(join(tmpdir(), "verk-openapi-"));
  try {
    const entry = join(dir, "entry.ts");
    writeFileSync(
      entry,
      `import { apiDocument, buildApp } from ${JSON.stringify(join(ROOT, "src/app.ts"))};
export const document = apiDocument(buildApp());`,
    );
    const outfile = join(dir, "document.mjs");
    await build({
      entryPoints: [entry],
      bundle: true,
      format: "esm",
      platform: "node",
      outfile,
      logLevel: "error",
      nodePaths: [join(ROOT, "node_modules")],
      // Durable Object classes extend `cloudflare:workers` classes; building the document
      // constructs none of them, so empty stand-ins let the module graph load in Node.
      plugins: [
        {
          name: "workers-runtime",
          setup(b) {
            b.onResolve({ filter: /^cloudflare:/ }, (args) => ({ path: args.path, namespace: "workers-runtime" }));
            b.onLoad({ filter: /.*/, namespace: "workers-runtime" }, () => ({
              contents: "export class DurableObject {} export class WorkerEntrypoint {} export const env = {};",
              loader: "js",
            }));
          },
        },
      ],
    });
    return (await import(pathToFileURL(outfile).href)).document;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const out = resolve(process.argv[2] ?? join(ROOT, ".openapi/openapi.json"));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(await buildDocument(), null, 2)}\n`);
  console.log(`OpenAPI document written to ${out}`);
}
