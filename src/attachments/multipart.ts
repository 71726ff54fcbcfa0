// A streaming reader of a multipart/form-data body (RFC 7578) that hands on the first
// file part's bytes as they arrive: `Request.formData()` would hold the whole file in
// memory (128 MB per isolate), where this holds one chunk and a delimiter's length.
import { validationError } from "../core/errors";

/** Part headers are short; a client sending more is not sending a form. */
const MAX_HEADER_BYTES = 16 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface FilePart {
  /** The part's Content-Disposition, which names the file (RFC 7578 §4.2). */
  disposition: string;
  contentType: string | undefined;
  body: ReadableStream<Uint8Array>;
}

/** The boundary of a `multipart/form-data` Content-Type, or undefined for another media type. */
export function boundaryOf(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data\s*(;|$)/i.test(contentType.trim())) return undefined;
  const match = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) throw validationError("Content-Type", "multipart/form-data needs a boundary parameter");
  return boundary;
}

/** The first occurrence of `needle` in `haystack` at or after `from`, or -1. */
export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0];
  const last = haystack.length - needle.length;
  outer: for (let i = haystack.indexOf(first!, from); i !== -1 && i <= last; i = haystack.indexOf(first!, i + 1)) {
    for (let j = 1; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

const malformed = (message: string) => validationError("body", `Malformed multipart body: ${message}`);

/**
 * Reads `body` up to the first part that carries a filename and returns that part, its
 * bytes streamed until the next delimiter (which may be split across chunks: up to a
 * delimiter's length minus one is held back between chunks). Fields before it are
 * skipped; whatever follows it is never read.
 */
export async function firstFilePart(body: ReadableStream<Uint8Array>, boundary: string): Promise<FilePart> {
  const reader = body.getReader();
  // The first delimiter may open the body without the CRLF every later one has.
  const delimiter = encoder.encode(`\r\n--${boundary}`);
  let buffer: Uint8Array = encoder.encode("\r\n");
  let done = false;

  const pull = async (): Promise<boolean> => {
    if (done) return false;
    const next = await reader.read();
    if (next.done) {
      done = true;
      return false;
    }
    buffer = concat(buffer, next.value);
    return true;
  };
  /** Drops everything up to and including the next delimiter and the line after it. */
  const skipPast = async (): Promise<"part" | "end"> => {
    for (;;) {
      const at = indexOfBytes(buffer, delimiter);
      if (at !== -1 && buffer.length >= at + delimiter.length + 2) {
        const after = buffer.subarray(at + delimiter.length, at + delimiter.length + 2);
        if (after[0] === 0x2d && after[1] === 0x2d) return "end"; // "--": the closing delimiter
        // Keep the CRLF that ended the delimiter line: the headers then end at the first CRLFCRLF, even when there are none.
        buffer = buffer.subarray(at + delimiter.length);
        return "part";
      }
      if (at === -1 && buffer.length > delimiter.length) buffer = buffer.subarray(buffer.length - delimiter.length);
      if (!(await pull())) throw malformed("no closing boundary");
    }
  };

  for (;;) {
    if ((await skipPast()) === "end") {
      await reader.cancel();
      throw validationError("body", "The multipart body has no file part (a part with a filename)");
    }
    // The headers, up to an empty line.
    let headerEnd = indexOfBytes(buffer, encoder.encode("\r\n\r\n"));
    while (headerEnd === -1) {
      if (buffer.length > MAX_HEADER_BYTES) throw malformed("part headers too long");
      if (!(await pull())) throw malformed("unterminated part headers");
      headerEnd = indexOfBytes(buffer, encoder.encode("\r\n\r\n"));
    }
    const lines = decoder.decode(buffer.subarray(0, headerEnd)).split("\r\n");
    buffer = buffer.subarray(headerEnd + 4);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const disposition = headers.get("content-disposition") ?? "";
    // A plain field (no filename): its value is skipped up to the next delimiter.
    if (!/;\s*filename\*?\s*=/i.test(disposition)) continue;
    return {
      disposition,
      contentType: headers.get("content-type"),
      body: partStream(),
    };
  }

  /** The file part's bytes up to the next delimiter, holding back what could start one. */
  function partStream(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        for (;;) {
          const at = indexOfBytes(buffer, delimiter);
          if (at !== -1) {
            if (at > 0) controller.enqueue(buffer.slice(0, at));
            buffer = new Uint8Array(0);
            controller.close();
            await reader.cancel().catch(() => {});
            return;
          }
          const safe = buffer.length - (delimiter.length - 1);
          if (safe > 0) {
            controller.enqueue(buffer.slice(0, safe));
            buffer = buffer.slice(safe);
            return;
          }
          if (!(await pull())) {
            controller.error(malformed("the file part has no closing boundary"));
            return;
          }
        }
      },
      async cancel(reason) {
        await reader.cancel(reason);
      },
    });
  }
}
