import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            // Test-only secrets; real ones come from `wrangler secret put` or .dev.vars.
            ADMIN_TOKEN: "test-admin-token-0123456789abcdef",
            WEBHOOK_ENCRYPTION_KEY: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            WEBHOOK_ALLOW_LOCALHOST: "true",
            WEBHOOK_RETRY_SCHEDULE: "1,2,3",
          },
        },
      }),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      setupFiles: ["./test/apply-migrations.ts"],
      // Two cores on CI machines: keep parallel workers modest.
      maxWorkers: 2,
      silent: "passed-only" as const,
    },
  };
});
