import type { Event as VerkEvent } from "../../sdk/src/index";
import { EVENT_TYPES, type EventType, RESOURCE_TYPES, type ResourceType } from "./catalog";
import { append, errorText, field, h, json, when } from "./dom";
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
    RESOURCE_TYPES.map((t) => h("option", { value: t }, t)),
  );
  const actorId = h("input", { type: "text", placeholder: "user_…, key_…, iwh_…" });
  const list = h("ul", { class: "events-list" });
  const more = h("button", { type: "button", hidden: true }, "Load older events");
  const count = h("p", { role: "status", class: "hint" });
  let cursor: string | null = null;

  async function page(reset: boolean) {
    const actor = actorId.value.trim();
    let result: Awaited<ReturnType<typeof s.client.events.list>>;
    try {
      result = await s.client.events.list({
        limit: 50,
        order: "desc",
        ...(type.value ? { type: type.value as EventType } : {}),
        ...(resourceType.value ? { resourceType: resourceType.value as ResourceType } : {}),
        ...(resourceId.value.trim() ? { resourceId: resourceId.value.trim() } : {}),
        ...(actor ? { actorId: actor } : {}),
        ...(!reset && cursor ? { cursor } : {}),
      });
    } catch (e) {
      count.textContent = errorText(e);
      return;
    }
    if (reset) list.replaceChildren();
    append(list, result.data.map(eventItem));
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
