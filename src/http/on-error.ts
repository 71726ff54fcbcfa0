import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { AppError } from "../core/errors";
import { StaleWriteError } from "../core/write-context";
import type { AppEnv } from "./context";
import { errorBody } from "./errors";

/** The one way out for every failure: the spec's error body with the request id. */
export function handleError(err: Error, c: Context<AppEnv>): Response {
  const requestId = c.get("requestId") ?? "unknown";
  let apiError: AppError;
  if (err instanceof AppError) {
    apiError = err;
  } else if (err instanceof StaleWriteError) {
    apiError = c.req.header("If-Match")
      ? new AppError("PRECONDITION_FAILED", "The resource changed since the ETag in If-Match")
      : new AppError("CONFLICT", "The resource was changed by another request at the same time; retry");
  } else if (err instanceof HTTPException && err.status < 500) {
    apiError = apiErrorFromHttpException(err);
  } else {
    console.error(
      JSON.stringify({ level: "error", msg: "unhandled error", requestId, error: err.message, stack: err.stack }),
    );
    apiError = new AppError("INTERNAL_ERROR", "Internal error; quote the requestId when reporting it");
  }
  const response = c.json(errorBody(apiError, requestId), apiError.status);
  for (const [name, value] of Object.entries(apiError.headers ?? {})) response.headers.set(name, value);
  response.headers.set("X-Request-Id", requestId);
  return response;
}

export function handleNotFound(c: Context<AppEnv>): Response {
  return handleError(new AppError("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}`), c);
}

/** Exceptions raised inside Hono or its validators, in the spec's codes. */
function apiErrorFromHttpException(err: HTTPException): AppError {
  switch (err.status) {
    case 400:
      return new AppError("INVALID_JSON", "Request body is not valid JSON");
    case 404:
      return new AppError("NOT_FOUND", err.message || "Not found");
    case 413:
      return new AppError("PAYLOAD_TOO_LARGE", err.message || "Request body too large");
    case 415:
      return new AppError("UNSUPPORTED_MEDIA_TYPE", "Request bodies must be JSON (Content-Type: application/json)");
    default:
      return new AppError("VALIDATION_ERROR", err.message || "Bad request");
  }
}
