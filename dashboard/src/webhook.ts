import type { Delivery, Webhook } from "../../sdk/src/index";
import { EVENT_TYPES, type EventType } from "./catalog";
import { deliveryChart } from "./chart";
import { append, badge, errorText, field, h, json, notice, replace, secretBox, when } from "./dom";
import { recoverControl } from "./recover";
import { can, type Session } from "./session";
import { eventPicker, filterPicker, health, rate, schemePicker } from "./webhooks";

const STATUS_TONE = { succeeded: "ok", failed: "bad", pending: "warn" } as const;

export function deliveryStatus(d: Delivery) {
  return badge(d.status === "pending" && d.attemptCount > 0 ? "retrying" : d.status, STATUS_TONE[d.status]);
}

/** What an operational event's `data` holds that the dashboard shows. */
interface AlertData {
  reason?: string;
  successRate?: number;
  attempts?: number;
  threshold?: number;
  lastError?: { statusCode: number | null; error: string | null } | null;
}

/** The latest `webhook.disabled` or `webhook.failing` about the webhook, with its reason and last error. */
async function showLastAlert(s: Session, id: string, into: HTMLElement) {
  try {
    const page = await s.client.events.list({ resourceType: "webhook", resourceId: id, limit: 1 });
    const event = page.data[0];
    if (!event) return;
    const data = event.data as AlertData;
    const failing = event.type === "webhook.failing";
    const what = failing
      ? `Failing: ${Math.round((data.successRate ?? 0) * 1000) / 10}% succeeded of ${data.attempts} attempts in an hour (threshold ${Math.round((data.threshold ?? 0) * 100)}%)`
      : `Disabled (${data.reason})`;
    const error = data.lastError ? `last error: ${data.lastError.error ?? `HTTP ${data.lastError.statusCode}`}` : "";
    replace(
      into,
      badge(what, failing ? "warn" : "bad"),
      " ",
      when(event.createdAt),
      error ? h("div", { class: "hint" }, error) : null,
    );
  } catch (e) {
    replace(into, `✕ ${errorText(e)}`);
  }
}

