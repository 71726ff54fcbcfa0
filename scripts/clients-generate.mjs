// `npm run clients:generate`: writes the models of the Python and Go clients from the
// OpenAPI document (scripts/openapi.mjs `buildDocument()`, the document GET /openapi.json
// serves): clients/python/verk/models.py (TypedDicts, snake_case keys, and the tables the
// client maps keyword arguments with) and clients/go/models_gen.go (structs, list options).
// `npm run clients:check` (in `npm test`) regenerates in memory and fails when a committed
// file differs, so a contract change without regenerated clients cannot land.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { buildDocument } from "./openapi.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PY_TARGET = join(ROOT, "clients/python/verk/models.py");
const GO_TARGET = join(ROOT, "clients/go/models_gen.go");

const refName = (ref) => ref.split("/").at(-1);
const snake = (name) => name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
const types = (schema) => (Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : []);
const nullable = (schema) => types(schema).includes("null");
const baseType = (schema) => types(schema).find((t) => t !== "null");

/**
 * The name of an inline object schema: its context (parent + property), or the component
 * of that name when it has the same properties (Webhook.filters is WebhookFilters).
 */
function nestedName(context, schema, schemas, rename = (n) => n) {
  const component = Object.keys(schemas).find((name) => rename(name) === context);
  if (!component) return context;
  const same = (a, b) => JSON.stringify(Object.keys(a ?? {}).sort()) === JSON.stringify(Object.keys(b ?? {}).sort());
  return same(schemas[component].properties, schema.properties) ? { reuse: context } : `${context}Object`;
}

/** A schema with its allOf parts merged into one object schema. */
function flatten(schema, schemas) {
  if (schema.$ref) return flatten(schemas[refName(schema.$ref)], schemas);
  if (!schema.allOf) return schema;
  const merged = { type: "object", properties: {}, required: [] };
  for (const part of schema.allOf) {
    const flat = flatten(part, schemas);
    Object.assign(merged.properties, flat.properties ?? {});
    merged.required.push(...(flat.required ?? []));
  }
  return merged;
}

/** Request bodies' schemas and everything they reference: optional fields there are left out when unset. */
function requestSchemas(doc) {
  const names = new Set();
  const visit = (schema) => {
    if (!schema || typeof schema !== "object") return;
    if (schema.$ref) {
      const name = refName(schema.$ref);
      if (names.has(name)) return;
      names.add(name);
      visit(doc.components.schemas[name]);
      return;
    }
    for (const value of Object.values(schema)) if (typeof value === "object") visit(value);
  };
  for (const [path, item] of Object.entries(doc.paths)) {
    if (path.startsWith("/v1/admin") || path.startsWith("/v1/webhooks/incoming")) continue;
    for (const op of Object.values(item)) visit(op?.requestBody?.content?.["application/json"]?.schema);
  }
  return names;
}

/** The operations the clients call: every /v1 path except the operator's and the intake's. */
function clientOperations(doc) {
  const ops = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!path.startsWith("/v1/") || path.startsWith("/v1/admin") || path.startsWith("/v1/webhooks/incoming")) continue;
    for (const [method, op] of Object.entries(item)) if (op?.operationId) ops.push({ path, method, op });
  }
  return ops;
}

// ---------------------------------------------------------------- Python

const PY_KEYWORDS = new Set(["from", "class", "def", "import", "global", "in", "is", "not", "or", "and", "pass"]);

function pyType(schema, schemas, nested, context) {
  if (schema.$ref) return refName(schema.$ref);
  if (schema.allOf)
    return pyType(schema.allOf.length === 1 ? schema.allOf[0] : flatten(schema, schemas), schemas, nested, context);
  const base = baseType(schema);
  let type;
  if (schema.enum && base === "string") type = `Literal[${schema.enum.map((v) => JSON.stringify(v)).join(", ")}]`;
  else if (base === "string") type = schema.format === "date-time" ? "datetime" : "str";
  else if (base === "integer") type = "int";
  else if (base === "number") type = "float";
  else if (base === "boolean") type = "bool";
  else if (base === "array") type = `List[${pyType(schema.items ?? {}, schemas, nested, `${context}Item`)}]`;
  else if (base === "object" && schema.properties) {
    const found = nestedName(context, schema, schemas);
    if (typeof found === "string") nested.push({ name: found, schema });
    type = typeof found === "string" ? found : found.reuse;
  } else if (base === "object") type = "Dict[str, Any]";
  else type = "Any";
  return nullable(schema) && type !== "Any" ? `Optional[${type}]` : type;
}

