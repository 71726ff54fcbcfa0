export {
  type Body,
  type ListQuery,
  type Schemas,
  type UploadBody,
  VerkClient,
  type VerkClientOptions,
} from "./client";
export {
  type ErrorCode,
  VerkError,
  WebhookVerificationError,
  type WebhookVerificationReason,
} from "./errors";
export type { Page } from "./pagination";
export type { components, operations, paths } from "./schema";
export type { RetryOptions } from "./transport";
export {
  type VerifyWebhookOptions,
  verifyWebhook,
  type WebhookEvent,
  type WebhookHeaders,
} from "./verify-webhook";
export { verifyWebhookPublicKey, type WebhookPublicKey } from "./verify-webhook-public-key";

import type { components } from "./schema";
export type Task = components["schemas"]["Task"];
export type Project = components["schemas"]["Project"];
export type Comment = components["schemas"]["Comment"];
export type Attachment = components["schemas"]["Attachment"];
export type User = components["schemas"]["User"];
export type ApiKey = components["schemas"]["ApiKey"];
export type Webhook = components["schemas"]["Webhook"];
export type SigningKey = components["schemas"]["SigningKey"];
export type Delivery = components["schemas"]["Delivery"];
export type WebhookStats = components["schemas"]["WebhookStats"];
export type Event = components["schemas"]["Event"];
export type IncomingWebhook = components["schemas"]["IncomingWebhook"];
