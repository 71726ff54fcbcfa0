import { EVENT_TYPES, RESOURCE_TYPES } from "../../src/core/enums";

export { EVENT_TYPES, RESOURCE_TYPES };
export type EventType = (typeof EVENT_TYPES)[number];
export type ResourceType = (typeof RESOURCE_TYPES)[number];
