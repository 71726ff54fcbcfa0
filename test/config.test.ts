import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ConfigError, configFrom } from "../src/config";
import type { Env } from "../src/env";

const withVars = (vars: Record<string, string | undefined>) => ({ ...env, ...vars }) as Env;

describe("configuration", () => {
  it("parses wrangler.toml's [vars] into typed settings, with defaults for what is unset", () => {
    const config = configFrom(
      withVars({
        WEBHOOK_RETRY_SCHEDULE: "60, 300",
        WEBHOOK_ALLOW_LOCALHOST: "false",
        DELIVERY_STALL_SECONDS: undefined,
      }),
    );
    expect(config.webhookRetryScheduleSeconds).toEqual([60, 300]);
    expect(config.webhookAllowLocalhost).toBe(false);
    expect(config.deliveryStallSeconds).toBe(3600);
    expect(config.authFailuresPerMinute).toBe(20);
    expect(config.webhookFailingThreshold).toBe(0.5);
    expect(configFrom(withVars({ WEBHOOK_FAILING_THRESHOLD: "0" })).webhookFailingThreshold).toBe(0);
  });

  it("CORS_ALLOWED_ORIGINS: '*' when unset, otherwise the listed origins", () => {
    expect(configFrom(withVars({ CORS_ALLOWED_ORIGINS: undefined })).corsAllowedOrigins).toBe("*");
    expect(
      configFrom(withVars({ CORS_ALLOWED_ORIGINS: "https://app.example.com, http://localhost:5173" }))
        .corsAllowedOrigins,
    ).toEqual(["https://app.example.com", "http://localhost:5173"]);
  });

  it.each([
    ["AUTH_FAILURES_PER_MINUTE", "abc", "whole number"],
    ["WEBHOOK_TIMEOUT_MS", "0", "whole number"],
    ["WEBHOOK_ALLOW_LOCALHOST", "yes", "'true' or 'false'"],
    ["WEBHOOK_RETRY_SCHEDULE", "60,soon", "comma-separated seconds"],
    ["WEBHOOK_RETRY_SCHEDULE", "60,50000", "43200"],
    ["WEBHOOK_FAILING_THRESHOLD", "1.5", "fraction from 0 to 1"],
    ["WEBHOOK_FAILING_THRESHOLD", "half", "fraction from 0 to 1"],
    ["WEBHOOK_FAILING_MIN_ATTEMPTS", "0", "whole number"],
    ["CORS_ALLOWED_ORIGINS", "https://app.example.com/", "no trailing slash"],
    ["CORS_ALLOWED_ORIGINS", "https://app.example.com,app.example.com", "'app.example.com'"],
    ["CORS_ALLOWED_ORIGINS", "https://app.example.com,*", "expected '*' or comma-separated origins"],
  ])("refuses %s=%s loudly, naming the variable and the expected form", (name, value, expected) => {
    let error: unknown;
    try {
      configFrom(withVars({ [name]: value }));
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(name);
    expect((error as ConfigError).message).toContain(expected);
  });
});