export async function webhookView(s: Session, main: HTMLElement, id: string) {
  append(main, [h("p", {}, h("a", { href: "#/webhooks" }, "← All webhooks"))]);
  let webhook = await s.client.webhooks.get(id);
  const summary = h("section", { "aria-labelledby": "wh-title" });
  const status = notice();
  // Without webhooks:write there is no recover control; with it, it follows `enabled`.
  let recovery: ReturnType<typeof recoverControl> | undefined;
  // The latest failure alert about this webhook (README "Alerts"), from the event log.
  const lastAlert = h("dd", { "data-alert": "" }, "none");
  if (can(s, "events:read")) void showLastAlert(s, id, lastAlert);

  function renderSummary() {
    const w: Webhook = webhook;
    replace(
      summary,
      h("h1", { id: "wh-title" }, w.url),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Status"),
        h("dd", { "data-health": "" }, health(w)),
        h("dt", {}, "Events"),
        h("dd", {}, w.events.join(", ")),
        h("dt", {}, "Success rate"),
        h("dd", {}, rate(w)),
        h("dt", {}, "Failures in a row"),
        h("dd", {}, String(w.consecutiveFailures)),
        h("dt", {}, "Last delivery"),
        h("dd", {}, when(w.lastTriggeredAt)),
        can(s, "events:read") ? [h("dt", {}, "Last alert"), lastAlert] : null,
        h("dt", {}, "Filters"),
        h(
          "dd",
          {},
          [
            w.filters.projectId ? `project ${w.filters.projectId}` : "",
            w.filters.assigneeId ? `assignee ${w.filters.assigneeId}` : "",
          ]
            .filter(Boolean)
            .join(", ") || "none",
        ),
        h("dt", {}, "Description"),
        h("dd", {}, w.description ?? "—"),
        w.previousSecretExpiresAt
          ? [h("dt", {}, "Previous secret"), h("dd", {}, "still signs until ", when(w.previousSecretExpiresAt))]
          : null,
      ),
    );
    recovery?.sync(w);
  }
  renderSummary();

  const once = h("div");
  const testType = h(
    "select",
    {},
    EVENT_TYPES.map((t) =>
      h("option", { value: t, selected: webhook.events.includes(t) && t === webhook.events[0] }, t),
    ),
  );
  const testResult = h("div", { "aria-live": "polite" });
  const toggle = h("button", { type: "button" }, webhook.enabled ? "Disable" : "Enable");
  toggle.addEventListener("click", async () => {
    try {
      webhook = await s.client.webhooks.update(id, { enabled: !webhook.enabled });
      toggle.textContent = webhook.enabled ? "Disable" : "Enable";
      renderSummary();
      status.ok(webhook.enabled ? "Webhook enabled" : "Webhook disabled");
    } catch (e) {
      status.error(errorText(e));
    }
  });

  const actions = h(
    "section",
    { class: "card", "aria-labelledby": "actions-title" },
    h("h2", { id: "actions-title" }, "Actions"),
    h(
      "form",
      {
        class: "inline",
        onsubmit: async (event: Event) => {
          event.preventDefault();
          replace(testResult, h("p", {}, "Sending…"));
          try {
            const r = await s.client.webhooks.test(id, { eventType: testType.value as EventType });
            replace(
              testResult,
              h(
                "p",
                { class: "test-result" },
                r.success ? badge("Test delivered", "ok") : badge("Test failed", "bad"),
                ` status ${r.statusCode ?? "none"}, ${r.responseTimeMs ?? "?"} ms${r.error ? `, ${r.error}` : ""} (delivery ${r.deliveryId})`,
              ),
              h("details", {}, h("summary", {}, "Payload sent"), json(r.payload)),
            );
          } catch (e) {
            replace(testResult, h("p", { role: "alert", class: "notice bad" }, `✕ ${errorText(e)}`));
          }
        },
      },
      field("Test event type", testType),
      h("button", { type: "submit", class: "primary" }, "Send test event"),
    ),
    h(
      "p",
      { class: "hint" },
      "A test sends a signed sample once, now. It is not retried and not written to the delivery log or the success rate.",
    ),
    testResult,
    h(
      "div",
      { class: "buttons" },
      toggle,
      h(
        "button",
        {
          type: "button",
          onclick: async () => {
            try {
              const r = await s.client.webhooks.rotateSecret(id, {});
              webhook = r;
              renderSummary();
              replace(
                once,
                secretBox(
                  "New signing secret",
                  (r as typeof r & { secret: string }).secret,
                  r.previousSecretExpiresAt
                    ? `Shown only now. The previous secret keeps signing beside it until ${new Date(r.previousSecretExpiresAt).toLocaleString()}: update your receiver before then.`
                    : "Shown only now.",
                ),
              );
              (once.firstElementChild as HTMLElement).focus();
            } catch (e) {
              status.error(errorText(e));
            }
          },
        },
        "Rotate secret",
      ),
      h(
        "button",
        {
          type: "button",
          class: "danger",
          onclick: async () => {
            if (!confirm(`Delete the webhook for ${webhook.url}? Its deliveries stop.`)) return;
            try {
              await s.client.webhooks.delete(id);
              location.hash = "#/webhooks";
            } catch (e) {
              status.error(errorText(e));
            }
          },
        },
        "Delete",
      ),
    ),
    status.el,
    once,
  );

  const editor = editForm(s, id, webhook, (w) => {
    webhook = w;
    renderSummary();
  });
  const chart = h("section", { class: "card", "aria-labelledby": "chart-title" });
  const deliveries = deliveryLog(s, id, async () => {
    webhook = await s.client.webhooks.get(id);
    renderSummary();
    await deliveryChart(s, id, chart);
  });
  // Without webhooks:write the screen shows, and offers nothing to change.
  const writable = can(s, "webhooks:write");
  if (writable) {
    recovery = recoverControl(s, id, deliveries.refresh);
    recovery.sync(webhook);
  }
  append(main, [summary, writable && actions, recovery?.el, deliveries.el, chart, writable && editor]);
  await Promise.all([deliveries.reload(), deliveryChart(s, id, chart)]);
}

