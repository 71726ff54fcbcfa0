import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { OpenApiDocument } from "./api-types";
import { bodies } from "./fuzz/arbitraries";
import { type FuzzOrg, prepareSnapshot, probe, type Target } from "./fuzz/probe";
import { NOT_FUZZED, REGRESSIONS, TARGETS } from "./fuzz/targets";
import { call, createOrg } from "./harness";

/**
 * Property-based fuzz of the write endpoints' request bodies: any JSON value, hostile
 * objects, and valid bodies with fields replaced, removed or added. Whatever the body,
 * the answer is never a 5xx, every 4xx carries the spec's error body, and a refused
 * request leaves the database exactly as it was (every row of the organization, every
 * column but those written in the background by design).
 */

// The generators (test/fuzz/arbitraries.ts), the database comparison (test/fuzz/probe.ts)
// and the endpoints with what each needs (test/fuzz/targets.ts) live beside this file.

beforeAll(async () => {
  await prepareSnapshot();
});

describe("fuzz: request bodies of the write endpoints", () => {
  it("fuzzes every documented write with a body, or says why not", async () => {
    const doc = (await call<OpenApiDocument>("GET", "/openapi.json")).body;
    const writes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([method, op]) => (method === "post" || method === "patch") && op.requestBody)
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    const fuzzed = TARGETS.map((t) => t.name);
    expect(writes.filter((w) => !fuzzed.includes(w) && !NOT_FUZZED[w])).toEqual([]);
    expect(
      [...fuzzed, ...Object.keys(NOT_FUZZED)].filter((w) => !writes.includes(w)),
      "stale entries",
    ).toEqual([]);
  });

  for (const spec of TARGETS) {
    it(`${spec.name}: ${spec.numRuns} generated bodies, no 5xx, spec error bodies, no change from a refused one`, async () => {
      const org = await createOrg();
      const f: FuzzOrg = { org, keys: [org.keys.admin], uses: 0 };
      const fuzzed = await spec.build(org);
      const target: Target = { name: spec.name, method: spec.name.split(" ")[0]!, path: fuzzed.path };
      const statuses: Record<number, number> = {};
      await fc.assert(
        fc.asyncProperty(bodies(fuzzed), fc.option(fc.uuid(), { freq: 4 }), async (body, idempotencyKey) => {
          const status = await probe(f, target, body, idempotencyKey);
          statuses[status] = (statuses[status] ?? 0) + 1;
        }),
        { numRuns: spec.numRuns, examples: (REGRESSIONS[spec.name] ?? []).map((body) => [body, null]) },
      );
      console.log(JSON.stringify({ fuzz: spec.name, statuses }));
      // A fuzz that never gets past validation would only test the validator.
      expect(
        statuses[200] ?? statuses[201] ?? statuses[202],
        `${spec.name} never succeeded: ${JSON.stringify(statuses)}`,
      ).toBeGreaterThan(0);
    }, 180_000);
  }
});
