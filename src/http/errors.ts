import type { AppError, ErrorCode } from "../core/errors";

export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string; requestId: string };
}

export function errorBody(error: AppError, requestId: string): ErrorBody {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.field !== undefined ? { field: error.field } : {}),
      requestId,
    },
  };
}
