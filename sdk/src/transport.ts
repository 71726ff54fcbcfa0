import { parseRetryAfter } from "./errors";
import { webCrypto } from "./web-crypto";

export interface RetryOptions {
  /** Retries after the first attempt (default 3): on 429, on an Idempotency-Key still in progress (409 with Retry-After) and on network errors of GET and POST. */
  maxRetries?: number;
  /** The longest wait the client accepts (default 60 s); a longer `Retry-After` ends the retries and the 429 is thrown. */
  maxDelayMs?: number;
  /** The wait when the answer names none: doubled on every retry (default 500 ms). */
  baseDelayMs?: number;
}

export interface TransportOptions {
  apiKey: string;
  retry?: RetryOptions;
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Makes each POST's Idempotency-Key (default: a random UUID). */
  idempotencyKey?: () => string | Promise<string>;
  /** Waits between attempts (tests replace it). */
  sleep?: (ms: number, signal?: AbortSignal | null) => Promise<void>;
}

const sleep = (ms: number, signal?: AbortSignal | null) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

/**
 * The `fetch` every call goes through: the API key, a fresh `Idempotency-Key` on every
 * POST (the same key on that call's retries, so a retried create never creates twice:
 * README "Safe retries"), and bounded retries that wait as long as `Retry-After` says.
 */
export function verkFetch(options: TransportOptions): (request: Request) => Promise<Response> {
  const fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const newKey = options.idempotencyKey ?? (async () => (await webCrypto()).randomUUID());
  const wait = options.sleep ?? sleep;
  const maxRetries = options.retry?.maxRetries ?? 3;
  const maxDelayMs = options.retry?.maxDelayMs ?? 60_000;
  const baseDelayMs = options.retry?.baseDelayMs ?? 500;

  return async (request) => {
    const headers = new Headers(request.headers);
    headers.set("Authorization", `Bearer ${options.apiKey}`);
    if (request.method === "POST" && !headers.has("Idempotency-Key")) headers.set("Idempotency-Key", await newKey());
    // Read once, so every attempt sends the same bytes.
    const body = request.body === null ? undefined : await request.arrayBuffer();
    const retriesOnNetworkError = request.method === "GET" || headers.has("Idempotency-Key");
    const init: RequestInit = { method: request.method, headers, body, signal: request.signal };

    for (let retry = 0; ; retry += 1) {
      const backoff = baseDelayMs * 2 ** retry;
      let response: Response;
      try {
        response = await fetchImpl(request.url, init);
      } catch (error) {
        if (!retriesOnNetworkError || retry >= maxRetries || request.signal?.aborted) throw error;
        await wait(Math.min(backoff, maxDelayMs), request.signal);
        continue;
      }
      if (retry >= maxRetries || !retryable(response, headers)) return response;
      const delay = parseRetryAfter(response.headers.get("Retry-After")) ?? backoff;
      if (delay > maxDelayMs) return response;
      await response.body?.cancel();
      await wait(delay, request.signal);
    }
  };
}

/** 429, or the 409 the API answers (with Retry-After) while the same Idempotency-Key's first request still runs. */
function retryable(response: Response, sent: Headers): boolean {
  if (response.status === 429) return true;
  return response.status === 409 && sent.has("Idempotency-Key") && response.headers.has("Retry-After");
}
