import type { Context } from "hono";
import type { AppEnv } from "../http/context";
import { selfOnlyPolicy } from "../http/page-policy";

/**
 * `/dashboard`: the page that boots the dashboard. The dashboard itself is plain
 * TypeScript in `dashboard/`, bundled by esbuild into public/dashboard/ on `npm install`
 * and `npm run dev` (scripts/dashboard-assets.mjs) and served as Workers static assets;
 * it calls only the public `/v1` API, with the key the person pasted (kept in
 * sessionStorage). The policy names no origin but this Worker's: no inline script or
 * style, no framing, no form posts.
 */

export const DASHBOARD_SCRIPT_PATH = "/dashboard/app.js";
export const DASHBOARD_STYLE_PATH = "/dashboard/app.css";

export const DASHBOARD_CSP = selfOnlyPolicy();

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="referrer" content="no-referrer" />
    <link rel="icon" href="data:," />
    <title>Verk dashboard</title>
    <link rel="stylesheet" href="${DASHBOARD_STYLE_PATH}" />
    <script type="module" src="${DASHBOARD_SCRIPT_PATH}"></script>
  </head>
  <body>
    <a class="skip" href="#main">Skip to content</a>
    <div id="app"><main id="main" tabindex="-1"><p>Loading the dashboard…</p></main></div>
    <noscript>The dashboard needs JavaScript. The API reference is at <a href="/docs">/docs</a>.</noscript>
  </body>
</html>
`;

export function dashboardPage(c: Context<AppEnv>) {
  return c.html(PAGE, 200, {
    "Content-Security-Policy": DASHBOARD_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
  });
}
