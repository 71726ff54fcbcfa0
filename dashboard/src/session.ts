import { VerkClient, VerkError } from "../../sdk/src/index";
import { KEY_PERMISSIONS, type KeyPermission } from "./catalog";

const KEY = "verk.dashboard.apiKey";
/** Every answer to a known key names what it may do now (README "Identity and keys"). */
const PERMISSIONS_HEADER = "X-Verk-Permissions";
/** How much of a key the API itself shows (its `prefix`): `vk_live_` and six characters. */
const SHOWN_KEY_CHARS = "vk_live_".length + 6;

export interface Session {
  client: VerkClient;
  /** What the key may do, as the API said at sign-in: every screen and action is offered by it. */
  permissions: ReadonlySet<KeyPermission>;
  /** The member's name when the key may read it, else the key's prefix. */
  who: string;
}

/** Whether the signed-in key holds `permission` (within its member's role). */
export const can = (s: Session, permission: KeyPermission) => s.permissions.has(permission);

/** The key lives in sessionStorage only: gone when the tab closes, never in a cookie. */
export const storedKey = () => sessionStorage.getItem(KEY);

export function forget() {
  sessionStorage.removeItem(KEY);
}

/**
 * Checks the key against this origin's API and reads what it may do from the first
 * answer's `X-Verk-Permissions`: a 403 from GET /v1/users/me still proves the key
 * valid (a 401 never carries the header), so a key without `members:read` signs in too.
 */
export async function signIn(apiKey: string): Promise<Session> {
  let granted: string | null = null;
  const client = new VerkClient({
    apiKey,
    baseUrl: location.origin,
    retry: { maxRetries: 1, maxDelayMs: 10_000 },
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      granted ??= response.headers.get(PERMISSIONS_HEADER);
      return response;
    },
  });
  let who = `key ${apiKey.slice(0, SHOWN_KEY_CHARS)}…`;
  try {
    const me = await client.users.me();
    who = `${me.name} <${me.email}>`;
  } catch (error) {
    if (!(error instanceof VerkError) || error.status !== 403 || granted === null) throw error;
  }
  const held = (granted ?? "").split(",");
  const permissions = new Set(KEY_PERMISSIONS.filter((p) => held.includes(p)));
  sessionStorage.setItem(KEY, apiKey);
  return { client, permissions, who };
}
