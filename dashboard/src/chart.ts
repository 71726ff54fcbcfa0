import type { WebhookStats } from "../../sdk/src/index";
import { errorText, h, replace } from "./dom";
import type { Session } from "./session";

const HOURS = 24;
const SVG = "http://www.w3.org/2000/svg";

function svg(tag: string, attrs: Record<string, string | number>, text?: string) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text) el.textContent = text;
  return el;
}

const clock = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
const ms = (p50: number | null) => (p50 === null ? "–" : `${p50} ms`);

/**
 * Deliveries per hour over the last 24 clock hours by outcome, with the p50 response
 * time of each hour's attempts, from the API's per-hour statistics (aggregated by the
 * server). Bars are stacked and patterned by position, the p50 is a dashed line with
 * dots, and every number is in the table below, so nothing depends on telling colours apart.
 */
export async function deliveryChart(s: Session, webhookId: string, section: HTMLElement) {
  let stats: WebhookStats;
  try {
    stats = await s.client.webhooks.stats(webhookId, { hours: HOURS });
  } catch (e) {
    replace(section, h("h2", { id: "chart-title" }, "Last 24 hours"), h("p", { role: "alert" }, errorText(e)));
    return;
  }
  const hours = stats.buckets;
  const width = 480 / hours.length;
  const max = Math.max(1, ...hours.map((x) => x.succeeded + x.failed + x.pending));
  const maxP50 = Math.max(1, ...hours.map((x) => x.p50ResponseTimeMs ?? 0));
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
      const bar = svg("rect", { x: i * width + 2, y, width: width - 4, height, class: `bar ${kind}` });
      bar.appendChild(svg("title", {}, `${n} ${kind}`));
      chart.appendChild(bar);
    }
  });
  const points = hours.flatMap((x, i) =>
    x.p50ResponseTimeMs === null ? [] : [[i * width + width / 2, 110 - (x.p50ResponseTimeMs / maxP50) * 100] as const],
  );
  if (points.length > 1) {
    chart.appendChild(svg("polyline", { points: points.map((p) => p.join(",")).join(" "), class: "p50" }));
  }
  hours.forEach((x, i) => {
    if (x.p50ResponseTimeMs === null) return;
    const dot = svg("circle", {
      cx: i * width + width / 2,
      cy: 110 - (x.p50ResponseTimeMs / maxP50) * 100,
      r: 2.5,
      class: "p50",
    });
    dot.appendChild(svg("title", {}, `p50 ${ms(x.p50ResponseTimeMs)}`));
    chart.appendChild(dot);
  });
  chart.appendChild(svg("line", { x1: 0, y1: 110.5, x2: 480, y2: 110.5, class: "axis" }));
  chart.appendChild(svg("text", { x: 0, y: 120, class: "tick" }, "24 h ago"));
  chart.appendChild(svg("text", { x: 480, y: 120, class: "tick end" }, "now"));
  chart.appendChild(svg("text", { x: 480, y: 8, class: "tick end" }, `p50 top: ${maxP50} ms`));
  const totals = hours.reduce(
    (t, x) => ({ succeeded: t.succeeded + x.succeeded, failed: t.failed + x.failed, pending: t.pending + x.pending }),
    { succeeded: 0, failed: 0, pending: 0 },
  );
  const latest = [...hours].reverse().find((x) => x.p50ResponseTimeMs !== null);
  const active = hours.filter((x) => x.succeeded + x.failed + x.pending + x.attempts > 0);
  replace(
    section,
    h("h2", { id: "chart-title" }, "Deliveries per hour, last 24 hours"),
    h(
      "p",
      { class: "legend" },
      h("span", { class: "key succeeded" }, "▮ succeeded (bottom)"),
      h("span", { class: "key failed" }, "▮ failed (middle)"),
      h("span", { class: "key pending" }, "▮ pending (top)"),
      h("span", { class: "key p50" }, "- ● p50 response time (line)"),
    ),
    chart,
    h(
      "p",
      { "data-chart-totals": "" },
      `${totals.succeeded} succeeded, ${totals.failed} failed, ${totals.pending} pending in the last 24 hours.`,
    ),
    h(
      "p",
      { "data-chart-p50": "" },
      latest
        ? `p50 response time ${ms(latest.p50ResponseTimeMs)} in the hour from ${clock(latest.hour)} (${latest.attempts} attempts).`
        : "No attempts in the last 24 hours, so no response time.",
    ),
    active.length
      ? h(
          "details",
          {},
          h("summary", {}, `Per hour (${active.length} with activity)`),
          h(
            "table",
            {},
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                ["Hour", "Succeeded", "Failed", "Pending", "Attempts", "p50"].map((t) => h("th", { scope: "col" }, t)),
              ),
            ),
            h(
              "tbody",
              {},
              active.map((x) =>
                h(
                  "tr",
                  { "data-hour": x.hour },
                  h("th", { scope: "row" }, clock(x.hour)),
                  h("td", {}, String(x.succeeded)),
                  h("td", {}, String(x.failed)),
                  h("td", {}, String(x.pending)),
                  h("td", {}, String(x.attempts)),
                  h("td", {}, ms(x.p50ResponseTimeMs)),
                ),
              ),
            ),
          ),
        )
      : "",
  );
}
