// Vitest globalSetup (runs in Node, outside workerd): a real HTTP receiver on
// 127.0.0.1 that webhook deliveries in the tests are sent to. Its address reaches
// the Worker as the TEST_RECEIVER_URL binding (see vitest.config.ts).
import { startReceiver } from "../scripts/webhook-receiver.mjs";

/** @param {{ provide: (key: string, value: unknown) => void }} context */
export default async function setup({ provide }) {
  const receiver = await startReceiver();
  provide("receiverUrl", receiver.url);
  return () => receiver.close();
}
