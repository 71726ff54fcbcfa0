import fc from "fast-check";

/**
 * What the fuzz sends: any JSON value, hostile objects, and valid bodies with fields
 * replaced, removed or added.
 */

// ---------------------------------------------------------------------------
// Bodies as text: JSON, plus number literals and nestings JSON.stringify cannot write

/** A piece of JSON text placed verbatim in the body (`1e309`, `-0`, a deep nesting). */
export class RawJson {
  constructor(readonly text: string) {}
  toString() {
    return `Raw(${this.text.length > 40 ? `${this.text.slice(0, 40)}…` : this.text})`;
  }
}

export function bodyText(value: unknown): string {
  const raws: string[] = [];
  const marker = `__raw_${crypto.randomUUID()}_`;
  const text = JSON.stringify(value, (_key, v) => {
    if (v instanceof RawJson) {
      raws.push(v.text);
      return `${marker}${raws.length - 1}`;
    }
    return v;
  });
  if (text === undefined) return "";
  return text.replace(new RegExp(`"${marker}(\\d+)"`, "g"), (_m, i: string) => raws[Number(i)]!);
}

const rawNumbers = fc
  .constantFrom(
    "1e309",
    "-1e309",
    "-0",
    "-0.0",
    "1e-400",
    "123456789012345678901234567890",
    "0.1e1",
    "1E2",
    "-9007199254740993",
  )
  .map((t) => new RawJson(t));

const deepNesting = fc
  .constantFrom(100, 1000, 20_000)
  .chain((depth) =>
    fc.constantFrom(`${"[".repeat(depth)}${"]".repeat(depth)}`, `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`),
  )
  .map((t) => new RawJson(t));

/** Lengths either side of the schemas' limits (64, 200, 500, 1000, 2048, 10 000, 20 000, 50 000) and past 1 MiB. */
const boundaryStrings = fc
  .constantFrom(
    0,
    1,
    16,
    63,
    64,
    65,
    199,
    200,
    201,
    499,
    500,
    501,
    1000,
    1001,
    2048,
    2049,
    10_001,
    20_001,
    50_001,
    1_100_000,
  )
  .chain((n) =>
    fc.constantFrom(
      "x".repeat(n),
      " ".repeat(n),
      "é".repeat(n),
      "💥".repeat(Math.ceil(n / 2)),
      `${"x".repeat(Math.max(0, n - 1))}\ud800`,
    ),
  );

const oddStrings = fc.constantFrom(
  "",
  " ",
  "\u0000",
  "\ud800",
  "a\udc00b",
  "\u202e\u202d",
  "null",
  "true",
  "0",
  "NaN",
  "Infinity",
  "__proto__",
  "'; DROP TABLE tasks; --",
  "%00",
  "../../etc/passwd",
  "<script>alert(1)</script>",
  "#3B82F6",
  "#zzzzzz",
  "2024-02-30",
  "0000-01-01",
  "9999-12-31T23:59:59-14:00",
  "0000-01-01T00:00:00+14:00",
  "2024-12-31T23:59:59Z",
  "2024-12-31T23:59:59",
  "-271821-04-20T00:00:00Z",
  "user@example.com",
  "a@b",
  "https://example.com/hook",
  "http://127.0.0.1:1/hook",
  "https://user:pass@example.com/",
  "https://[::1]/",
  "https://169.254.169.254/latest",
  "https://10.0.0.1/",
  "https://xn--e1afmkfd.xn--p1ai/",
  "https://例え.jp/",
  "javascript:alert(1)",
  "*",
  "task.created",
  "tasks:create",
  "10.0.0.0/8",
  "::/0",
  "203.0.113.0/33",
  "admin",
  "owner",
  "member",
  "read",
  "write",
  "done",
  "urgent",
);

const hostileKeys = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "", " ", "TITLE", "a.b", "0"),
);