function pyTypedDict(name, schema, schemas, nested) {
  const flat = flatten(schema, schemas);
  const required = new Set(flat.required ?? []);
  const fields = Object.entries(flat.properties ?? {}).map(([key, prop]) => ({
    key: snake(key),
    type: pyType(prop, schemas, nested, `${name}${key[0].toUpperCase()}${key.slice(1)}`),
    required: required.has(key),
    doc: prop.description,
  }));
  const doc = schema.description ?? flat.description;
  const lines = [];
  const entries = (list) => list.map((f) => `${JSON.stringify(f.key)}: ${f.type}`).join(", ");
  const needsFunctional = fields.some((f) => PY_KEYWORDS.has(f.key));
  if (needsFunctional) {
    // Evaluated at once (not under `from __future__ import annotations`): quoted, a type defined further down resolves.
    const quoted = fields.map((f) => ({ ...f, type: JSON.stringify(f.type) }));
    lines.push(`${name} = TypedDict(${JSON.stringify(name)}, {${entries(quoted)}}, total=False)`);
    return lines.join("\n");
  }
  const req = fields.filter((f) => f.required);
  const opt = fields.filter((f) => !f.required);
  const body = (list) =>
    list.length === 0
      ? ["    pass"]
      : list.flatMap((f) => [...(f.doc ? [`    #: ${f.doc.replace(/\s+/g, " ")}`] : []), `    ${f.key}: ${f.type}`]);
  if (req.length > 0 && opt.length > 0) {
    lines.push(`class _${name}Required(TypedDict):`, ...body(req), "", "");
    lines.push(`class ${name}(_${name}Required, total=False):`);
    if (doc) lines.push(`    """${doc.replace(/\s+/g, " ")}"""`, "");
    lines.push(...body(opt));
  } else {
    lines.push(`class ${name}(TypedDict${req.length === 0 && opt.length > 0 ? ", total=False" : ""}):`);
    if (doc) lines.push(`    """${doc.replace(/\s+/g, " ")}"""`, "");
    lines.push(...body(fields));
  }
  return lines.join("\n");
}

function pythonSource(doc) {
  const schemas = doc.components.schemas;
  const out = [];
  const nested = [];
  for (const [name, schema] of Object.entries(schemas))
    out.push({ name, code: pyTypedDict(name, schema, schemas, nested) });
  const nestedCode = [];
  for (let i = 0; i < nested.length; i++) {
    const { name, schema } = nested[i];
    if (nestedCode.some((n) => n.name === name)) continue;
    nestedCode.push({ name, code: pyTypedDict(name, schema, schemas, nested) });
  }

  const dateFields = new Set();
  const collectDates = (schema) => {
    if (!schema || typeof schema !== "object") return;
    for (const [key, prop] of Object.entries(schema.properties ?? {})) {
      if (prop && prop.format === "date-time") dateFields.add(snake(key));
    }
    for (const value of Object.values(schema)) if (typeof value === "object") collectDates(value);
  };
  for (const schema of Object.values(schemas)) collectDates(schema);

  const requests = requestSchemas(doc);
  const bodyFields = {};
  for (const name of [...requests].sort()) {
    const flat = flatten(schemas[name], schemas);
    bodyFields[name] = Object.fromEntries(Object.keys(flat.properties ?? {}).map((key) => [snake(key), key]));
  }
  const queryParams = {};
  const operations = {};
  for (const { path, method, op } of clientOperations(doc)) {
    const query = (op.parameters ?? []).filter((p) => p.in === "query");
    if (query.length > 0) queryParams[op.operationId] = Object.fromEntries(query.map((p) => [snake(p.name), p.name]));
    const body = op.requestBody?.content?.["application/json"]?.schema?.$ref;
    operations[op.operationId] = [method.toUpperCase(), path, body ? refName(body) : null];
  }
  const events = Object.values(doc.webhooks ?? {}).map((w) =>
    refName(w.post.requestBody.content["application/json"].schema.$ref),
  );

  const py = (value) =>
    JSON.stringify(value, null, 4)
      .replace(/\bnull\b/g, "None")
      .replace(/\btrue\b/g, "True")
      .replace(/\bfalse\b/g, "False");
  return `# Generated by \`npm run clients:generate\` from the API's OpenAPI document (GET /openapi.json).
# Do not edit: \`npm run clients:check\` (in \`npm test\`) fails when this file is stale.
"""The API's records as TypedDicts: snake_case keys, date-times as aware \`datetime\`s."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional, Union

try:
    from typing import Literal, TypedDict
except ImportError:  # pragma: no cover - Python < 3.8 is not supported
    raise

${[...nestedCode.reverse(), ...out].map((c) => c.code).join("\n\n\n")}


#: What verify_webhook returns: one of the events the webhooks section of the document describes.
WebhookEvent = Union[${events.join(", ")}]

#: snake_case keys whose values are RFC 3339 date-times, parsed into aware datetimes.
DATETIME_FIELDS = frozenset(${py([...dateFields].sort())})

#: Each request body's fields: the keyword argument -> the API's name.
BODY_FIELDS: Dict[str, Dict[str, str]] = ${py(bodyFields)}

#: Each list's query parameters: the keyword argument -> the API's name.
QUERY_PARAMS: Dict[str, Dict[str, str]] = ${py(queryParams)}

#: operationId -> (method, path, request body schema).
OPERATIONS: Dict[str, Any] = ${py(operations)}
`;
}

