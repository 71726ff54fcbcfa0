import type { IncomingWebhook } from "../../sdk/src/index";
import { append, badge, errorText, field, h, notice, replace, secretBox, uid, when } from "./dom";
import { can, type Session } from "./session";

const PERMISSIONS = ["tasks:create", "tasks:update", "projects:create", "projects:update", "comments:create"] as const;
type Permission = (typeof PERMISSIONS)[number];

function permissionPicker(selected: readonly string[]) {
  const boxes = PERMISSIONS.map((p) =>
    h("input", { type: "checkbox", id: uid("perm"), value: p, checked: selected.includes(p) }),
  );
  return {
    el: h(
      "fieldset",
      { class: "events" },
      h("legend", {}, "Permissions"),
      boxes.map((b) => h("div", { class: "check" }, b, h("label", { for: b.id }, b.value))),
    ),
    value: () => boxes.filter((b) => b.checked).map((b) => b.value as Permission),
  };
}

const allowlist = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** A ready command for the intake endpoint the credential may call first. */
function curlExample(given: string | undefined, permissions: readonly string[]) {
  const key = given ?? "ik_live_…";
  const origin = location.origin;
  if (permissions.includes("tasks:create") || permissions.length === 0)
    return `curl -s -X POST ${origin}/v1/webhooks/incoming/tasks \\
  -H "Authorization: Bearer ${key}" \\
  -H "Content-Type: application/json" \\
  -H "Idempotency-Key: my-tool-run-1" \\
  -d '{"title": "From my automation", "projectId": "proj_…"}'`;
  if (permissions.includes("projects:create"))
    return `curl -s -X POST ${origin}/v1/webhooks/incoming/projects \\
  -H "Authorization: Bearer ${key}" \\
  -H "Content-Type: application/json" \\
  -d '{"name": "From my automation"}'`;
  return `curl -s -X PATCH ${origin}/v1/webhooks/incoming/tasks/task_… \\
  -H "Authorization: Bearer ${key}" \\
  -H "Content-Type: application/json" \\
  -d '{"status": "done"}'`;
}

export async function incomingView(s: Session, main: HTMLElement) {
  append(main, [
    h("h1", {}, "Incoming-webhook credentials"),
    h(
      "p",
      { class: "hint" },
      "Keys (ik_live_…) for automation tools (Zapier, n8n, Make) to create and update tasks, projects and comments through /v1/webhooks/incoming/.",
    ),
  ]);
  const writable = can(s, "incoming:write");
  const status = notice();
  const once = h("div");
  const table = h("div", { class: "table-wrap" });

  async function load() {
    const page = await s.client.incomingWebhooks.list({ limit: 100 });
    if (page.data.length === 0)
      return replace(table, h("p", {}, writable ? "No credentials yet: create one below." : "No credentials yet."));
    replace(
      table,
      h(
        "table",
        {},
        h("caption", {}, "Credentials"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Name", "Prefix", "Permissions", "IP allowlist", "State", "Last used", "Actions"].map((t) =>
              h("th", { scope: "col" }, t),
            ),
          ),
        ),
        h("tbody", {}, page.data.map(row)),
      ),
    );
  }

  function row(c: IncomingWebhook) {
    return h(
      "tr",
      { "data-incoming": c.id },
      h("th", { scope: "row" }, c.name),
      h("td", {}, h("code", {}, c.prefix)),
      h("td", {}, c.permissions.join(", ") || "none"),
      h("td", {}, c.ipAllowlist.join(", ") || "any address"),
      h("td", {}, c.enabled ? badge("Enabled", "ok") : badge("Disabled", "bad")),
      h("td", {}, when(c.lastUsedAt)),
      h(
        "td",
        {},
        writable ? editForm(c) : "—",
        writable &&
          h(
            "button",
            {
              type: "button",
              class: "danger",
              "aria-label": `Revoke ${c.name}`,
              onclick: async () => {
                if (!confirm(`Revoke the credential "${c.name}"? Tools using it stop working.`)) return;
                try {
                  await s.client.incomingWebhooks.delete(c.id);
                  status.ok(`Revoked ${c.name}`);
                  await load();
                } catch (e) {
                  status.error(errorText(e));
                }
              },
            },
            "Revoke",
          ),
      ),
    );
  }

  function editForm(c: IncomingWebhook) {
    const picker = permissionPicker(c.permissions);
    const ips = h("input", { type: "text", value: c.ipAllowlist.join(", ") });
    const enabled = h("input", { type: "checkbox", id: uid("en"), checked: c.enabled });
    return h(
      "details",
      {},
      h("summary", {}, `Edit ${c.name}`),
      h(
        "form",
        {
          onsubmit: async (event: Event) => {
            event.preventDefault();
            try {
              await s.client.incomingWebhooks.update(c.id, {
                permissions: picker.value(),
                ipAllowlist: allowlist(ips.value),
                enabled: enabled.checked,
              });
              status.ok(`Saved ${c.name}`);
              await load();
            } catch (e) {
              status.error(errorText(e));
            }
          },
        },
        picker.el,
        field("IP allowlist", ips, "Addresses or CIDR ranges, comma-separated; empty allows any."),
        h("div", { class: "check" }, enabled, h("label", { for: enabled.id }, "Enabled")),
        h("button", { type: "submit", class: "primary" }, "Save"),
      ),
    );
  }

  const name = h("input", { type: "text", required: true, maxlength: "100" });
  const picker = permissionPicker(["tasks:create"]);
  const ips = h("input", { type: "text", placeholder: "203.0.113.0/24, 2001:db8::/32" });
  const form = h(
    "form",
    {
      class: "card",
      "aria-labelledby": "create-incoming-title",
      onsubmit: async (event: Event) => {
        event.preventDefault();
        try {
          const permissions = picker.value();
          if (permissions.length === 0) return status.error("Pick at least one permission.");
          const created = await s.client.incomingWebhooks.create({
            name: name.value,
            permissions,
            ipAllowlist: allowlist(ips.value),
          });
          form.reset();
          replace(
            once,
            secretBox(
              `Credential "${created.name}" created`,
              created.key,
              "Shown only now: paste it into your automation tool.",
            ),
            h("p", {}, "Try it:"),
            h("pre", { class: "json", tabindex: "0", "data-curl": "" }, curlExample(created.key, created.permissions)),
          );
          (once.firstElementChild as HTMLElement).focus();
          await load();
        } catch (e) {
          status.error(errorText(e));
        }
      },
    },
    h("h2", { id: "create-incoming-title" }, "Create a credential"),
    field("Name", name),
    picker.el,
    field("IP allowlist", ips, "Optional: addresses or CIDR ranges, comma-separated; empty allows any."),
    h("button", { type: "submit", class: "primary" }, "Create credential"),
  );
  append(main, [status.el, once, table, writable && form]);
  await load();
}
