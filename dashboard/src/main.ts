// The dashboard: hash routes (#/webhooks, #/webhooks/<id>, #/keys, #/events) over the
// public API, signed in with a pasted API key. Bundled by scripts/dashboard-assets.mjs.
import type { KeyPermission } from "./catalog";
import { append, errorText, field, h, replace } from "./dom";
import { eventsView } from "./events";
import { incomingView } from "./incoming";
import { keysView } from "./keys";
import { can, forget, type Session, signIn, storedKey } from "./session";
import { webhookView } from "./webhook";
import { webhooksView } from "./webhooks";

const app = document.getElementById("app")!;
let session: Session | undefined;

function signInView(message?: string) {
  const input = h("input", {
    type: "password",
    name: "apiKey",
    autocomplete: "off",
    required: true,
    spellcheck: "false",
  });
  const error = h("p", { role: "alert", class: "notice bad" }, message ?? "");
  const form = h(
    "form",
    {
      class: "card signin",
      onsubmit: async (event: Event) => {
        event.preventDefault();
        error.textContent = "";
        try {
          session = await signIn(input.value.trim());
          // Changing the hash renders through the hashchange listener; render only once.
          if (!location.hash || location.hash === "#/") location.hash = firstOffered(session);
          else void render();
        } catch (e) {
          error.textContent = `✕ Sign-in failed: ${errorText(e)}`;
          input.focus();
        }
      },
    },
    h("h1", {}, "Verk dashboard"),
    h("p", {}, "Paste an API key (vk_live_…). It stays in this tab's session storage and is sent only to this API."),
    field(
      "API key",
      input,
      "What you see follows the key's permissions: webhooks:read / webhooks:write for webhooks, keys:read / keys:write for API keys, incoming:read / incoming:write for incoming webhooks, events:read for the event log.",
    ),
    h("button", { type: "submit", class: "primary" }, "Sign in"),
    error,
  );
  replace(app, h("main", { id: "main", tabindex: "-1" }, form));
  input.focus();
}

/** Each screen and the permission that lets a key see it (its actions need the `:write` one). */
const NAV = [
  ["#/webhooks", "Webhooks", "webhooks:read"],
  ["#/keys", "API keys", "keys:read"],
  ["#/incoming", "Incoming webhooks", "incoming:read"],
  ["#/events", "Event log", "events:read"],
] as const satisfies readonly (readonly [string, string, KeyPermission])[];

/** Where a signed-in key lands: the first screen it may see. */
function firstOffered(s: Session): string {
  return NAV.find(([, , permission]) => can(s, permission))?.[0] ?? "#/webhooks";
}

function needsPermission(main: HTMLElement, what: string, permission: KeyPermission) {
  append(main, [
    h(
      "p",
      { class: "notice", "data-needs": permission },
      `${what} needs a key with the ${permission} permission, which this key does not hold. Sign in with one to use it.`,
    ),
  ]);
}

function layout(s: Session, title: string) {
  const main = h("main", { id: "main", tabindex: "-1" });
  const current = location.hash.split("/").slice(0, 2).join("/");
  replace(
    app,
    h(
      "header",
      { class: "top" },
      h("strong", { class: "brand" }, "Verk"),
      h(
        "nav",
        { "aria-label": "Dashboard" },
        NAV.filter(([, , permission]) => can(s, permission)).map(([href, label]) =>
          h("a", { href, "aria-current": current === href ? "page" : null }, label),
        ),
      ),
      h(
        "div",
        { class: "who" },
        h("span", { title: [...s.permissions].join(", ") || "no permissions" }, s.who),
        h(
          "button",
          {
            type: "button",
            onclick: () => {
              forget();
              session = undefined;
              // No hashchange (it would render a second sign-in form under the person typing).
              history.replaceState(null, "", location.pathname);
              signInView();
            },
          },
          "Sign out",
        ),
      ),
    ),
    main,
  );
  document.title = `${title} · Verk dashboard`;
  return main;
}

async function render() {
  if (!session) {
    const key = storedKey();
    if (!key) return signInView();
    try {
      session = await signIn(key);
    } catch (e) {
      forget();
      return signInView(`✕ The stored key no longer works: ${errorText(e)}`);
    }
  }
  const [, section, id] = location.hash.split("/");
  const s = session;
  const screen = NAV.find(([href]) => href === `#/${section}`) ?? NAV[0];
  const title = section === "webhooks" && id ? "Webhook" : screen[1];
  const main = layout(s, title);
  // Focus moves to the new screen now, not after its data arrives: by then the person
  // may already be typing in one of its fields.
  main.focus();
  if (!can(s, screen[2])) {
    const offered = NAV.filter(([, , permission]) => can(s, permission));
    append(main, [h("h1", {}, screen[1])]);
    needsPermission(main, screen[1], screen[2]);
    if (offered.length === 0)
      append(main, [h("p", {}, "This key holds none of the permissions the dashboard's screens need.")]);
    return;
  }
  try {
    if (section === "keys") await keysView(s, main);
    else if (section === "events") await eventsView(s, main);
    else if (section === "incoming") await incomingView(s, main);
    else if (section === "webhooks" && id) await webhookView(s, main, decodeURIComponent(id));
    else await webhooksView(s, main);
  } catch (e) {
    append(main, [h("p", { role: "alert", class: "notice bad" }, `✕ ${errorText(e)}`)]);
  }
}

window.addEventListener("hashchange", () => void render());
void render();
