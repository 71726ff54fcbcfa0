// `npm run sdk:build`: the publishable @verk/sdk in sdk/dist — one ES module (openapi-fetch
// stays a dependency) and its declarations, with the generated sdk/src/schema.d.ts beside them.
import { spawnSync } from "node:child_process";
import { copyFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const SDK = join(dirname(fileURLToPath(import.meta.url)), "../sdk");
rmSync(join(SDK, "dist"), { recursive: true, force: true });
await build({
  entryPoints: [join(SDK, "src/index.ts")],
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  external: ["openapi-fetch"],
  outfile: join(SDK, "dist/index.js"),
  logLevel: "error",
});
const tsc = spawnSync("npx", ["tsc", "-p", join(SDK, "tsconfig.build.json")], { stdio: "inherit" });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
copyFileSync(join(SDK, "src/schema.d.ts"), join(SDK, "dist/schema.d.ts"));
console.log("built sdk/dist");
