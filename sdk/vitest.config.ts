import { defineConfig } from "vitest/config";

// The SDK's own tests run in Node (not workerd): they test the client against fake
// servers on 127.0.0.1 and the server's signing code, not the Worker.
export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ["test/**/*.test.ts"],
    environment: "node",
    testTimeout: 15_000,
  },
});
