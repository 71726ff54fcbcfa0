/**
 * The closed sets of values stored in D1 columns: defined once, used by the drizzle
 * schema (column types), the domain rules and the zod contracts alike.
 */
export const PLANS = ["free", "pro", "enterprise"] as const;
export const ROLES = ["owner", "admin", "member"] as const;
export const SCOPES = ["read", "write", "admin"] as const;
export const TASK_STATUSES = ["todo", "in_progress", "done"] as const;
export const TASK_PRIORITIES = ["low", "medium", "high", "urgent"] as const;
export const DELIVERY_STATUSES = ["pending", "succeeded", "failed"] as const;

export type Role = (typeof ROLES)[number];
