import { drizzle } from "drizzle-orm/d1";
import { type Config, configFrom, MAX_QUEUE_DELAY_SECONDS } from "../config";
import { runCapped } from "../core/concurrency";
import { boundedMemo } from "../core/memo";
import type { Webhook } from "../db/schema";
import type { Env } from "../env";
import { deliveryBody, type PayloadEvent } from "./payload";
import { decryptSecret, unlessUnreadable } from "./secrets";
import { signatureHeaders } from "./signing";
import { type Signer, type SigningKeyReads, signersFor } from "./signing-keys";
import { checkWebhookUrl } from "./url-policy";

export const USER_AGENT = "Verk-Webhooks/1.0";

const MAX_ERROR_LENGTH = 500;

/** Why a delivery or test of a webhook whose secret cannot be decrypted was not sent (see UnreadableSecretError). */
export const UNREADABLE_SECRET_REASON =
  "Not sent: the webhook's signing secret cannot be decrypted; rotate the secret to give it a new one";

/** Why a delivery or test of a webhook whose scheme's signing key cannot be decrypted was not sent. */
export const UNREADABLE_SIGNING_KEY_REASON =
  "Not sent: the organization's signing key for the webhook's signature scheme cannot be decrypted; rotate the signing key";

/** What one HTTP attempt came to. */
export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  responseTimeMs: number;
  error: string | null;
  /** From `Retry-After` on a 429 or 503, capped at 12 h. */
  retryAfterSeconds?: number;
  /** The headers the request went out with, signatures included: stored with the attempt. */
  requestHeaders: Record<string, string>;
}

export interface SignedRequest {
  url: string;
  eventType: string;
  deliveryId: string;
  body: string;
  /** Current secret first, then a rotated-out one still in its grace period. */
  secrets: [string, ...string[]];
  /** The organization's key pairs that sign too, for a webhook with a public-key scheme. */
  signers?: Signer[];
  extraHeaders?: Record<string, string>;
}

/**
 * POSTs one signed delivery attempt. Redirects are not followed (a 3xx is a failure
 * naming the new location), so a public URL cannot bounce the request elsewhere.
 */
export async function postSigned(config: Config, request: SignedRequest, now = Date.now()): Promise<AttemptResult> {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "User-Agent": USER_AGENT,
    "X-Verk-Event": request.eventType,
    "X-Verk-Delivery": request.deliveryId,
    ...(await signatureHeaders({
      id: request.deliveryId,
      timestamp: Math.floor(now / 1000),
      body: request.body,
      secrets: request.secrets,
      signers: request.signers,
    })),
    ...request.extraHeaders,
  };
  const started = Date.now();
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: "POST",
      headers,
      body: request.body,
      redirect: "manual",
      signal: AbortSignal.timeout(config.webhookTimeoutMs),
    });
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    return {
      ok: false,
      statusCode: null,
      responseTimeMs: Date.now() - started,
      error: truncate(timedOut ? `Timed out after ${config.webhookTimeoutMs} ms` : `Request failed: ${String(error)}`),
      requestHeaders: headers,
    };
  }
  const responseTimeMs = Date.now() - started;
  const status = response.status;
  if (status >= 200 && status < 300) {
    await response.body?.cancel();
    return { ok: true, statusCode: status, responseTimeMs, error: null, requestHeaders: headers };
  }
  let error: string;
  if (status >= 300 && status < 400) {
    await response.body?.cancel();
    error = `Redirect (HTTP ${status}) not followed${response.headers.get("Location") ? ` to ${response.headers.get("Location")}` : ""}; point the webhook at the final URL`;
  } else {
    const snippet = await readSnippet(response, 200);
    error = `HTTP ${status}${snippet ? `: ${snippet}` : ""}`;
  }
  const result: AttemptResult = {
    ok: false,
    statusCode: status,
    responseTimeMs,
    error: truncate(error),
    requestHeaders: headers,
  };
  if (status === 429 || status === 503) {
    const retryAfter = parseRetryAfter(response.headers.get("Retry-After"), now);
    if (retryAfter !== undefined) result.retryAfterSeconds = retryAfter;
  }
  return result;
}

