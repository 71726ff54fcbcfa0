import type { components } from "./schema";

/** The API's error codes (README "Errors"), from the generated document. */
export type ErrorCode = components["schemas"]["Error"]["error"]["code"];

/**
 * Any answer other than 2xx, as the API describes it: `{error: {code, message, field?, requestId}}`.
 * `code` is `UNKNOWN_ERROR` only when the body was not the API's (a proxy's HTML page, say).
 */
export class VerkError extends Error {
  override readonly name = "VerkError";
  readonly status: number;
  readonly code: ErrorCode | "UNKNOWN_ERROR";
  readonly field: string | undefined;
  readonly requestId: string | undefined;
  /** Seconds the API asked to wait (`Retry-After`), on 429 and on an Idempotency-Key still in progress. */
  readonly retryAfter: number | undefined;

  constructor(init: {
    status: number;
    code: ErrorCode | "UNKNOWN_ERROR";
    message: string;
    field?: string;
    requestId?: string;
    retryAfter?: number;
  }) {
    super(init.message);
    this.status = init.status;
    this.code = init.code;
    this.field = init.field;
    this.requestId = init.requestId;
    this.retryAfter = init.retryAfter;
  }

  /** The error a failed response stands for; `body` is its parsed JSON, if any. */
  static fromResponse(response: Response, body: unknown): VerkError {
    const error = isErrorBody(body) ? body.error : undefined;
    const retryAfterMs = parseRetryAfter(response.headers.get("Retry-After"));
    return new VerkError({
      status: response.status,
      code: error?.code ?? "UNKNOWN_ERROR",
      message: error?.message ?? `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`,
      field: error?.field,
      requestId: error?.requestId ?? response.headers.get("X-Request-Id") ?? undefined,
      retryAfter: retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000),
    });
  }
}

function isErrorBody(body: unknown): body is components["schemas"]["Error"] {
  if (typeof body !== "object" || body === null || !("error" in body)) return false;
  const error = body.error;
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string";
}

/** `Retry-After` in milliseconds from now: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Why `verifyWebhook` refused a delivery. */
export type WebhookVerificationReason =
  | "MISSING_SIGNATURE"
  | "INVALID_SIGNATURE"
  | "TIMESTAMP_OUT_OF_TOLERANCE"
  | "INVALID_TIMESTAMP"
  | "INVALID_PAYLOAD";

/** Thrown by `verifyWebhook`: the request is not a delivery from Verk signed with your secret. */
export class WebhookVerificationError extends Error {
  override readonly name = "WebhookVerificationError";
  readonly code: WebhookVerificationReason;

  constructor(code: WebhookVerificationReason, message: string) {
    super(message);
    this.code = code;
  }
}