function editForm(s: Session, id: string, w: Webhook, onSaved: (w: Webhook) => void) {
  const url = h("input", { type: "url", required: true, value: w.url });
  const description = h("input", { type: "text", value: w.description ?? "" });
  const picker = eventPicker(w.events);
  const filters = filterPicker(s, w.filters);
  const scheme = schemePicker(w.signatureScheme);
  const status = notice();
  return h(
    "details",
    { class: "card" },
    h("summary", {}, "Edit URL, description, events and filters"),
    h(
      "form",
      {
        onsubmit: async (event: Event) => {
          event.preventDefault();
          try {
            const events = picker.value();
            if (events.length === 0) return status.error("Pick at least one event.");
            onSaved(
              await s.client.webhooks.update(id, {
                url: url.value,
                description: description.value || null,
                events,
                filters: filters.value(),
                signatureScheme: scheme.value(),
              }),
            );
            status.ok("Saved");
          } catch (e) {
            status.error(errorText(e));
          }
        },
      },
      field("Endpoint URL", url),
      field("Description", description),
      picker.el,
      filters.el,
      scheme.el,
      h("button", { type: "submit", class: "primary" }, "Save changes"),
      status.el,
    ),
  );
}

function deliveryLog(s: Session, webhookId: string, afterRefresh: () => Promise<void>) {
  const statusFilter = h(
    "select",
    {},
    h("option", { value: "" }, "any"),
    ["succeeded", "failed", "pending"].map((v) => h("option", { value: v }, v)),
  );
  const eventFilter = h(
    "select",
    {},
    h("option", { value: "" }, "any"),
    EVENT_TYPES.map((t) => h("option", { value: t }, t)),
  );
  const list = h("ul", { class: "deliveries" });
  const more = h("button", { type: "button", hidden: true }, "Load older deliveries");
  const count = h("p", { role: "status", class: "hint" });
  let cursor: string | null = null;

  async function page(reset: boolean) {
    const query = {
      limit: 20,
      sortBy: "createdAt" as const,
      order: "desc" as const,
      ...(statusFilter.value ? { status: statusFilter.value as Delivery["status"] } : {}),
      ...(eventFilter.value ? { event: eventFilter.value as EventType } : {}),
      ...(!reset && cursor ? { cursor } : {}),
    };
    const result = await s.client.webhooks.deliveries.list(webhookId, query);
    if (reset) list.replaceChildren();
    append(
      list,
      result.data.map((d) => deliveryItem(s, webhookId, d, () => reload())),
    );
    cursor = result.pagination.nextCursor ?? null;
    more.hidden = !cursor;
    count.textContent = `${list.children.length} deliveries shown${cursor ? "; more below" : ""}`;
  }
  async function reload() {
    await page(true);
    await afterRefresh();
  }
  more.addEventListener("click", () => void page(false));
  const el = h(
    "section",
    { class: "card", "aria-labelledby": "deliveries-title" },
    h("h2", { id: "deliveries-title" }, "Deliveries"),
    h(
      "form",
      {
        class: "inline",
        onsubmit: (event: Event) => {
          event.preventDefault();
          void page(true);
        },
      },
      field("Status", statusFilter),
      field("Event type", eventFilter),
      h("button", { type: "submit" }, "Filter"),
      h("button", { type: "button", onclick: () => void reload() }, "Refresh"),
    ),
    count,
    list,
    more,
  );
  return { el, reload: () => page(true), refresh: reload };
}

