import type { Webhook } from "../../sdk/src/index";
import { errorText, field, h, notice } from "./dom";
import type { Session } from "./session";

type Recovery = Awaited<ReturnType<Session["client"]["webhooks"]["recover"]>>;

const DAY_MS = 86_400_000;
/** How often, and for how long at most, the pending count is read while a recovery runs. */
const FOLLOW_EVERY_MS = 2_000;
const FOLLOW_FOR_MS = 10 * 60_000;

/** A `datetime-local` value (the browser's local time, to the minute) for `ms`. */
function localInput(ms: number) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

/**
 * "Recover failed deliveries" (README "Recovering after an outage"): re-sends every
 * delivery of the webhook that ended failed in a window, after a confirm. One call takes
 * at most 1,000; while the answer says some remain, "Continue recovery" takes the next
 * ones with the same window. Then it follows the pending count until none is left and
 * refreshes the log. Offered only with webhooks:write (the caller decides);
 * disabled, with the reason, while the webhook is (the API answers 409).
 */
export function recoverControl(s: Session, webhookId: string, onQueued: () => Promise<void>) {
  const since = h("input", { type: "datetime-local", required: true, value: localInput(Date.now() - DAY_MS) });
  const until = h("input", { type: "datetime-local" });
  const submit = h("button", { type: "submit", class: "primary" }, "Recover failed deliveries");
  const proceed = h("button", { type: "button", hidden: true }, "Continue recovery");
  const reason = h("p", { id: "recover-disabled-reason", class: "hint", "data-recover-disabled": "", hidden: true });
  const status = notice();
  status.el.setAttribute("data-recover-status", "");
  const progress = h("p", { class: "hint", role: "status", "data-recover-progress": "" });
  let following = 0;
  let lastWindow: { since: string; until: string } | null = null;
  let enabled = true;

  async function run(body: { since: string; until?: string }) {
    submit.disabled = proceed.disabled = true;
    progress.textContent = "";
    try {
      const r: Recovery = await s.client.webhooks.recover(webhookId, body);
      lastWindow = { since: r.since, until: r.until };
      status.ok(`${r.queued} queued, ${r.remaining} remaining`);
      proceed.hidden = r.remaining === 0;
      proceed.textContent = `Continue recovery (${r.remaining} remaining)`;
      await onQueued();
      if (r.queued > 0) void follow(++following);
    } catch (e) {
      status.error(errorText(e));
    } finally {
      submit.disabled = proceed.disabled = !enabled;
    }
  }

  /**
   * The delivery log's own filter tells how far it is: `status=pending` counts what is
   * still underway (README "Recovering after an outage"). Once none is, the log is
   * refreshed to show each result. Stops when the page is left or a newer call follows.
   */
  async function follow(run: number) {
    const deadline = Date.now() + FOLLOW_FOR_MS;
    while (run === following && el.isConnected && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, FOLLOW_EVERY_MS));
      if (run !== following || !el.isConnected) return;
      try {
        const { pagination } = await s.client.webhooks.deliveries.list(webhookId, { status: "pending", limit: 1 });
        const pending = pagination.total ?? 0;
        if (pending > 0) {
          progress.textContent = `${pending} ${pending === 1 ? "delivery" : "deliveries"} still pending…`;
          continue;
        }
        await onQueued();
        progress.textContent = "Done: no delivery pending; the log shows each one's result.";
        return;
      } catch (e) {
        progress.textContent = `Progress unknown: ${errorText(e)}`;
        return;
      }
    }
  }

  proceed.addEventListener("click", () => {
    if (lastWindow) void run(lastWindow);
  });
  const el = h(
    "section",
    { class: "card", "aria-labelledby": "recover-title" },
    h("h2", { id: "recover-title" }, "Recover failed deliveries"),
    h(
      "p",
      { class: "hint" },
      "After an outage on your side: every delivery that ended failed in the window is sent again, once, under its own id (receivers see the same webhook-id). The log below shows them pending, then succeeded or failed again.",
    ),
    h(
      "form",
      {
        class: "inline",
        onsubmit: async (event: Event) => {
          event.preventDefault();
          const from = Date.parse(since.value);
          const to = until.value ? Date.parse(until.value) : undefined;
          if (Number.isNaN(from)) return status.error("Enter the start of the window.");
          const body = { since: new Date(from).toISOString(), ...(to ? { until: new Date(to).toISOString() } : {}) };
          const span = `since ${new Date(from).toLocaleString()}${to ? ` until ${new Date(to).toLocaleString()}` : ""}`;
          if (!confirm(`Send every delivery of this webhook that ended failed ${span} again?`)) return;
          await run(body);
        },
      },
      field("Failed since", since, "Your local time; within the delivery log's retention"),
      field("Until (optional)", until, "Defaults to now"),
      submit,
    ),
    reason,
    status.el,
    progress,
    proceed,
  );
  return {
    el,
    /** Follows the webhook's state: a disabled webhook cannot be recovered until it is enabled. */
    sync(w: Webhook) {
      enabled = w.enabled;
      reason.hidden = enabled;
      reason.textContent = enabled
        ? ""
        : "The webhook is disabled: enable it (Actions above) before recovering its deliveries.";
      submit.disabled = proceed.disabled = !enabled;
      if (enabled) submit.removeAttribute("aria-describedby");
      else submit.setAttribute("aria-describedby", reason.id);
    },
  };
}
