import { EVENT_TYPES, type EventType } from "../core/enums";

export { EVENT_TYPES, type EventType };
export type ResourceType = "task" | "project" | "member" | "comment";
