import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    plugins: [
      // A function, so the webhook receiver started by the globalSetup (in Node) can hand
      // its address to the Worker as a binding.
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            // Test-only secrets; real ones come from `wrangler secret put` or .dev.vars.
            ADMIN_TOKEN: "test-admin-token-0123456789abcdef",
            WEBHOOK_ENCRYPTION_KEY: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            WEBHOOK_ALLOW_LOCALHOST: "true",
            WEBHOOK_RETRY_SCHEDULE: "1,2,3",
            // Short, so the timeout test waits 2 s rather than 5.
            WEBHOOK_TIMEOUT_MS: "2000",
            TEST_RECEIVER_URL: inject<string>("receiverUrl"),
          },
        },
      })),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      setupFiles: ["./test/apply-migrations.ts"],
      globalSetup: ["./test/webhook-receiver.setup.mjs"],
      // Two cores on CI machines: keep parallel workers modest.
      maxWorkers: 2,
      // CI has two cores shared by workerd and vitest: allow slow, not hung.
      testTimeout: 30_000,
      silent: "passed-only" as const,
    },
  };
});
