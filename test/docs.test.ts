import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, policyDirectives } from "./harness";

/**
 * `/docs` works with no internet: the page, its init script and the UI bundle all come
 * from this origin, and the Content-Security-Policy lets the browser load nothing from
 * any other.
 */

/** Every `src`/`href` of the page, and every URL with a scheme anywhere in it. */
function referencesIn(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)\s*=\s*"([^"]*)"/g)].map((m) => m[1]!);
}

describe("/docs: the API reference, offline", () => {
  it("is a page whose policy names only its own origin", async () => {
    const res = await call("GET", "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
    const csp = res.headers.get("Content-Security-Policy")!;
    const directives = policyDirectives(csp);
    expect(directives["default-src"]).toEqual(["'self'"]);
    expect(directives["script-src"]).toEqual(["'self'"]);
    expect(directives["connect-src"]).toEqual(["'self'"]);
    for (const sources of Object.values(directives)) {
      for (const source of sources) expect(["'self'", "'none'", "'unsafe-inline'", "data:"], csp).toContain(source);
    }
  });

  it("references nothing outside this origin, and every script it loads is served here", async () => {
    const page = String((await call("GET", "/docs")).body);
    const references = referencesIn(page);
    expect(references).toEqual(["/openapi.json", "/docs/scalar.js", "/docs/init.js"]);
    expect(page).not.toMatch(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i);

    const init = await call("GET", "/docs/init.js");
    expect(init.status).toBe(200);
    expect(init.headers.get("Content-Type")).toMatch(/^text\/javascript/);
    expect(String(init.body)).toContain('"url":"/openapi.json"');
    expect(String(init.body)).not.toMatch(/https?:\/\//);
    // Scalar's own fonts, telemetry and AI agent would call scalar.com: all off.
    expect(String(init.body)).toContain('"withDefaultFonts":false');
    expect(String(init.body)).toContain('"telemetry":false');

    // The UI bundle is a static asset of this Worker (wrangler.toml [assets]), the pinned version.
    const ui = await env.ASSETS.fetch("https://verk.test/docs/scalar.js");
    expect(ui.status).toBe(200);
    expect(ui.headers.get("Content-Type")).toMatch(/javascript/);
    expect(await ui.text()).toContain("createApiReference");
  });
});
