import { expect } from "vitest";
import { WebhookVerificationError } from "../src/index";

/** The code of the WebhookVerificationError a verification rejects with (failing the test if it resolves or throws anything else). */
export async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WebhookVerificationError);
  return (error as WebhookVerificationError).code;
}
