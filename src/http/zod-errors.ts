import type { ZodError } from "zod";
import { AppError } from "../core/errors";

type Target = "json" | "query" | "param" | "header" | "form" | "cookie";

/** Turns the first zod issue into a 400 that names the offending field. */
export function apiErrorFromZod(error: ZodError, target: Target): AppError {
  const issue = error.issues[0];
  if (!issue) return new AppError("VALIDATION_ERROR", "Invalid request");
  const path = issue.path.map(String);
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    const field = [...path, key].join(".");
    const where = target === "query" ? "query parameter" : "field";
    return new AppError("VALIDATION_ERROR", `Unknown ${where} '${field}'`, { field });
  }
  const field = path.join(".");
  if (!field) {
    return new AppError("VALIDATION_ERROR", target === "json" ? "Request body must be a JSON object" : issue.message);
  }
  if (issue.code === "invalid_type" && issue.message.endsWith("received undefined")) {
    return new AppError("VALIDATION_ERROR", `${field} is required`, { field });
  }
  return new AppError("VALIDATION_ERROR", `${field}: ${issue.message}`, { field });
}
