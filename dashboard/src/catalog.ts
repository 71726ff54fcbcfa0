import { EVENT_TYPES } from "../../src/core/enums";

export { EVENT_TYPES };
export type EventType = (typeof EVENT_TYPES)[number];
