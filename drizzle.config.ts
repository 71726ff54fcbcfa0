import { defineConfig } from "drizzle-kit";

// drizzle-kit writes flat SQL files that `wrangler d1 migrations apply` and the
// test setup (readD1Migrations) both read.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema.ts",
  out: "./migrations",
});
