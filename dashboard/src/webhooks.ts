import type { Webhook } from "../../sdk/src/index";
import { EVENT_TYPES, type EventType } from "./catalog";
import { append, badge, errorText, field, h, notice, replace, secretBox, uid, when } from "./dom";
import { can, type Session } from "./session";

export function health(w: Webhook) {
  if (!w.enabled) return badge(`Disabled${w.disabledReason ? `: ${w.disabledReason}` : ""}`, "bad");
  if (w.consecutiveFailures > 0) return badge(`Failing (${w.consecutiveFailures} in a row)`, "warn");
  return badge("Enabled", "ok");
}

export const rate = (w: Webhook) =>
  w.deliverySuccessRate === null ? "no deliveries yet" : `${Math.round(w.deliverySuccessRate * 1000) / 10}%`;

/** The event picker: one checkbox per catalog type, plus "all" (["*"]). */
export function eventPicker(selected: string[] = []) {
  const all = h("input", { type: "checkbox", id: uid("ev"), checked: selected.includes("*") });
  const boxes = EVENT_TYPES.map((type) =>
    h("input", { type: "checkbox", id: uid("ev"), value: type, checked: selected.includes(type) }),
  );
  const set = h(
    "fieldset",
    { class: "events" },
    h("legend", {}, "Events"),
    h("div", { class: "check" }, all, h("label", { for: all.id }, "All events (*)")),
    boxes.map((box) => h("div", { class: "check" }, box, h("label", { for: box.id }, box.value))),
  );
  return {
    el: set,
    value(): EventType[] | ["*"] {
      if (all.checked) return ["*"];
      return boxes.filter((b) => b.checked).map((b) => b.value as EventType);
    },
  };
}

/**
 * The optional filters: only events of one project, or of tasks assigned to one member.
 * The choices are the organization's first 100 projects and members.
 */
export function filterPicker(s: Session, current: Webhook["filters"] = { projectId: null, assigneeId: null }) {
  const project = h("select", {}, h("option", { value: "" }, "any project"));
  const assignee = h("select", {}, h("option", { value: "" }, "any assignee"));
  // The current filter is an option from the start, named once the list arrives: saving
  // never drops a filter the key may not list (no projects:read or members:read) or that
  // lies beyond the first 100.
  const keep = (select: HTMLSelectElement, id: string | null) =>
    id ? select.appendChild(h("option", { value: id, selected: true }, id)) : undefined;
  const fill = (
    select: HTMLSelectElement,
    items: { id: string; name: string }[],
    kept: HTMLOptionElement | undefined,
  ) => {
    for (const item of items) {
      const label = `${item.name} (${item.id})`;
      if (item.id === kept?.value) kept.textContent = label;
      else select.append(h("option", { value: item.id }, label));
    }
  };
  const keptProject = keep(project, current.projectId);
  const keptAssignee = keep(assignee, current.assigneeId);
  if (can(s, "projects:read"))
    void s.client.projects.list({ limit: 100 }).then(
      (page) => fill(project, page.data, keptProject),
      () => {},
    );
  if (can(s, "members:read"))
    void s.client.users.list({ limit: 100 }).then(
      (page) => fill(assignee, page.data, keptAssignee),
      () => {},
    );
  return {
    el: h(
      "div",
      { class: "inline-fields" },
      field("Only this project", project),
      field("Only tasks assigned to", assignee),
    ),
    value: () => ({ projectId: project.value || null, assigneeId: assignee.value || null }),
  };
}

const SCHEMES: [Webhook["signatureScheme"], string][] = [
  ["hmac-sha256", "HMAC-SHA256 only (shared secret)"],
  ["ed25519", "+ Ed25519 (webhook-signature v1a)"],
  ["rsa-sha256", "+ RSA-SHA256 (X-Verk-Signature-RSA)"],
];