// ---------------------------------------------------------------- Go

const INITIALISMS = { Id: "ID", Url: "URL", Api: "API", Ip: "IP", Http: "HTTP", Json: "JSON", Uri: "URI", Ms: "Ms" };
const goWords = (name) =>
  name
    .replace(/[^A-Za-z0-9]+/g, " ")
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(" ")
    .filter(Boolean)
    .map((w) => {
      const cap = w[0].toUpperCase() + w.slice(1);
      return INITIALISMS[cap] ?? cap;
    });
const goField = (name) => goWords(name).join("");
/** Names clients/go declares by hand: a schema of the same name gets a `Schema` suffix instead of a compile error. */
const GO_HANDWRITTEN = new Set([
  "APIError",
  "Bool",
  "Client",
  "ConnectionError",
  "DefaultBaseURL",
  "Int",
  "Iter",
  "NewClient",
  "Option",
  "VerifyWebhook",
  "Version",
  "WebhookEvent",
  "WebhookVerificationError",
  "WebhookVerifier",
]);

/** `CreateTask` -> `TaskCreate`, `UpdateTask` -> `TaskUpdate` (the names the product documentation uses). */
function goTypeName(schemaName) {
  const m = schemaName.match(/^(Create|Update)([A-Z].*)$/);
  const name = goField(m ? `${m[2]}${m[1]}` : schemaName);
  return GO_HANDWRITTEN.has(name) || name.endsWith("Service") ? `${name}Schema` : name;
}

function goType(schema, ctx) {
  const { schemas, nested, request, required } = ctx;
  if (schema.$ref) {
    const name = goTypeName(refName(schema.$ref));
    const target = schemas[refName(schema.$ref)];
    return nullable(target) || nullable(schema) || !required ? `*${name}` : name;
  }
  if (schema.allOf) {
    if (schema.allOf.length === 1) return goType(schema.allOf[0], ctx);
    nested.push({ name: ctx.context, schema: flatten(schema, schemas) });
    return ctx.context;
  }
  const base = baseType(schema);
  const isNull = nullable(schema);
  const item = () => goType(schema.items ?? {}, { ...ctx, required: true, context: `${ctx.context}Item` });
  switch (base) {
    case "string":
      if (schema.format === "date-time") return isNull || !required ? "*time.Time" : "time.Time";
      return isNull && !request ? "*string" : "string";
    case "integer":
      return (isNull && !request) || (request && !required) ? "*int" : "int";
    case "number":
      return (isNull && !request) || (request && !required) ? "*float64" : "float64";
    case "boolean":
      return request && !required ? "*bool" : "bool";
    case "array":
      return `[]${item()}`;
    case "object":
      if (schema.properties) {
        const found = nestedName(ctx.context, schema, schemas, goTypeName);
        const name = typeof found === "string" ? found : found.reuse;
        if (typeof found === "string") nested.push({ name, schema });
        return isNull || (!required && !request) ? `*${name}` : name;
      }
      if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
        const value = schema.additionalProperties;
        if (Object.keys(value).length === 0) return "map[string]any";
        return `map[string]${goType(value, { ...ctx, required: true, context: `${ctx.context}Value` })}`;
      }
      return "map[string]any";
    default:
      return "any";
  }
}

function goComment(text, indent = "") {
  if (!text) return [];
  return [`${indent}// ${text.replace(/\s+/g, " ")}`];
}

