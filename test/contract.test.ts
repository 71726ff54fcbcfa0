import { beforeAll, describe, expect, it } from "vitest";
import { bodyWith, fieldsOf, minimalBody, objectFields, wrongTypeFor } from "./contract/bodies";
import {
  doc,
  EXEMPT,
  KEY_PERMISSIONS,
  LOWEST_SCOPE,
  type Operation,
  operations,
  PUBLIC_OPERATIONS,
  PUBLIC_UNDOCUMENTED,
  SCOPES,
  secured,
  typesOf,
} from "./contract/document";
import {
  BODY_REFERENCES,
  buildWorld,
  expectRefused,
  fullCredential,
  INCOMING_PERMISSIONS,
  send,
  show,
  type World,
} from "./contract/world";
import { ADMIN_TOKEN, type ApiKey, call, errorOf, type Page } from "./harness";

/**
 * The security contract, read from the OpenAPI document the Worker serves: for every
 * documented operation, 401 without a credential, 403 without the documented permission
 * (a key holding every other one, and a scope key below the permission's lowest scope),
 * and passing with a key holding only that permission, 404 for another organization's ids, 400 naming
 * the field for unknown, mistyped and missing body fields — and never a 5xx. A new
 * route gets these tests the day it is documented; a guard that cannot apply to an
 * operation is either structural (no body, no path id, lowest scope) or listed in
 * EXEMPT with its reason.
 */

// The document, the world (test/contract/world.ts) and the bodies derived from the
// schemas (test/contract/bodies.ts) live beside this file.

let world: World;

beforeAll(async () => {
  world = await buildWorld();
}, 90_000);

// ---------------------------------------------------------------------------
// The document itself

describe("contract: the document", () => {
  it("declares a security requirement on every operation but the public ones", () => {
    const open = operations.filter((op) => !op.scheme).map((op) => op.name);
    expect(open.sort()).toEqual([...PUBLIC_OPERATIONS].sort());
  });

  it("defines every security scheme its operations use", () => {
    for (const op of secured) expect(doc.components.securitySchemes, op.name).toHaveProperty(op.scheme!);
  });

  it("lists every key permission in the bearerAuth scheme, each needed by some operation", () => {
    const scheme = doc.components.securitySchemes.bearerAuth as { description: string };
    expect(KEY_PERMISSIONS.length).toBeGreaterThan(0);
    expect(Object.keys(LOWEST_SCOPE).sort()).toEqual([...KEY_PERMISSIONS].sort());
    const needed = new Set(secured.filter((op) => op.scheme === "bearerAuth").map((op) => op.needs));
    for (const permission of KEY_PERMISSIONS) {
      expect(scheme.description, permission).toContain(`\`${permission}\``);
      expect(needed, `no operation needs ${permission}`).toContain(permission);
    }
  });

  it("a key of each scope holds exactly the permissions that scope reached before permissions existed", async () => {
    const keys = await call<Page<ApiKey>>("GET", "/v1/api-keys?limit=100", { key: world.a.org.keys.admin });
    for (const scope of SCOPES) {
      const key = keys.body.data.find((k) => k.id === world.a.org.keyIds[scope]);
      const expected = KEY_PERMISSIONS.filter((p) => SCOPES.indexOf(LOWEST_SCOPE[p]!) <= SCOPES.indexOf(scope));
      expect(key, scope).toMatchObject({ scope, permissions: expected });
    }
  });

  for (const path of [...PUBLIC_UNDOCUMENTED, ...PUBLIC_OPERATIONS.map((name) => name.split(" ")[1]!)]) {
    it(`GET ${path}: answers without a key`, async () => {
      const res = await call("GET", path);
      expect(res.status, show(res)).toBe(200);
    });
  }

  it("lists only exemptions for documented operations and guards the suite would otherwise run", () => {
    const wouldRun = new Set(
      secured.flatMap((op) => [
        `${op.name}: 403`,
        ...(op.pathParams.length ? [`${op.name}: 404 across organizations`] : []),
      ]),
    );
    for (const entry of Object.keys(EXEMPT)) expect(wouldRun, `stale exemption '${entry}'`).toContain(entry);
  });
});

