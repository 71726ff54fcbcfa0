import type { Context } from "hono";
import type { AppEnv } from "../../http/context";
import { selfOnlyPolicy } from "../../http/page-policy";

/**
 * `/docs`: the API reference, rendered in the browser by Scalar's standalone bundle
 * (`@scalar/api-reference`, the exact version pinned in package.json), which wrangler
 * serves as a static asset at `/docs/scalar.js` (scripts/docs-assets.mjs copies it into
 * public/). Nothing is fetched from another origin: the Content-Security-Policy names
 * only this Worker's own, and Scalar's telemetry and AI agent are off. (Scalar 1.76's
 * theme still asks for its web fonts at fonts.scalar.com despite `withDefaultFonts:
 * false`; the policy blocks them and the page renders in the system's fonts.)
 */

export const DOCS_UI_PATH = "/docs/scalar.js";
export const DOCS_INIT_PATH = "/docs/init.js";

/** Only this origin; inline styles because the UI themes itself with style attributes. */
export const DOCS_CSP = selfOnlyPolicy({ inlineStyles: true });

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Verk API reference</title>
  </head>
  <body>
    <div id="api-reference"></div>
    <noscript>The reference needs JavaScript. The document itself is at <a href="/openapi.json">/openapi.json</a>.</noscript>
    <script src="${DOCS_UI_PATH}"></script>
    <script src="${DOCS_INIT_PATH}"></script>
  </body>
</html>
`;

/** A separate script rather than an inline one, so the policy needs no 'unsafe-inline' for scripts. */
const INIT = `Scalar.createApiReference("#api-reference", ${JSON.stringify({
  url: "/openapi.json",
  withDefaultFonts: false,
  telemetry: false,
  agent: { disabled: true },
  hideClientButton: true,
  showDeveloperTools: "never",
})});
`;

const COMMON_HEADERS = {
  "Content-Security-Policy": DOCS_CSP,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-cache",
};

export function docsPage(c: Context<AppEnv>) {
  return c.html(PAGE, 200, COMMON_HEADERS);
}

export function docsInit(c: Context<AppEnv>) {
  return c.body(INIT, 200, { ...COMMON_HEADERS, "Content-Type": "text/javascript; charset=utf-8" });
}
