import { PLANS } from "../core/enums";

export { PLANS };
export type Plan = (typeof PLANS)[number];

export interface PlanLimits {
  requestsPerHour: number;
  burstPerMinute: number;
  /** Outgoing webhooks an organization may hold; null is unlimited. */
  webhooks: number | null;
}

/** Requests per hour and per minute, and webhooks, each plan allows (README "Rate limits"). */
export const PLAN_LIMITS: Record<Plan, PlanLimits> = {
  free: { requestsPerHour: 100, burstPerMinute: 20, webhooks: 2 },
  pro: { requestsPerHour: 1000, burstPerMinute: 100, webhooks: 50 },
  enterprise: { requestsPerHour: 10000, burstPerMinute: 500, webhooks: null },
};
