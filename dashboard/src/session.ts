import { VerkClient, VerkError } from "../../sdk/src/index";

const KEY = "verk.dashboard.apiKey";

export interface Session {
  client: VerkClient;
  /** Every write the dashboard offers needs an admin key (webhooks, keys, credentials). */
  admin: boolean;
  who: string;
}

/** The key lives in sessionStorage only: gone when the tab closes, never in a cookie. */
export const storedKey = () => sessionStorage.getItem(KEY);

export function forget() {
  sessionStorage.removeItem(KEY);
}

/** Checks the key against this origin's API and finds out what it may do. */
export async function signIn(apiKey: string): Promise<Session> {
  const client = new VerkClient({ apiKey, baseUrl: location.origin, retry: { maxRetries: 1, maxDelayMs: 10_000 } });
  const me = await client.users.me();
  let admin = true;
  try {
    await client.apiKeys.list({ limit: 1 });
  } catch (error) {
    if (!(error instanceof VerkError) || error.status !== 403) throw error;
    admin = false;
  }
  sessionStorage.setItem(KEY, apiKey);
  return { client, admin, who: `${me.name} <${me.email}>` };
}