const hostileValues: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  rawNumbers,
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  oddStrings,
  boundaryStrings,
  deepNesting,
  fc.array(fc.oneof(oddStrings, fc.integer(), fc.constant(null)), { maxLength: 60 }),
  fc.dictionary(hostileKeys, fc.oneof(oddStrings, fc.integer(), fc.constant(null)), { maxKeys: 4 }),
  fc.anything({ maxDepth: 3 }),
  // Objects that break String() and template literals if a message quotes them.
  fc.constantFrom({ toString: 0 }, { toString: 0, valueOf: 0 }, [{ toString: 0 }]),
);

export type Body = Record<string, unknown>;

/** Every path into a valid body: its fields, fields of nested objects, array elements. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => [[...prefix, i], ...pathsOf(item, [...prefix, i])]);
  }
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
  }
  return [];
}

type Mutation =
  | { kind: "set"; pick: number; value: unknown }
  | { kind: "delete"; pick: number }
  | { kind: "add"; pick: number; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("set" as const), pick: fc.nat(), value: hostileValues }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("add" as const), pick: fc.nat(), key: hostileKeys, value: hostileValues }),
  },
);

type Container = Record<string | number, unknown>;

/** The value at `path` inside `root`; undefined where the path leads nowhere. */
function valueAt(root: unknown, path: (string | number)[]): unknown {
  return path.reduce<unknown>((node, k) => (node as Container | null | undefined)?.[k], root);
}

/** The valid body with each mutation applied at a path chosen by `pick` (objects gain keys, arrays lose elements). */
function applyMutations(valid: Body, mutations: Mutation[]): Body {
  const body = structuredClone(valid);
  for (const m of mutations) {
    const paths = pathsOf(body);
    if (m.kind === "add") {
      const holders = [[], ...paths].filter((p) => {
        const target = valueAt(body, p);
        return target && typeof target === "object" && !Array.isArray(target);
      });
      const holder = valueAt(body, holders[m.pick % holders.length]!) as Container;
      Object.defineProperty(holder, m.key, {
        value: structuredClone(m.value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      continue;
    }
    if (paths.length === 0) continue;
    const path = paths[m.pick % paths.length]!;
    const parent = valueAt(body, path.slice(0, -1)) as Container | null | undefined;
    const last = path[path.length - 1]!;
    if (parent === null || typeof parent !== "object") continue;
    // A copy: generated values (and the shared hostile constants) must never be mutated in
    // place by a later mutation, or one run's body would leak into the next as a cycle.
    if (m.kind === "set") parent[last] = structuredClone(m.value);
    else if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  }
  return body;
}

/** A valid body with one or two fields set to values their schemas admit but the rules may refuse. */
function plausibly(valid: fc.Arbitrary<Body>, plausible: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Body> {
  const fields = Object.keys(plausible);
  const change = fc.constantFrom(...fields).chain((field) => plausible[field]!.map((value) => [field, value] as const));
  return fc
    .tuple(valid, fc.array(change, { minLength: 1, maxLength: 2 }))
    .map(([body, changes]) => ({ ...body, ...Object.fromEntries(changes) }));
}

/** What the fuzz sends: any value, a hostile object, a valid body, one the rules may refuse, or a mutated one. */
export function bodies(f: Fuzzed): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.dictionary(hostileKeys, hostileValues, { maxKeys: 5 }) },
    { weight: 1, arbitrary: fc.object({ maxDepth: 2 }) },
    { weight: 1, arbitrary: f.valid },
    { weight: 3, arbitrary: plausibly(f.valid, f.plausible) },
    {
      weight: 5,
      arbitrary: fc
        .tuple(f.valid, fc.array(mutation, { minLength: 1, maxLength: 2 }))
        .map(([v, ms]) => applyMutations(v, ms)),
    },
  );
}

export interface Fuzzed {
  /** The path, with the ids of resources made for the endpoint. */
  path: string;
  /** Bodies the endpoint accepts. */
  valid: fc.Arbitrary<Body>;
  /** Per field, values its schema admits that the endpoint's rules may still refuse (unknown ids, taken emails, ...). */
  plausible: Record<string, fc.Arbitrary<unknown>>;
}
