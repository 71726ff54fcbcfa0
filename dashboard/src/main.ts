// The dashboard: hash routes (#/webhooks, #/webhooks/<id>, #/keys, #/events) over the
// public API, signed in with a pasted API key. Bundled by scripts/dashboard-assets.mjs.
import { append, errorText, field, h, replace } from "./dom";
import { eventsView } from "./events";
import { incomingView } from "./incoming";
import { keysView } from "./keys";
import { forget, type Session, signIn, storedKey } from "./session";
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
          if (!location.hash || location.hash === "#/") location.hash = "#/webhooks";
          else void render();
        } catch (e) {
          error.textContent = `✕ Sign-in failed: ${errorText(e)}`;
          input.focus();
        }
      },
    },
    h("h1", {}, "Verk dashboard"),
    h("p", {}, "Paste an API key (vk_live_…). It stays in this tab's session storage and is sent only to this API."),
    field("API key", input, "An admin key can manage webhooks and keys; a read or write key can read the event log."),
    h("button", { type: "submit", class: "primary" }, "Sign in"),
    error,
  );
  replace(app, h("main", { id: "main", tabindex: "-1" }, form));
  input.focus();
}

const NAV = [
  ["#/webhooks", "Webhooks"],
  ["#/keys", "API keys"],
  ["#/incoming", "Incoming webhooks"],
  ["#/events", "Event log"],
] as const;

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
        NAV.map(([href, label]) => h("a", { href, "aria-current": current === href ? "page" : null }, label)),
      ),
      h(
        "div",
        { class: "who" },
        h("span", {}, s.who, " · ", s.admin ? "admin key" : "read-only here (not an admin key)"),
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
  const title =
    NAV.find(([href]) => href === `#/${section}`)?.[1] ?? (section === "webhooks" && id ? "Webhook" : "Webhooks");
  const main = layout(s, title);
  // Focus moves to the new screen now, not after its data arrives: by then the person
  // may already be typing in one of its fields.
  main.focus();
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
