import type { DrizzleD1Database } from "drizzle-orm/d1";
import type { IncomingWebhook } from "../db/schema";
import type { Env } from "../env";
import type { Principal } from "../identity/principal";

/** What every handler can read from `c.var`. */
export interface AppVariables {
  requestId: string;
  /** The request's queries, through its D1 session (`http/db-session.ts`). */
  db: DrizzleD1Database;
  /** That session itself, for raw statements: its bookmark covers what they wrote. */
  session: D1DatabaseSession;
  /** Set by the API-key authentication middleware on `/v1/*`. */
  principal: Principal;
  /** Set instead of `principal` on `/v1/webhooks/incoming/*`, by the `ik_live_` key's credential. */
  incomingWebhook: IncomingWebhook;
}

export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}
