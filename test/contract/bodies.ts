import type { JsonSchema } from "../api-types";
import { receiverEndpoint } from "../webhook-helpers";
import { resolve, typesOf } from "./document";
import type { OrgWorld } from "./world";

// ---------------------------------------------------------------------------
// Bodies, derived from the requestBody schema

let unique = 0;

/**
 * Values the schema cannot tell: ids that must exist, a URL the webhook policy admits (localhost is allowed in
 * tests), a recovery window's start within the delivery log's retention.
 */
const BODY_VALUES: Record<string, (w: OrgWorld) => unknown> = {
  projectId: (w) => w.ids.project,
  url: () => receiverEndpoint("contract").url,
  since: () => new Date(Date.now() - 3_600_000).toISOString(),
};

function valueFor(name: string, schema: JsonSchema, w: OrgWorld, path: string): unknown {
  const fixed = BODY_VALUES[name];
  if (fixed) return fixed(w);
  const s = resolve(schema);
  const types = typesOf(s);
  if (s.enum) return s.enum[0];
  if (types.includes("object")) return minimalBody(s, w, path);
  if (types.includes("array")) {
    return Array.from({ length: s.minItems ?? 0 }, () => valueFor(name, s.items ?? {}, w, `${path}[]`));
  }
  if (types.includes("string")) {
    unique += 1;
    if (s.format === "email") return `contract-${unique}-${crypto.randomUUID().slice(0, 8)}@example.com`;
    if (s.pattern || s.format) {
      if (typeof s.example === "string") return s.example;
      throw new Error(`${path}: cannot make a value for ${JSON.stringify(s)}; add it to BODY_VALUES`);
    }
    return `contract ${unique}`.padEnd(s.minLength ?? 1, "x");
  }
  if (types.includes("number")) return s.example ?? s.minimum ?? 1;
  if (types.includes("boolean")) return false;
  throw new Error(`${path}: cannot make a value for ${JSON.stringify(s)}; add it to BODY_VALUES`);
}

/**
 * The required properties only, each with a valid value; where the schema requires one
 * of several sets (`oneOf: [{required: [...]}, ...]`), the first set too.
 */
export function minimalBody(schema: JsonSchema, w: OrgWorld, path = ""): Record<string, unknown> {
  const s = resolve(schema);
  const body: Record<string, unknown> = {};
  const firstAlternative = s.properties ? (s.oneOf?.[0]?.required ?? []) : [];
  for (const name of [...(s.required ?? []), ...firstAlternative]) {
    body[name] = valueFor(name, s.properties?.[name] ?? {}, w, path ? `${path}.${name}` : name);
  }
  return body;
}

/** A JSON value of a type the schema does not admit. */
export function wrongTypeFor(schema: JsonSchema): unknown {
  const admitted = typesOf(schema);
  const candidates: [string, unknown][] = [
    ["number", 12345],
    ["string", "zz-wrong-type"],
    ["boolean", true],
    ["object", { zz: 1 }],
    ["array", ["zz"]],
  ];
  const found = candidates.find(([type]) => !admitted.includes(type));
  if (!found) throw new Error(`no wrong type for ${JSON.stringify(schema)}`);
  return found[1];
}

interface FieldCase {
  /** Dotted path, as the error's `field` names it. */
  field: string;
  schema: JsonSchema;
  required: boolean;
}

/** Every property, one level into nested objects (`owner.email`, `filters.projectId`). */
export function fieldsOf(schema: JsonSchema, prefix = ""): FieldCase[] {
  const s = resolve(schema);
  return Object.entries(s.properties ?? {}).flatMap(([name, property]) => {
    const field = prefix + name;
    const own: FieldCase = { field, schema: property, required: (s.required ?? []).includes(name) };
    const nested = resolve(property).properties && !prefix ? fieldsOf(property, `${field}.`) : [];
    return [own, ...nested];
  });
}

/** Nested objects a field path goes through (for the unknown-field test inside them). */
export function objectFields(schema: JsonSchema): FieldCase[] {
  return fieldsOf(schema).filter((f) => !f.field.includes(".") && resolve(f.schema).properties);
}

/** The minimal body with `value` at the dotted `field` (parents made minimal), or the field removed. */
export function bodyWith(schema: JsonSchema, w: OrgWorld, field: string, value: unknown, remove = false) {
  const body = minimalBody(schema, w);
  const [head, tail] = field.split(".") as [string, string | undefined];
  if (tail === undefined) {
    if (remove) delete body[head];
    else body[head] = value;
    return body;
  }
  const parentSchema = resolve(schema).properties?.[head] ?? {};
  const parent = (body[head] as Record<string, unknown> | undefined) ?? minimalBody(parentSchema, w, head);
  if (remove) delete parent[tail];
  else parent[tail] = value;
  body[head] = parent;
  return body;
}
