// The e2e steps' JSON calls to the API under test: one request shape, one status check.
import { check } from "../local-worker.mjs";

/**
 * A client of the API at `base`. `request` answers `{ status, body }` (the body parsed,
 * null when empty); `expectStatus` fails the run unless the status is `status` and
 * answers the body. Calls send `key` as the bearer token unless they name their own.
 * @param {string} base
 * @param {string} [key]
 */
export function apiClient(base, key) {
  /** @param {{ key?: string, body?: unknown }} [options] */
  async function request(method, path, { key: callKey = key, body } = {}) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(callKey ? { Authorization: `Bearer ${callKey}` } : {}),
        ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }
  /** @param {number} status @param {{ key?: string, body?: unknown }} [options] */
  async function expectStatus(status, method, path, options) {
    const res = await request(method, path, options);
    check(
      res.status === status,
      `${method} ${path}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`,
    );
    return res.body;
  }
  return { request, expectStatus };
}