// ---------------------------------------------------------------------------
// Per operation

for (const op of secured) {
  describe("contract", () => {
    const scheme = op.scheme!;

    // --- what the document says the operation needs
    if (scheme === "bearerAuth") {
      it(`${op.name}: documents the key permission it needs`, () => {
        expect(KEY_PERMISSIONS, `security ${JSON.stringify(op)}`).toContain(op.needs);
      });
    }
    if (scheme === "incomingWebhookKey") {
      it(`${op.name}: documents the credential permission it needs`, () => {
        expect(INCOMING_PERMISSIONS, `security of ${op.name}`).toContain(op.needs);
      });
    }

    // --- 401
    it(`${op.name}: 401 without a key`, async () => {
      expectRefused(
        await send(op, null, world.a.ids, minimalBody(op.body?.schema ?? {}, world.a)),
        401,
        "UNAUTHORIZED",
      );
    });
    it(`${op.name}: 401 with a credential of another scheme`, async () => {
      // An API key is no operator token nor incoming-webhook key, and an incoming-webhook key no API key.
      const other = scheme === "bearerAuth" ? world.a.incomingKey : world.a.org.keys.admin;
      expectRefused(
        await send(op, other, world.a.ids, minimalBody(op.body?.schema ?? {}, world.a)),
        401,
        "UNAUTHORIZED",
      );
    });

    // --- 403 without the documented permission, and passing with exactly it
    if (scheme === "bearerAuth" && op.needs && KEY_PERMISSIONS.includes(op.needs)) {
      const permission = op.needs;
      it(`${op.name}: 403 naming ${permission} with a key holding every other permission`, async () => {
        const body = minimalBody(op.body?.schema ?? {}, world.a);
        const res = await send(op, world.keyAllBut[permission]!, world.a.ids, body);
        expectRefused(res, 403, "FORBIDDEN");
        expect(errorOf(res).message).toContain(`'${permission}'`);
      });
      it(`${op.name}: a key with only ${permission} passes the permission check`, async () => {
        await expectPasses(op, world.keyOnly[permission]!, permission);
      });

      // The scopes keep their reach: below the permission's lowest scope 403, from it on a pass.
      const needed = LOWEST_SCOPE[permission]!;
      for (const lower of SCOPES.slice(0, SCOPES.indexOf(needed))) {
        it(`${op.name}: 403 with a ${lower} key`, async () => {
          const body = minimalBody(op.body?.schema ?? {}, world.a);
          expectRefused(await send(op, world.a.org.keys[lower], world.a.ids, body), 403, "FORBIDDEN");
        });
      }
      it(`${op.name}: ${needed === "admin" ? "an" : "a"} ${needed} key passes the scope check`, async () => {
        await expectPasses(op, world.a.org.keys[needed]);
      });
    }
    if (scheme === "incomingWebhookKey" && op.needs) {
      const permission = op.needs;
      it(`${op.name}: 403 with a credential without ${permission}`, async () => {
        const body = minimalBody(op.body?.schema ?? {}, world.a);
        expectRefused(await send(op, world.incomingAllBut[permission]!, world.a.ids, body), 403, "FORBIDDEN");
      });
      it(`${op.name}: a credential with only ${permission} passes the permission check`, async () => {
        await expectPasses(op, world.incomingOnly[permission]!);
      });
    }
    if (scheme === "adminToken") {
      it(`${op.name}: the ADMIN_TOKEN passes`, async () => {
        await expectPasses(op, ADMIN_TOKEN);
      });
    }
    // An exempt guard (EXEMPT, with its reason) gets no test; the ledger test keeps the list honest.

    // --- 404 across organizations: org B's credential, org A's ids
    if (op.pathParams.length > 0) {
      if (!EXEMPT[`${op.name}: 404 across organizations`]) {
        it(`${op.name}: 404 for ${op.pathParams.map((p) => `{${p}}`).join(", ")} of another organization`, async () => {
          const body = minimalBody(op.body?.schema ?? {}, world.b);
          expectRefused(await send(op, fullCredential(op, world.b), world.a.ids, body), 404, "NOT_FOUND");
        });
      }
    }

    // --- body references across organizations: org B's credential, a body naming org A's resource
    if (op.body) {
      const schema = op.body.schema;
      for (const f of fieldsOf(schema)) {
        const leaf = f.field.split(".").pop()!;
        const kind = BODY_REFERENCES[leaf];
        if (!kind && !/Ids?$/.test(leaf)) continue;
        it(`${op.name}: refuses ${f.field} of another organization (404, or 400 naming it)`, async () => {
          expect(kind, `no fixture kind for reference field ${f.field}: add it to BODY_REFERENCES`).toBeDefined();
          const foreign = world.a.ids[kind!]!;
          const value = typesOf(f.schema).includes("array") ? [foreign] : foreign;
          const body = bodyWith(schema, world.b, f.field, value);
          const res = await send(op, fullCredential(op, world.b), world.b.ids, body);
          if (res.status === 404) expectRefused(res, 404, "NOT_FOUND");
          else expectRefused(res, 400, "VALIDATION_ERROR", f.field);
        });
      }
    }

    // --- 400 naming the field
    if (op.body) {
      const schema = op.body.schema;
      const attempt = (body: unknown) => send(op, fullCredential(op, world.a), world.a.ids, body);

      it(`${op.name}: 400 naming an unknown field`, async () => {
        const body = { ...minimalBody(schema, world.a), zzUnknown: 1 };
        expectRefused(await attempt(body), 400, "VALIDATION_ERROR", "zzUnknown");
      });
      for (const f of objectFields(schema)) {
        it(`${op.name}: 400 naming an unknown field inside ${f.field}`, async () => {
          const inner = { ...minimalBody(f.schema, world.a, f.field), zzUnknown: 1 };
          expectRefused(
            await attempt(bodyWith(schema, world.a, f.field, inner)),
            400,
            "VALIDATION_ERROR",
            `${f.field}.zzUnknown`,
          );
        });
      }
      it(`${op.name}: 400 when the body is a JSON array`, async () => {
        expectRefused(await attempt([minimalBody(schema, world.a)]), 400, "VALIDATION_ERROR");
      });
      for (const f of fieldsOf(schema)) {
        it(`${op.name}: 400 naming ${f.field} when it has the wrong type`, async () => {
          const body = bodyWith(schema, world.a, f.field, wrongTypeFor(f.schema));
          expectRefused(await attempt(body), 400, "VALIDATION_ERROR", f.field);
        });
        if (f.required) {
          it(`${op.name}: 400 naming ${f.field} when it is missing`, async () => {
            const body = bodyWith(schema, world.a, f.field, undefined, true);
            expectRefused(await attempt(body), 400, "VALIDATION_ERROR", f.field);
          });
        }
      }
    }

    // --- 400 naming an unknown query parameter
    if (op.queryParams.length > 0) {
      it(`${op.name}: 400 naming an unknown query parameter`, async () => {
        const res = await send(op, fullCredential(op, world.a), world.a.ids, undefined, "?zzUnknown=1");
        expectRefused(res, 400, "VALIDATION_ERROR", "zzUnknown");
      });
    }
  });
}

/**
 * A credential that holds exactly what the operation documents gets past the guard:
 * with unknown ids the handler itself answers 404, and an operation without ids succeeds.
 * Together with the 403 one step below, the documented requirement is the enforced one.
 */
async function expectPasses(op: Operation, key: string, onlyPermission?: string): Promise<void> {
  const body = minimalBody(op.body?.schema ?? {}, world.a);
  // A key hands on only what it holds: a new key for a one-permission key gets that permission.
  if (onlyPermission && "scope" in body) {
    delete body.scope;
    body.permissions = [onlyPermission];
  }
  const res = await send(op, key, "unknown", body);
  if (op.pathParams.length > 0) {
    expectRefused(res, 404, "NOT_FOUND");
    expect(errorOf(res).message, "the handler's 404, not a route miss").not.toMatch(/^No route/);
  } else {
    expect(res.status >= 200 && res.status < 300, `${op.name} with its documented credential: ${show(res)}`).toBe(true);
  }
}