function goStruct(name, schema, schemas, nested, request) {
  const flat = flatten(schema, schemas);
  const required = new Set(flat.required ?? []);
  const lines = [...goComment(schema.description ?? flat.description), `type ${name} struct {`];
  const clearable = [];
  for (const [key, prop] of Object.entries(flat.properties ?? {})) {
    const isRequired = required.has(key);
    const type = goType(prop, {
      schemas,
      nested,
      request,
      required: isRequired,
      context: `${name}${goField(key)}`,
    });
    const omit = request ? !isRequired : !isRequired;
    lines.push(...goComment(prop.description, "\t"));
    lines.push(`\t${goField(key)} ${type} \`json:"${key}${omit ? ",omitempty" : ""}"\``);
    if (request && !isRequired) {
      if (nullable(prop) || (prop.$ref && nullable(schemas[refName(prop.$ref)] ?? {}))) clearable.push([key, "null"]);
      else if (baseType(prop) === "array") clearable.push([key, "[]"]);
    }
  }
  if (clearable.length > 0) {
    lines.push(
      `\t// Send names fields to send although empty: ${clearable.map(([k, v]) => `"${k}" as ${v}`).join(", ")}.`,
      '\tSend []string `json:"-"`',
    );
  }
  lines.push("}");
  if (clearable.length > 0) {
    lines.push(
      "",
      `// MarshalJSON adds the fields named in Send.`,
      `func (v ${name}) MarshalJSON() ([]byte, error) {`,
      `\ttype plain ${name}`,
      `\treturn marshalWithEmpty(plain(v), v.Send, map[string]string{${clearable.map(([k, v]) => `"${k}": "${v}"`).join(", ")}})`,
      "}",
    );
  }
  return lines.join("\n");
}

function singular(word) {
  if (word.endsWith("ies")) return `${word.slice(0, -3)}y`;
  if (word.endsWith("s")) return word.slice(0, -1);
  return word;
}

function goSource(doc) {
  const schemas = doc.components.schemas;
  const requests = requestSchemas(doc);
  const nested = [];
  const blocks = [];
  for (const [name, schema] of Object.entries(schemas)) {
    blocks.push(goStruct(goTypeName(name), schema, schemas, nested, requests.has(name)));
  }
  const seen = new Set();
  for (let i = 0; i < nested.length; i++) {
    const { name, schema } = nested[i];
    if (seen.has(name)) continue;
    seen.add(name);
    blocks.push(goStruct(name, schema, schemas, nested, false));
  }
  for (const { op } of clientOperations(doc)) {
    if (!op.operationId.startsWith("list")) continue;
    const query = (op.parameters ?? []).filter((p) => p.in === "query");
    const name = `${singular(goField(op.operationId.slice(4)))}ListOptions`;
    const lines = [
      `// ${name} are the query parameters of ${op.operationId}; zero values are not sent.`,
      `type ${name} struct {`,
    ];
    for (const p of query) {
      const base = baseType(p.schema ?? {});
      const type = base === "integer" ? "int" : base === "boolean" ? "*bool" : base === "number" ? "float64" : "string";
      lines.push(...goComment(p.description ?? p.schema?.description, "\t"));
      lines.push(`\t${goField(p.name)} ${type} \`url:"${p.name}"\``);
    }
    lines.push("}");
    blocks.push(lines.join("\n"));
  }
  const usesTime = blocks.some((b) => b.includes("time.Time"));
  return `// Code generated by \`npm run clients:generate\` from the API's OpenAPI document (GET /openapi.json). DO NOT EDIT.
// \`npm run clients:check\` (in \`npm test\`) fails when this file is stale.

package verk
${usesTime ? '\nimport "time"\n' : ""}
${blocks.join("\n\n")}
`;
}

// ---------------------------------------------------------------- main

/** gofmt's layout, so the committed file is what Go's own tools leave it as. */
function gofmt(source) {
  const result = spawnSync("gofmt", [], { input: source, encoding: "utf8" });
  if (result.error || result.status !== 0) {
    throw new Error(
      `gofmt failed (Go must be installed: .ci/run installs golang-go): ${result.error ?? result.stderr}`,
    );
  }
  return result.stdout;
}

export { gofmt, goSource, pythonSource };

// Imported (to generate from another document), it writes nothing.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();

async function main() {
  const doc = await buildDocument();
  const files = [
    [PY_TARGET, pythonSource(doc)],
    [GO_TARGET, gofmt(goSource(doc))],
  ];
  const check = process.argv.includes("--check");
  let stale = false;
  for (const [target, source] of files) {
    const relative = target.slice(ROOT.length + 1);
    if (check) {
      let current = "";
      try {
        current = readFileSync(target, "utf8");
      } catch {}
      if (current !== source) {
        console.error(
          `✗ ${relative} is stale: the API's OpenAPI document changed. Run \`npm run clients:generate\` and commit.`,
        );
        stale = true;
      } else console.log(`✓ ${relative} matches the OpenAPI document`);
    } else {
      writeFileSync(target, source);
      console.log(`wrote ${relative}`);
    }
  }
  if (stale) process.exit(1);
}
