/**
 * The Content-Security-Policy of the pages the Worker serves (`/docs`, `/dashboard`):
 * the browser may load and call nothing but this origin, run no inline script, post no
 * form and be framed by no one. `inlineStyles` for a UI that themes itself with style
 * attributes (Scalar's reference).
 */
export function selfOnlyPolicy({ inlineStyles = false } = {}): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    `style-src 'self'${inlineStyles ? " 'unsafe-inline'" : ""}`,
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join("; ");
}