/** The signature scheme: public-key signatures sent beside the HMAC ones every delivery carries. */
export function schemePicker(current: Webhook["signatureScheme"] = "hmac-sha256") {
  const select = h(
    "select",
    {},
    SCHEMES.map(([value, label]) => h("option", { value, selected: value === current }, label)),
  );
  return {
    el: field(
      "Signature scheme",
      select,
      "Public keys to verify with: GET /v1/webhooks/signing-keys. HMAC signatures are always sent too.",
    ),
    value: () => select.value as Webhook["signatureScheme"],
  };
}

function createForm(s: Session, onCreated: (w: Webhook & { secret: string }) => void) {
  const url = h("input", { type: "url", required: true, placeholder: "https://example.com/hooks/verk" });
  const description = h("input", { type: "text", maxlength: "500" });
  const picker = eventPicker(["task.created"]);
  const filters = filterPicker(s);
  const scheme = schemePicker();
  const status = notice();
  const form = h(
    "form",
    {
      class: "card",
      "aria-labelledby": "create-webhook-title",
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const events = picker.value();
        if (events.length === 0) return status.error("Pick at least one event.");
        try {
          const created = await s.client.webhooks.create({
            url: url.value,
            events,
            description: description.value || null,
            filters: filters.value(),
            signatureScheme: scheme.value(),
          });
          form.reset();
          onCreated(created as Webhook & { secret: string });
        } catch (e) {
          status.error(errorText(e));
        }
      },
    },
    h("h2", { id: "create-webhook-title" }, "Create a webhook"),
    field("Endpoint URL", url, "HTTPS; Verk signs every delivery with the secret shown after creation."),
    field("Description", description),
    picker.el,
    filters.el,
    scheme.el,
    h("button", { type: "submit", class: "primary" }, "Create webhook"),
    status.el,
  );
  return form;
}

export async function webhooksView(s: Session, main: HTMLElement) {
  append(main, [h("h1", {}, "Webhooks")]);
  const writable = can(s, "webhooks:write");
  const created = h("div");
  const table = h("div", { class: "table-wrap" });
  append(main, [created, table]);

  async function load() {
    const page = await s.client.webhooks.list({ limit: 100 });
    if (page.data.length === 0) {
      replace(table, h("p", {}, writable ? "No webhooks yet: create one below." : "No webhooks yet."));
      return;
    }
    replace(
      table,
      h(
        "table",
        {},
        h("caption", {}, "Your webhooks and their health"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Endpoint", "Events", "Status", "Success rate", "Failures in a row", "Last delivery"].map((t) =>
              h("th", { scope: "col" }, t),
            ),
          ),
        ),
        h(
          "tbody",
          {},
          page.data.map((w) =>
            h(
              "tr",
              { "data-webhook": w.id },
              h(
                "th",
                { scope: "row" },
                h("a", { href: `#/webhooks/${w.id}` }, w.url),
                w.description ? h("div", { class: "hint" }, w.description) : null,
              ),
              h("td", {}, w.events.join(", ")),
              h("td", {}, health(w)),
              h("td", {}, rate(w)),
              h("td", {}, String(w.consecutiveFailures)),
              h("td", {}, when(w.lastTriggeredAt)),
            ),
          ),
        ),
      ),
    );
  }

  if (writable)
    append(main, [
      createForm(s, async (w) => {
        replace(
          created,
          secretBox(
            "Webhook created: its signing secret",
            w.secret,
            "Shown only now: store it where your receiver can read it. Verk signs every delivery with it.",
          ),
          h("p", {}, h("a", { href: `#/webhooks/${w.id}` }, `Open ${w.url}: send a test event, see deliveries`)),
        );
        await load();
        (created.firstElementChild as HTMLElement | null)?.focus();
      }),
    ]);
  try {
    await load();
  } catch (e) {
    replace(table, h("p", { role: "alert", class: "notice bad" }, `✕ ${errorText(e)}`));
  }
}
