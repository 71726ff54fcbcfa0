// The attachment bytes in R2: streamed in with a size limit and a running SHA-256,
// never held whole in memory.

import { toHex } from "../core/crypto";
import { AppError } from "../core/errors";

/**
 * R2 multipart parts: every part but the last must have the same size, at least 5 MiB
 * (R2 limits). A body of unknown length is held one part at a time.
 */
export const PART_BYTES = 5 * 1024 * 1024;

export interface StoredObject {
  size: number;
  sha256: string;
}

export const tooLarge = (limit: number) =>
  new AppError("PAYLOAD_TOO_LARGE", `The file exceeds this plan's attachment limit of ${limit} bytes`);

/**
 * Counts the bytes passing through and feeds them to a SHA-256 DigestStream (workerd);
 * the stream errors with 413 as soon as more than `limit` bytes have passed.
 */
function meter(limit: number) {
  const digest = new crypto.DigestStream("SHA-256");
  const writer = digest.getWriter();
  let size = 0;
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      size += chunk.byteLength;
      if (size > limit) throw tooLarge(limit);
      await writer.write(chunk);
      controller.enqueue(chunk);
    },
    async flush() {
      await writer.close();
    },
  });
  return {
    stream,
    result: async (): Promise<StoredObject> => ({ size, sha256: toHex(new Uint8Array(await digest.digest)) }),
  };
}

/**
 * Streams `body` into the bucket under `key`. With a known length (Content-Length) the
 * bytes go straight through a FixedLengthStream into one `put`; without one (a chunked
 * body, a multipart part) they go up as an R2 multipart upload, one 5 MiB part in
 * memory at a time, or as one `put` when the whole body fits in the first part. Past
 * `limit` bytes the upload stops with 413. A failed upload may leave a partial object:
 * the caller deletes it through the key's reservation (uploadAttachment), so a failed
 * delete leaves the key for the cron rather than an orphan.
 */
export async function storeObject(
  bucket: R2Bucket,
  key: string,
  body: ReadableStream<Uint8Array>,
  { length, limit, contentType }: { length: number | null; limit: number; contentType: string },
): Promise<StoredObject> {
  if (length !== null && length > limit) {
    await body.cancel().catch(() => {});
    throw tooLarge(limit);
  }
  const metered = meter(limit);
  const source = body.pipeThrough(metered.stream);
  const httpMetadata = { contentType };
  try {
    if (length !== null) {
      await bucket.put(key, source.pipeThrough(new FixedLengthStream(length)), { httpMetadata });
    } else {
      await putUnknownLength(bucket, key, source, httpMetadata);
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (length !== null) {
      throw new AppError("VALIDATION_ERROR", "The body ended before Content-Length bytes (or ran past them)", {
        field: "Content-Length",
      });
    }
    throw error;
  }
  return metered.result();
}

async function putUnknownLength(
  bucket: R2Bucket,
  key: string,
  source: ReadableStream<Uint8Array>,
  httpMetadata: R2HTTPMetadata,
): Promise<void> {
  const reader = source.getReader();
  let upload: R2MultipartUpload | undefined;
  const parts: R2UploadedPart[] = [];
  let held: Uint8Array[] = [];
  let heldBytes = 0;
  const take = (bytes: number): Uint8Array => {
    const out = new Uint8Array(bytes);
    let filled = 0;
    while (filled < bytes) {
      const head = held[0]!;
      const n = Math.min(head.byteLength, bytes - filled);
      out.set(head.subarray(0, n), filled);
      filled += n;
      if (n === head.byteLength) held.shift();
      else held[0] = head.subarray(n);
    }
    heldBytes -= bytes;
    return out;
  };
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) break;
      held.push(next.value);
      heldBytes += next.value.byteLength;
      while (heldBytes >= PART_BYTES) {
        const part = take(PART_BYTES);
        upload ??= await bucket.createMultipartUpload(key, { httpMetadata });
        parts.push(await upload.uploadPart(parts.length + 1, part));
      }
    }
    const rest = take(heldBytes);
    held = [];
    if (!upload) {
      await bucket.put(key, rest, { httpMetadata });
      return;
    }
    if (rest.byteLength > 0 || parts.length === 0) parts.push(await upload.uploadPart(parts.length + 1, rest));
    await upload.complete(parts);
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    await upload?.abort().catch(() => {});
    throw error;
  }
}
