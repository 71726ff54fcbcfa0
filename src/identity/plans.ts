import { PLANS } from "../core/enums";

export { PLANS };

const MiB = 1024 * 1024;

export type Plan = (typeof PLANS)[number];

export interface PlanLimits {
  requestsPerHour: number;
  burstPerMinute: number;
  /** Outgoing webhooks an organization may hold; null is unlimited. */
  webhooks: number | null;
  /** The largest attachment one upload may store, in bytes (README "Attachments"). */
  attachmentBytes: number;
}

/** Requests per hour and per minute, webhooks and the attachment size each plan allows (README "Rate limits", "Attachments"). */
export const PLAN_LIMITS: Record<Plan, PlanLimits> = {
  free: { requestsPerHour: 100, burstPerMinute: 20, webhooks: 2, attachmentBytes: 10 * MiB },
  pro: { requestsPerHour: 1000, burstPerMinute: 100, webhooks: 50, attachmentBytes: 100 * MiB },
  enterprise: { requestsPerHour: 10000, burstPerMinute: 500, webhooks: null, attachmentBytes: 500 * MiB },
};
