import type { Delivery } from "../../sdk/src/index";
import { errorText, h, replace } from "./dom";
import type { Session } from "./session";

const HOUR = 3_600_000;
const MAX_DELIVERIES = 1000;
const SVG = "http://www.w3.org/2000/svg";

function svg(tag: string, attrs: Record<string, string | number>, text?: string) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text) el.textContent = text;
  return el;
}

/**
 * Deliveries per hour over the last 24 h by outcome, counted from the delivery log
 * (newest first, at most 1,000). Bars are stacked and patterned by position, and the
 * same numbers are in a table beside them, so nothing depends on telling colours apart.
 */
export async function deliveryChart(s: Session, webhookId: string, section: HTMLElement) {
  const now = Date.now();
  const since = now - 24 * HOUR;
  const hours = Array.from({ length: 24 }, () => ({ succeeded: 0, failed: 0, pending: 0 }));
  let seen = 0;
  try {
    for await (const d of s.client.webhooks.deliveries.listAll(webhookId, {
      limit: 100,
      sortBy: "createdAt",
      order: "desc",
    }) as AsyncIterable<Delivery>) {
      const at = Date.parse(d.createdAt);
      if (at < since || ++seen > MAX_DELIVERIES) break;
      const slot = hours[Math.min(23, Math.floor((at - since) / HOUR))];
      if (slot) slot[d.status] += 1;
    }
  } catch (e) {
    replace(section, h("h2", { id: "chart-title" }, "Last 24 hours"), h("p", { role: "alert" }, errorText(e)));
    return;
  }
  const max = Math.max(1, ...hours.map((x) => x.succeeded + x.failed + x.pending));
  const chart = svg("svg", { viewBox: "0 0 480 120", role: "img", class: "chart", "aria-labelledby": "chart-title" });
  hours.forEach((x, i) => {
    let y = 110;
    for (const [kind, n] of [
      ["succeeded", x.succeeded],
      ["failed", x.failed],
      ["pending", x.pending],
    ] as const) {
      if (!n) continue;
      const height = (n / max) * 100;
      y -= height;
      const bar = svg("rect", { x: i * 20 + 2, y, width: 16, height, class: `bar ${kind}` });
      bar.appendChild(svg("title", {}, `${n} ${kind}`));
      chart.appendChild(bar);
    }
  });
  chart.appendChild(svg("line", { x1: 0, y1: 110.5, x2: 480, y2: 110.5, class: "axis" }));
  chart.appendChild(svg("text", { x: 0, y: 120, class: "tick" }, "24 h ago"));
  chart.appendChild(svg("text", { x: 480, y: 120, class: "tick end" }, "now"));
  const totals = hours.reduce(
    (t, x) => ({ succeeded: t.succeeded + x.succeeded, failed: t.failed + x.failed, pending: t.pending + x.pending }),
    { succeeded: 0, failed: 0, pending: 0 },
  );
  replace(
    section,
    h("h2", { id: "chart-title" }, "Deliveries per hour, last 24 hours"),
    h(
      "p",
      { class: "legend" },
      h("span", { class: "key succeeded" }, "▮ succeeded (bottom)"),
      h("span", { class: "key failed" }, "▮ failed (middle)"),
      h("span", { class: "key pending" }, "▮ pending (top)"),
    ),
    chart,
    h(
      "p",
      { "data-chart-totals": "" },
      `${totals.succeeded} succeeded, ${totals.failed} failed, ${totals.pending} pending in the last 24 hours${seen > MAX_DELIVERIES ? " (first 1,000 counted)" : ""}.`,
    ),
  );
}
