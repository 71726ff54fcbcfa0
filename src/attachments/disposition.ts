// File names and media types as they travel in headers: RFC 6266 (Content-Disposition),
// RFC 8187 (filename*=UTF-8''…) and RFC 9110 §8.3.1 (media types).
import { validationError } from "../core/errors";

export const MAX_NAME_LENGTH = 255;
export const DEFAULT_CONTENT_TYPE = "application/octet-stream";

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(\\s*;\\s*${TOKEN}=(${TOKEN}|"[^"\\\\\\r\\n]*"))*$`);
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
const FORBIDDEN_IN_NAME = /[\u0000-\u001f\u007f/\\]/;

/** A file name safe to store and hand back: 1–255 characters, no path separators, no control characters. */
export function checkFileName(name: string | undefined, field = "filename"): string {
  if (name === undefined || name.trim() === "") {
    throw validationError(
      field,
      "A file name is required (?filename=, Content-Disposition or the multipart part's filename)",
    );
  }
  const normalized = name.normalize("NFC");
  if (normalized.length > MAX_NAME_LENGTH) {
    throw validationError(field, `The file name is longer than ${MAX_NAME_LENGTH} characters`);
  }
  if (FORBIDDEN_IN_NAME.test(normalized) || normalized === "." || normalized === "..") {
    throw validationError(field, "The file name may not contain path separators or control characters");
  }
  return normalized;
}

/** A syntactically valid media type (RFC 9110 §8.3.1), lower-cased type and subtype; absent → application/octet-stream. */
export function checkContentType(value: string | undefined, field = "Content-Type"): string {
  const trimmed = value?.trim() ?? "";
  if (trimmed === "") return DEFAULT_CONTENT_TYPE;
  if (trimmed.length > MAX_NAME_LENGTH || !MEDIA_TYPE.test(trimmed)) {
    throw validationError(field, "Not a valid media type (type/subtype)");
  }
  const [essence, ...params] = trimmed.split(";");
  return [essence!.toLowerCase(), ...params.map((p) => p.trim())].join("; ");
}

/**
 * The file name a Content-Disposition value carries: `filename*` (RFC 8187, UTF-8)
 * before `filename`; undefined when it has neither.
 */
export function fileNameOf(disposition: string | undefined): string | undefined {
  if (!disposition) return undefined;
  const extended = /(?:^|;)\s*filename\*\s*=\s*([^;]+)/i.exec(disposition)?.[1]?.trim();
  if (extended) {
    const match = /^utf-8'[^']*'(.*)$/i.exec(extended);
    if (match) {
      try {
        return decodeURIComponent(match[1]!);
      } catch {
        throw validationError("Content-Disposition", "filename* is not valid percent-encoded UTF-8");
      }
    }
  }
  const plain = /(?:^|;)\s*filename\s*=\s*("((?:[^"\\]|\\.)*)"|[^;]*)/i.exec(disposition);
  if (!plain) return undefined;
  return plain[2] !== undefined ? plain[2].replace(/\\(.)/g, "$1") : plain[1]!.trim();
}

/**
 * `attachment` with the name twice: an ASCII fallback (`filename`, quotes and
 * non-ASCII replaced) and the exact UTF-8 name (`filename*`, RFC 8187), so browsers
 * save the file under its name and never render it inline.
 */
export function contentDispositionFor(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
