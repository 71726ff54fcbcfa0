// Stands in for zod's `locales/index.js` in the Worker bundle (the `[alias]` in
// wrangler.toml). zod re-exports every locale as `z.locales` and `z.core.locales`, and
// @hono/zod-openapi hands the whole `z` namespace to zod-to-openapi, so the bundler
// keeps all 60-odd languages of error messages (~38 KiB gzipped). Verk answers in
// English only (src/http/zod-errors.ts writes its own messages), so only `en` is kept:
// `z.locales.en()` still works, any other locale is undefined.
export { default as en } from "zod/v4/locales/en.js";