/** `Retry-After` as delay-seconds or an HTTP date, in whole seconds from `now`, at most 12 h. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  let seconds: number;
  if (/^\d+$/.test(trimmed)) seconds = Number(trimmed);
  else {
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) return undefined;
    seconds = Math.ceil((at - now) / 1000);
  }
  return Math.min(Math.max(seconds, 0), MAX_QUEUE_DELAY_SECONDS);
}

/**
 * The wait before the next attempt after the `attempt`-th (1-based) failed: the
 * schedule's step (its last step repeated when the schedule is shorter than the
 * queue's retries), ±10% jitter so retries of one outage do not arrive together.
 */
export function retryDelaySeconds(schedule: number[], attempt: number, random: () => number = Math.random): number {
  const base = schedule[Math.min(Math.max(attempt, 1), schedule.length) - 1] ?? 60;
  const jittered = Math.round(base * (0.9 + 0.2 * random()));
  return Math.min(Math.max(jittered, 0), MAX_QUEUE_DELAY_SECONDS);
}

/** What an attempt came to, before it is recorded: the outcome decides what is written and whether to retry. */
export type Outcome =
  | { kind: "succeeded"; result: AttemptResult }
  /** 410 Gone: the receiver asks us to stop; the webhook is disabled. */
  | { kind: "gone"; result: AttemptResult }
  /** Any other failure: counts against the webhook and is retried on the schedule. */
  | { kind: "failed"; result: AttemptResult }
  /** Never sent (webhook disabled, URL no longer allowed, secret unreadable): the delivery ends failed. */
  | { kind: "notSent"; reason: string };

function notSent(reason: string): Outcome {
  return { kind: "notSent", reason: truncate(reason) };
}

/** One delivery to attempt: its id, the event it carries, the webhook it goes to, and whose organization. */
export interface AttemptTarget {
  deliveryId: string;
  event: PayloadEvent;
  webhook: Webhook;
  organization: { id: string; name: string };
}

/** The URL policy's verdicts by URL: the same few URLs are checked on every delivery. */
const urlVerdicts = boundedMemo<ReturnType<typeof checkWebhookUrl>>(1_000);

/**
 * Makes one attempt of a delivery: checks the webhook may be sent to, signs the body
 * with its live secrets and POSTs it. Writes nothing; the caller records the outcome.
 * `reads` holds the signing keys its run has read already (see SigningKeyReads).
 */
export async function makeAttempt(
  env: Env,
  target: AttemptTarget,
  now: number,
  reads: SigningKeyReads,
): Promise<Outcome> {
  const config = configFrom(env);
  const { webhook, deliveryId } = target;
  if (!webhook.enabled) {
    return notSent(`Not sent: the webhook is disabled${webhook.disabledReason ? ` (${webhook.disabledReason})` : ""}`);
  }
  const allowLocalhost = config.webhookAllowLocalhost;
  const verdict = urlVerdicts.get(`${allowLocalhost}\n${webhook.url}`, () =>
    checkWebhookUrl(webhook.url, { allowLocalhost }),
  );
  if (!verdict.ok) return notSent(`Not sent: ${verdict.reason}`);
  const secrets = await liveSecretsOrNull(env, webhook, new Date(now).toISOString(), deliveryId);
  if (!secrets) return notSent(UNREADABLE_SECRET_REASON);
  const signers = await liveSignersOrNull(env, webhook, new Date(now).toISOString(), deliveryId, reads);
  if (!signers) return notSent(UNREADABLE_SIGNING_KEY_REASON);

  const body = deliveryBody(target.event, { webhookId: webhook.id, deliveryId, organization: target.organization });
  const result = await postSigned(
    config,
    { url: webhook.url, eventType: target.event.type, deliveryId, body, secrets, signers },
    now,
  );
  if (result.ok) return { kind: "succeeded", result };
  if (result.statusCode === 410) return { kind: "gone", result };
  return { kind: "failed", result };
}

