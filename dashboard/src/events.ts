import type { Event as VerkEvent } from "../../sdk/src/index";
import { EVENT_TYPES, type EventType } from "./catalog";
import { append, field, h, json, when } from "./dom";
import type { Session } from "./session";

export async function eventsView(s: Session, main: HTMLElement) {
  const type = h(
    "select",
    {},
    h("option", { value: "" }, "any"),
    EVENT_TYPES.map((t) => h("option", { value: t }, t)),
  );
  const resourceId = h("input", { type: "text", placeholder: "task_…, proj_…" });
  const resourceType = h(
    "select",
    {},
    h("option", { value: "" }, "any"),
    ["task", "project", "member", "comment"].map((t) => h("option", { value: t }, t)),
  );
  const actorId = h("input", { type: "text", placeholder: "user_…, key_…, iwh_…" });
  const list = h("ul", { class: "events-list" });
  const more = h("button", { type: "button", hidden: true }, "Load older events");
  const count = h("p", { role: "status", class: "hint" });
  let cursor: string | null = null;

  async function page(reset: boolean) {
    const result = await s.client.events.list({
      limit: 50,
      order: "desc",
      ...(type.value ? { type: type.value as EventType } : {}),
      ...(resourceId.value.trim() ? { resourceId: resourceId.value.trim() } : {}),
      ...(!reset && cursor ? { cursor } : {}),
    });
    if (reset) list.replaceChildren();
    // The API filters by type and resource id; resource type and actor are narrowed here, per page.
    const actorFilter = actorId.value.trim();
    const rows = result.data.filter(
      (e) =>
        (!resourceType.value || e.resourceType === resourceType.value) &&
        (!actorFilter || [e.actor.userId, e.actor.apiKeyId, e.actor.incomingWebhookId].includes(actorFilter)),
    );
    append(list, rows.map(eventItem));
    cursor = result.pagination.nextCursor ?? null;
    more.hidden = !cursor;
    count.textContent = `${list.children.length} events shown${cursor ? "; more below" : ""}`;
  }
  more.addEventListener("click", () => void page(false));

  append(main, [
    h("h1", {}, "Event log"),
    h(
      "form",
      {
        class: "inline card",
        onsubmit: (event: Event) => {
          event.preventDefault();
          void page(true);
        },
      },
      field("Type", type),
      field("Resource type", resourceType),
      field("Resource id", resourceId),
      field("Actor id", actorId),
      h("button", { type: "submit" }, "Filter"),
    ),
    count,
    list,
    more,
  ]);
  await page(true);
}

function actor(e: VerkEvent) {
  if (e.actor.incomingWebhookId) return `incoming webhook ${e.actor.incomingWebhookId}`;
  if (e.actor.apiKeyId) return `key ${e.actor.apiKeyId}${e.actor.userId ? ` (${e.actor.userId})` : ""}`;
  return e.actor.userId ?? "system";
}

function eventItem(e: VerkEvent) {
  return h(
    "li",
    {},
    h(
      "details",
      { "data-event": e.id },
      h(
        "summary",
        {},
        h("code", {}, e.type),
        ` ${e.resourceType} ${e.resourceId} · by ${actor(e)} · `,
        when(e.createdAt),
      ),
      json(e),
    ),
  );
}
