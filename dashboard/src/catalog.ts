import { EVENT_TYPES, KEY_PERMISSIONS } from "../../src/core/enums";

export { EVENT_TYPES, KEY_PERMISSIONS };
export type EventType = (typeof EVENT_TYPES)[number];
export type KeyPermission = (typeof KEY_PERMISSIONS)[number];
