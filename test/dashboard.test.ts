import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, policyDirectives } from "./harness";

/**
 * `/dashboard`: the page comes from the Worker with a policy that lets the browser load
 * and call nothing but this origin, and no inline script or style; the bundle it loads is
 * a static asset of this Worker (scripts/dashboard-assets.mjs). The dashboard's behaviour
 * is tested in a browser by `npm run test:browser`.
 */
describe("/dashboard", () => {
  it("is served with a strict Content-Security-Policy", async () => {
    const res = await call("GET", "/dashboard");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
    const csp = res.headers.get("Content-Security-Policy")!;
    const directives = policyDirectives(csp);
    expect(directives["default-src"]).toEqual(["'self'"]);
    expect(directives["script-src"]).toEqual(["'self'"]);
    expect(directives["style-src"]).toEqual(["'self'"]);
    expect(directives["connect-src"]).toEqual(["'self'"]);
    expect(directives["frame-ancestors"]).toEqual(["'none'"]);
    expect(csp).not.toContain("unsafe");
    expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
  });

  it("loads only its own bundle and stylesheet, which the Worker serves", async () => {
    const page = String((await call("GET", "/dashboard")).body);
    const references = [...page.matchAll(/\b(?:src|href)\s*=\s*"([^"]*)"/g)].map((m) => m[1]);
    expect(references).toEqual(["data:,", "/dashboard/app.css", "/dashboard/app.js", "#main", "/docs"]);
    expect(page).not.toMatch(/<script>|<style|style="/);

    const script = await env.ASSETS.fetch("https://verk.test/dashboard/app.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("Content-Type")).toMatch(/javascript/);
    const code = await script.text();
    // It calls the public API on its own origin, and names no other.
    expect(code).toContain("/v1/webhooks");
    const origins = new Set([...code.matchAll(/https?:\/\/[a-z0-9.:-]+/gi)].map((m) => m[0]));
    // The SDK's default base URL (unused: the dashboard passes location.origin), the SVG
    // namespace and the example in the URL field's placeholder; nothing is loaded from them.
    expect([...origins].sort()).toEqual(["http://127.0.0.1:8787", "http://www.w3.org", "https://example.com"]);
    const style = await env.ASSETS.fetch("https://verk.test/dashboard/app.css");
    expect(style.status).toBe(200);
  });

  it("is the same page at /dashboard/ (its asset paths are absolute)", async () => {
    const res = await call("GET", "/dashboard/");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Security-Policy")).toContain("default-src 'self'");
    expect(String(res.body)).toContain('src="/dashboard/app.js"');
  });

  it("needs no key to load: the page asks for one", async () => {
    const res = await call("GET", "/dashboard");
    expect(String(res.body)).toContain("Loading the dashboard");
    expect(res.headers.get("Set-Cookie")).toBeNull();
  });
});
