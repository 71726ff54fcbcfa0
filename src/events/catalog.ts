import { EVENT_TYPES, type EventType, RESOURCE_TYPES } from "../core/enums";

export { EVENT_TYPES, type EventType, RESOURCE_TYPES };
export type ResourceType = (typeof RESOURCE_TYPES)[number];
