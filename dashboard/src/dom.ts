// A few DOM helpers instead of a framework: elements are built with `h`, text always goes
// in as text (never as HTML), and every status has words beside its colour.

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: (Child | Child[])[]) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

export function replace(parent: Element, ...children: (Child | Child[])[]) {
  parent.replaceChildren();
  append(parent, children);
}

let nextId = 0;
export const uid = (prefix: string) => `${prefix}-${++nextId}`;

/** A labelled control: the label names it for screen readers and for the browser suite. */
export function field(label: string, control: HTMLElement, hint?: string) {
  const id = control.id || uid("f");
  control.id = id;
  const hintEl = hint ? h("small", { id: `${id}-hint`, class: "hint" }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hintEl);
}

export function when(iso: string | null | undefined) {
  if (!iso) return "never";
  const date = new Date(iso);
  return h("time", { datetime: iso, title: iso }, date.toLocaleString());
}

/** A status badge: the word carries the meaning, the colour only repeats it. */
export function badge(text: string, tone: "ok" | "bad" | "warn" | "neutral") {
  const mark = { ok: "✓", bad: "✕", warn: "!", neutral: "•" }[tone];
  return h("span", { class: `badge ${tone}` }, h("span", { "aria-hidden": "true" }, mark), ` ${text}`);
}

/**
 * A secret shown once, with a copy button that says whether the copy worked. The API
 * leaves the secret out only of an idempotent replay, which the dashboard never sends.
 */
export function secretBox(title: string, given: string | undefined, note: string) {
  const secret = given ?? "(not returned: this answer was a replay)";
  const status = h("span", { role: "status", class: "copy-status" });
  const code = h("code", { class: "secret", "data-secret": "" }, secret);
  const copy = h(
    "button",
    {
      type: "button",
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(secret);
          status.textContent = "Copied";
        } catch {
          // Clipboard refused (insecure origin or permission): select it for a manual copy.
          getSelection()?.selectAllChildren(code);
          status.textContent = "Selected: press Ctrl+C to copy";
        }
      },
    },
    "Copy",
  );
  const titleId = uid("once");
  const box = h(
    "section",
    { class: "once", "aria-labelledby": titleId, tabindex: "-1" },
    h("h3", { id: titleId }, title),
    h("p", {}, note),
    h("div", { class: "secret-row" }, code, copy, status),
  );
  return box;
}

/** A live region for the outcome of an action (read out by screen readers). */
export function notice() {
  const el = h("p", { role: "status", class: "notice", "aria-live": "polite" });
  return {
    el,
    ok(text: string) {
      el.className = "notice ok";
      el.textContent = `✓ ${text}`;
    },
    error(text: string) {
      el.className = "notice bad";
      el.textContent = `✕ ${text}`;
    },
    clear() {
      el.className = "notice";
      el.textContent = "";
    },
  };
}

export function errorText(error: unknown) {
  if (error && typeof error === "object" && "status" in error && "message" in error) {
    const e = error as { status: number; message: string; field?: string };
    return `${e.message}${e.field ? ` (${e.field})` : ""} [${e.status}]`;
  }
  return error instanceof Error ? error.message : String(error);
}

export function json(value: unknown) {
  return h("pre", { class: "json", tabindex: "0" }, JSON.stringify(value, null, 2));
}
