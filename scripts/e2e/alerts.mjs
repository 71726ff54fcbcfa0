// e2e step: failure alerts (README "Alerts") under wrangler dev. In an organization of
// its own, a webhook on an always-failing receiver path exhausts a delivery (1 +
// max_retries attempts on the e2e's seconds-long schedule), then is disabled
// automatically by a 410 Gone; an alerts webhook on a healthy path receives
// delivery.exhausted and webhook.disabled, signed like every event, while the failing
// webhook, though subscribed to both, is sent neither. Both are in the event log.
import { check, waitFor } from "../local-worker.mjs";
import { verifyWebhook } from "../webhook-receiver.mjs";
import { apiClient } from "./api.mjs";

/**
 * @param {{ base: string, adminToken: string, receiver: any, step: (text: string) => void }} options
 */
export async function alertsStep({ base, adminToken, receiver, step }) {
  const { expectStatus } = apiClient(base);

  step("alerts: a failing webhook exhausts a delivery and is disabled; the alerts webhook hears of both");
  const created = await expectStatus(201, "POST", "/v1/admin/organizations", {
    key: adminToken,
    body: { name: "Alerts Inc", plan: "pro", owner: { name: "Ada Alert", email: "ada@alerts.example" } },
  });
  const key = created.apiKey.key;
  const project = await expectStatus(201, "POST", "/v1/projects", { key, body: { name: "Alerts" } });
  const alertTypes = ["webhook.disabled", "delivery.exhausted"];
  // Seven failures (the first attempt and max_retries 6), then 410 Gone for the next delivery.
  receiver.script(
    "alerts-down",
    Array.from({ length: 7 }, () => ({ status: 500, body: "down" })),
    { status: 410, body: "unsubscribed" },
  );
  const down = await expectStatus(201, "POST", "/v1/webhooks", {
    key,
    body: { url: `${receiver.url}/hook/alerts-down`, events: ["task.created", ...alertTypes], description: "Down" },
  });
  const watcher = await expectStatus(201, "POST", "/v1/webhooks", {
    key,
    body: { url: `${receiver.url}/hook/alerts-watch`, events: alertTypes },
  });

  const first = await expectStatus(201, "POST", "/v1/tasks", {
    key,
    body: { title: "Exhausts", projectId: project.id },
  });
  const alertOf = (type) => receiver.received("alerts-watch").find((r) => r.headers["x-verk-event"] === type);
  const exhausted = await waitFor(() => alertOf("delivery.exhausted"), "delivery.exhausted at the alerts webhook");
  const exhaustedPayload = JSON.parse(exhausted.body);
  check(
    exhaustedPayload.data.webhook.id === down.id &&
      exhaustedPayload.data.event.type === "task.created" &&
      exhaustedPayload.data.attempts === 7 &&
      exhaustedPayload.data.lastError?.statusCode === 500,
    `delivery.exhausted data: ${JSON.stringify(exhaustedPayload.data)}`,
  );
  check(verifyWebhook(exhausted.body, exhausted.headers["x-verk-signature"], watcher.secret), "alert signature");
  console.log(`  ✓ delivery.exhausted after ${exhaustedPayload.data.attempts} attempts (task ${first.id})`);

  await expectStatus(201, "POST", "/v1/tasks", { key, body: { title: "Gone", projectId: project.id } });
  const disabled = await waitFor(() => alertOf("webhook.disabled"), "webhook.disabled at the alerts webhook");
  const disabledPayload = JSON.parse(disabled.body);
  check(
    disabledPayload.data.webhook.id === down.id &&
      disabledPayload.data.reason === "gone" &&
      disabledPayload.data.lastError?.statusCode === 410 &&
      !disabled.body.includes(down.secret),
    `webhook.disabled data: ${JSON.stringify(disabledPayload.data)}`,
  );
  const downEvents = receiver.received("alerts-down").map((r) => r.headers["x-verk-event"]);
  check(
    downEvents.every((type) => type === "task.created") && downEvents.length === 8,
    `the failing webhook got: ${downEvents.join(", ")}`,
  );
  const log = await expectStatus(200, "GET", `/v1/events?resourceType=webhook&resourceId=${down.id}`, { key });
  check(log.data.length === 1 && log.data[0].type === "webhook.disabled", `event log: ${JSON.stringify(log.data)}`);
  const deliveryLog = await expectStatus(200, "GET", "/v1/events?type=delivery.exhausted", { key });
  check(deliveryLog.data.length === 1, `event log: ${deliveryLog.data.length} delivery.exhausted`);
  console.log("  ✓ webhook.disabled (gone); the failing webhook was sent no alert about itself; both in the event log");
}
