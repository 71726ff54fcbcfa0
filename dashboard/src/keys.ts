import type { ApiKey } from "../../sdk/src/index";
import { append, badge, errorText, field, h, notice, replace, secretBox, when } from "./dom";
import { can, type Session } from "./session";

function keyState(k: ApiKey) {
  if (k.revokedAt) return badge("Revoked", "bad");
  if (k.expiresAt && Date.parse(k.expiresAt) < Date.now()) return badge("Expired", "bad");
  return badge("Active", "ok");
}

export async function keysView(s: Session, main: HTMLElement) {
  append(main, [h("h1", {}, "API keys")]);
  const writable = can(s, "keys:write");
  const once = h("div");
  const table = h("div", { class: "table-wrap" });
  const status = notice();

  async function load() {
    const page = await s.client.apiKeys.list({ limit: 100 });
    replace(
      table,
      h(
        "table",
        {},
        h("caption", {}, "Keys of this organization you may manage"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Name", "Prefix", "Scope or permissions", "State", "Last used", "Expires", "Actions"].map((t) =>
              h("th", { scope: "col" }, t),
            ),
          ),
        ),
        h(
          "tbody",
          {},
          page.data.map((k) =>
            h(
              "tr",
              { "data-key": k.id },
              h("th", { scope: "row" }, k.name),
              h("td", {}, h("code", {}, k.prefix)),
              h("td", {}, k.scope ?? k.permissions.join(", ")),
              h("td", {}, keyState(k)),
              h("td", {}, when(k.lastUsedAt)),
              h("td", {}, k.expiresAt ? when(k.expiresAt) : "never"),
              h("td", {}, k.revokedAt || !writable ? "—" : actions(k)),
            ),
          ),
        ),
      ),
    );
  }

  function showOnce(title: string, key: string | undefined, note: string) {
    replace(once, secretBox(title, key, note));
    (once.firstElementChild as HTMLElement).focus();
  }

  function actions(k: ApiKey) {
    return h(
      "div",
      { class: "buttons" },
      h(
        "button",
        {
          type: "button",
          "aria-label": `Rotate ${k.name}`,
          onclick: async () => {
            try {
              const r = await s.client.apiKeys.rotate(k.id, { gracePeriodSeconds: 3600 });
              showOnce(
                `Rotated ${k.name}: the new key`,
                r.key,
                "Shown only now. The old key keeps working for one hour.",
              );
              await load();
            } catch (e) {
              status.error(errorText(e));
            }
          },
        },
        "Rotate",
      ),
      h(
        "button",
        {
          type: "button",
          class: "danger",
          "aria-label": `Revoke ${k.name}`,
          onclick: async () => {
            if (!confirm(`Revoke the key "${k.name}" (${k.prefix}…)? Anything using it stops working.`)) return;
            try {
              await s.client.apiKeys.revoke(k.id);
              status.ok(`Revoked ${k.name}`);
              await load();
            } catch (e) {
              status.error(errorText(e));
            }
          },
        },
        "Revoke",
      ),
    );
  }

  const name = h("input", { type: "text", required: true, maxlength: "100" });
  const scope = h(
    "select",
    {},
    ["read", "write", "admin"].map((v) => h("option", { value: v }, v)),
  );
  const expires = h("input", { type: "date" });
  const form = h(
    "form",
    {
      class: "card",
      "aria-labelledby": "create-key-title",
      onsubmit: async (event: Event) => {
        event.preventDefault();
        try {
          const created = await s.client.apiKeys.create({
            name: name.value,
            scope: scope.value as NonNullable<ApiKey["scope"]>,
            ...(expires.value ? { expiresAt: `${expires.value}T23:59:59Z` } : {}),
          });
          form.reset();
          showOnce(`Key "${created.name}" created`, created.key, "Shown only now: store it in your secret manager.");
          await load();
        } catch (e) {
          status.error(errorText(e));
        }
      },
    },
    h("h2", { id: "create-key-title" }, "Create a key"),
    field("Name", name),
    field("Scope", scope, "read: GET only; write: also create/update/delete; admin: also keys, members, webhooks."),
    field("Expires (optional)", expires),
    h("button", { type: "submit", class: "primary" }, "Create key"),
  );
  append(main, [status.el, once, table, writable && form]);
  await load();
}
