/** Every error code the API answers with, and its HTTP status: the one table. */
export const ERROR_STATUS = {
  VALIDATION_ERROR: 400,
  INVALID_JSON: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  PLAN_LIMIT: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** A failure with a code the client can act on; thrown anywhere, answered once by the error handler. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly field?: string;
  readonly headers?: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: { field?: string; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.field = options.field;
    this.headers = options.headers;
  }

  get status(): (typeof ERROR_STATUS)[ErrorCode] {
    return ERROR_STATUS[this.code];
  }
}

export const notFound = (what: string) => new ApiError("NOT_FOUND", `${what} not found`);

export const validationError = (field: string, message: string) => new ApiError("VALIDATION_ERROR", message, { field });

export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string; requestId: string };
}

export function errorBody(error: ApiError, requestId: string): ErrorBody {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.field !== undefined ? { field: error.field } : {}),
      requestId,
    },
  };
}