function deliveryItem(s: Session, webhookId: string, d: Delivery, refresh: () => void) {
  const body = h("div", { class: "delivery-body" }, "Loading…");
  const item = h(
    "details",
    { "data-delivery": d.id, "data-status": d.status },
    h(
      "summary",
      {},
      deliveryStatus(d),
      ` ${d.event} · ${d.attemptCount} attempt${d.attemptCount === 1 ? "" : "s"}`,
      d.lastStatusCode ? ` · HTTP ${d.lastStatusCode}` : "",
      " · ",
      when(d.createdAt),
    ),
    body,
  );
  let loaded = false;
  item.addEventListener("toggle", async () => {
    if (!item.open || loaded) return;
    loaded = true;
    try {
      const detail = await s.client.webhooks.deliveries.get(webhookId, d.id);
      const status = notice();
      replace(
        body,
        h("p", {}, `Delivery ${detail.id}, event ${detail.eventId}`),
        detail.nextAttemptAt ? h("p", {}, "Next attempt ", when(detail.nextAttemptAt)) : null,
        h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { "data-attempts": "" },
            h("caption", {}, "Attempts"),
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                ["#", "Time", "Status code", "Response time", "Error", "Next attempt"].map((t) =>
                  h("th", { scope: "col" }, t),
                ),
              ),
            ),
            h(
              "tbody",
              {},
              detail.attempts.map((a) =>
                h(
                  "tr",
                  {},
                  h("td", {}, String(a.attemptNumber)),
                  h("td", {}, when(a.attemptedAt)),
                  h("td", {}, a.statusCode === null ? "none" : String(a.statusCode)),
                  h("td", {}, a.responseTimeMs === null ? "—" : `${a.responseTimeMs} ms`),
                  h("td", {}, a.error ?? "—"),
                  h("td", {}, a.nextAttemptAt ? when(a.nextAttemptAt) : "—"),
                ),
              ),
            ),
          ),
        ),
        h("h3", {}, "Payload (the signed body)"),
        json(detail.payload),
        attemptHeaders(detail),
        can(s, "webhooks:write") &&
          h(
            "button",
            {
              type: "button",
              class: "primary",
              onclick: async () => {
                try {
                  await s.client.webhooks.deliveries.redeliver(webhookId, d.id);
                  status.ok("Redelivery queued: refresh to see its result.");
                  refresh();
                } catch (e) {
                  status.error(errorText(e));
                }
              },
            },
            "Redeliver",
          ),
        status.el,
      );
    } catch (e) {
      replace(body, h("p", { role: "alert", class: "notice bad" }, `✕ ${errorText(e)}`));
    }
  });
  return h("li", {}, item);
}

type DeliveryDetail = Awaited<ReturnType<Session["client"]["webhooks"]["deliveries"]["get"]>>;

/**
 * The exact headers each attempt sent, timestamps and signatures included, so a receiver's
 * signature check can be redone by hand against the payload above. Attempts the API holds
 * no headers for (never sent, or made before it kept them) fall back to sentHeaders.
 */
function attemptHeaders(d: DeliveryDetail) {
  const recorded = d.attempts.filter((a) => a.requestHeaders !== null);
  const missing = d.attempts.filter((a) => a.requestHeaders === null).map((a) => a.attemptNumber);
  const last = recorded.at(-1);
  return [
    recorded.length > 0 ? h("h3", {}, "Headers sent, by attempt") : null,
    ...recorded.map((a) =>
      h(
        "details",
        { "data-attempt-headers": String(a.attemptNumber), open: a === last },
        h("summary", {}, `Attempt ${a.attemptNumber} · `, when(a.attemptedAt)),
        headerTable(`Headers attempt ${a.attemptNumber} sent`, Object.entries(a.requestHeaders ?? {})),
      ),
    ),
    missing.length > 0 ? sentHeaders(d, missing) : null,
  ];
}

/** Values are code when they are the exact ones sent, plain text when they describe them. */
function headerTable(caption: string, rows: [string, string][], exact = true) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { "data-headers": "" },
      h("caption", {}, caption),
      h(
        "tbody",
        {},
        rows.map(([name, value]) =>
          h(
            "tr",
            {},
            h("th", { scope: "row" }, h("code", {}, name)),
            h("td", {}, exact ? h("code", {}, value) : value),
          ),
        ),
      ),
    ),
  );
}

/**
 * The headers every attempt of this delivery carries (README "Webhooks (outgoing)"), for
 * attempts whose own headers were not recorded: the values fixed by the delivery, and the
 * timestamp and signatures described, since each attempt computes its own.
 */
function sentHeaders(d: Delivery, attemptNumbers: number[]) {
  const rows: [string, string][] = [
    ["Content-Type", "application/json"],
    ["X-Verk-Event", d.event],
    ["X-Verk-Delivery", d.id],
    ["webhook-id", d.id],
    ["webhook-timestamp", "the attempt's time, in Unix seconds"],
    ["webhook-signature", "v1,<base64 HMAC-SHA256 of id.timestamp.body>, one per live secret"],
    ["X-Verk-Signature", "sha256=<hex HMAC-SHA256 of the body with the current secret>"],
  ];
  const which = `attempt${attemptNumbers.length === 1 ? "" : "s"} ${attemptNumbers.join(", ")}`;
  return headerTable(
    `Headers each attempt sends (not recorded for ${which}: timestamps and signatures are computed per attempt)`,
    rows,
    false,
  );
}