/** How many attempts run at once. */
export interface SendCaps {
  /**
   * In all. Production lets six connections wait for response headers per invocation
   * (fetch and D1 alike); the batch that records the outcomes needs one.
   */
  concurrency: number;
  /** To one webhook, so one slow receiver cannot take every slot. */
  perWebhook: number;
}

/**
 * Makes the attempts of `targets` under `caps`, none starting after `deadline` (ms since
 * the epoch). Returns each started one's outcome and start time by index, and the
 * indexes of those not started. Writes nothing: the caller records the outcomes. The
 * organization's signing keys are read at most once per scheme for the whole run.
 */
export function makeAttempts(env: Env, targets: AttemptTarget[], caps: SendCaps, deadline: number) {
  const reads: SigningKeyReads = new Map();
  return runCapped(
    targets.map((target) => ({
      lane: target.webhook.id,
      run: async () => {
        const startedAt = Date.now();
        return { startedAt, outcome: await makeAttempt(env, target, startedAt, reads) };
      },
    })),
    { total: caps.concurrency, perLane: caps.perWebhook, deadline },
  );
}

/**
 * When the attempt numbered `attempt` (1-based, within the current chain of attempts)
 * failed: the next one, or null once the queue's retries are used up (the attempt
 * after the first plus `eventsQueueMaxRetries` is the last).
 */
export function nextAttemptDelay(
  config: Config,
  result: AttemptResult,
  attempt: number,
  random: () => number = Math.random,
): number | null {
  if (attempt > config.eventsQueueMaxRetries) return null;
  return result.retryAfterSeconds ?? retryDelaySeconds(config.webhookRetryScheduleSeconds, attempt, random);
}

/**
 * The secrets that sign now: the current one, and the previous one during its grace
 * period. Throws UnreadableSecretError when either cannot be decrypted.
 */
export async function liveSecrets(env: Env, webhook: Webhook, now: string): Promise<[string, ...string[]]> {
  const current = await decryptSecret(env, webhook.secretCiphertext, { webhookId: webhook.id, slot: "current" });
  if (webhook.previousSecretCiphertext && webhook.previousSecretExpiresAt && webhook.previousSecretExpiresAt > now) {
    const previous = await decryptSecret(env, webhook.previousSecretCiphertext, {
      webhookId: webhook.id,
      slot: "previous",
    });
    return [current, previous];
  }
  return [current];
}

/** liveSecrets, or null (logged) when a secret cannot be decrypted: the delivery is then not sent. */
export function liveSecretsOrNull(env: Env, webhook: Webhook, now: string, deliveryId: string) {
  return unlessUnreadable(liveSecrets(env, webhook, now), "webhook secret cannot be decrypted; not sent", {
    webhookId: webhook.id,
    deliveryId,
  });
}

/**
 * The organization's key pairs that sign for the webhook's scheme now (none for
 * `hmac-sha256`), or null (logged) when a private half cannot be decrypted. With
 * `reads`, the keys are read from D1 once for the run that shares it.
 */
export async function liveSignersOrNull(
  env: Env,
  webhook: Webhook,
  now: string,
  deliveryId: string,
  reads?: SigningKeyReads,
): Promise<Signer[] | null> {
  if (webhook.signatureScheme === "hmac-sha256") return [];
  return unlessUnreadable(
    signersFor(env, drizzle(env.DB), webhook.orgId, webhook.signatureScheme, now, reads),
    "signing key cannot be decrypted; not sent",
    { webhookId: webhook.id, deliveryId, scheme: webhook.signatureScheme },
  );
}

async function readSnippet(response: Response, maxChars: number): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return "";
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (text.length < maxChars) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // A body that breaks off still leaves its status code to report.
  } finally {
    reader.cancel().catch(() => {});
  }
  return text.slice(0, maxChars).replace(/\s+/g, " ").trim();
}

export function truncate(text: string): string {
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}
