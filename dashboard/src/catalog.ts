import { EVENT_TYPES, KEY_PERMISSIONS, RESOURCE_TYPES } from "../../src/core/enums";

export { EVENT_TYPES, KEY_PERMISSIONS, RESOURCE_TYPES };
export type EventType = (typeof EVENT_TYPES)[number];
export type KeyPermission = (typeof KEY_PERMISSIONS)[number];
export type ResourceType = (typeof RESOURCE_TYPES)[number];
