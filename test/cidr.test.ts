import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cidrContains, ipAllowed, parseCidr, parseIp } from "../src/incoming-webhooks/cidr";

// An independent reading of addresses: a family and a BigInt, written out as text here and
// compared bit by bit, so the allowlist code (ipaddr.js underneath) is checked against arithmetic.
type Family = 4 | 6;
const BITS = { 4: 32, 6: 128 } as const;

function v4Text(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join(".");
}

function v6Groups(value: bigint): number[] {
  return Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
}

/** The ways RFC 4291 §2.2 lets one IPv6 address be written. */
const V6_FORMS = ["plain", "expanded", "upper", "compressed", "dotted", "compressed-dotted"] as const;
type V6Form = (typeof V6_FORMS)[number];

/** Joins groups (and a dotted tail), replacing one run of zero groups with "::"; zeroRun picks which. */
function compressJoin(groups: string[], zeroRun: number, tail?: string): string {
  const runs: [number, number][] = [];
  for (let i = 0; i < groups.length; i++) {
    if (groups[i] !== "0") continue;
    let end = i;
    while (end < groups.length && groups[end] === "0") end++;
    runs.push([i, end]);
    i = end;
  }
  const all = tail === undefined ? groups : [...groups, tail];
  if (runs.length === 0) return all.join(":");
  const [start, end] = runs[zeroRun % runs.length]!;
  return `${all.slice(0, start).join(":")}::${all.slice(end).join(":")}`;
}

function v6Text(value: bigint, form: V6Form, zeroRun = 0): string {
  const groups = v6Groups(value).map((g) => g.toString(16));
  const dotted = v4Text(value & 0xffffffffn);
  if (form === "expanded") return groups.map((g) => g.padStart(4, "0")).join(":");
  if (form === "upper") return groups.join(":").toUpperCase();
  if (form === "dotted") return `${groups.slice(0, 6).join(":")}:${dotted}`;
  if (form === "compressed") return compressJoin(groups, zeroRun);
  if (form === "compressed-dotted") return compressJoin(groups.slice(0, 6), zeroRun, dotted);
  return groups.join(":");
}

function addressText(family: Family, value: bigint, form: V6Form, zeroRun: number): string {
  return family === 4 ? v4Text(value) : v6Text(value, form, zeroRun);
}

/** IPv4-mapped IPv6 (::ffff:0:0/96) stands for the IPv4 address in its last 32 bits. */
function unmap(family: Family, value: bigint): [Family, bigint] {
  return family === 6 && value >> 32n === 0xffffn ? [4, value & 0xffffffffn] : [family, value];
}

function referenceContains(family: Family, base: bigint, prefix: number, clientFamily: Family, client: bigint) {
  const [addressFamily, address] = unmap(clientFamily, client);
  if (family !== addressFamily) return false;
  const hostBits = BigInt(BITS[family] - prefix);
  return base >> hostBits === address >> hostBits;
}

const range = (family: Family) =>
  fc.record({
    family: fc.constant(family),
    base: fc.bigInt({ min: 0n, max: (1n << BigInt(BITS[family])) - 1n }),
    prefix: fc.integer({ min: 0, max: BITS[family] }),
    form: fc.constantFrom(...V6_FORMS),
    zeroRun: fc.nat(3),
    bare: fc.boolean(),
  });

/** An address of either family, half the time sharing a random number of leading bits with `near`. */
const addressNear = (near: { family: Family; base: bigint }) =>
  fc.oneof(
    fc.record({
      family: fc.constant(near.family),
      value: fc
        .tuple(fc.integer({ min: 0, max: BITS[near.family] }), fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }))
        .map(([keep, noise]) => near.base ^ (noise & ((1n << BigInt(BITS[near.family] - keep)) - 1n))),
    }),
    fc.constantFrom<Family>(4, 6).chain((family) =>
      fc.record({
        family: fc.constant(family),
        value: fc.bigInt({ min: 0n, max: (1n << BigInt(BITS[family])) - 1n }),
      }),
    ),
  );

const cases = fc.oneof(range(4), range(6)).chain((cidr) =>
  fc.record({
    cidr: fc.constant(cidr),
    address: addressNear(cidr),
    form: fc.constantFrom(...V6_FORMS),
    zeroRun: fc.nat(3),
    mapped: fc.boolean(),
  }),
);

describe("CIDR allowlists: property", () => {
  it("cidrContains and ipAllowed agree with BigInt arithmetic on 20,000 random IPv4 and IPv6 ranges and addresses", () => {
    fc.assert(
      fc.property(cases, ({ cidr, address, form, zeroRun, mapped }) => {
        const base = addressText(cidr.family, cidr.base, cidr.form, cidr.zeroRun);
        const full = cidr.prefix === BITS[cidr.family];
        const cidrText = cidr.bare && full ? base : `${base}/${cidr.prefix}`;
        // An IPv4 client may arrive as IPv4-mapped IPv6 (::ffff:a.b.c.d), which must match IPv4 ranges.
        const ipText =
          address.family === 4 && mapped
            ? `::ffff:${v4Text(address.value)}`
            : addressText(address.family, address.value, form, zeroRun);
        const expected = referenceContains(cidr.family, cidr.base, cidr.prefix, address.family, address.value);

        const parsedCidr = parseCidr(cidrText);
        const parsedIp = parseIp(ipText);
        expect(parsedCidr, cidrText).not.toBeNull();
        expect(parsedIp, ipText).not.toBeNull();
        expect(cidrContains(parsedCidr!, parsedIp!), `${ipText} in ${cidrText}`).toBe(expected);
        expect(ipAllowed(ipText, [cidrText]), `${ipText} allowed by ${cidrText}`).toBe(expected);
        expect(ipAllowed(ipText, ["not a range", cidrText]), `${ipText} with a bad entry first`).toBe(expected);
      }),
      { numRuns: 20_000 },
    );
  });
});

describe("CIDR allowlists: strict input", () => {
  it("refuses IPv4 forms ipaddr.js would otherwise read (short, hex, octal, leading zeros) and IPv6 zone ids", () => {
    for (const bad of [
      "127.1",
      "127.0.1",
      "2130706433",
      "0x7f.0.0.1",
      "0x7f000001",
      "0177.0.0.1",
      "1.2.3.04",
      "::ffff:0x7f.0.0.1",
      "::ffff:127.1",
      "::ffff:01.2.3.4",
      "fe80::1%eth0",
      "fe80::1%1",
      "12345::",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8::",
      " 1.2.3.4",
      "1.2.3.4 ",
    ]) {
      expect(parseIp(bad), bad).toBeNull();
      expect(ipAllowed(bad, ["0.0.0.0/0", "::/0"]), bad).toBe(false);
    }
    for (const bad of ["127.1/8", "0x7f.0.0.1/8", "1.2.3.4/08x", "1.2.3.4/-1", "1.2.3.4/1000", "fe80::%eth0/64"]) {
      expect(parseCidr(bad), bad).toBeNull();
    }
  });

  it("reads ::a.b.c.d as IPv4-compatible IPv6 (RFC 4291 §2.5.5.1), not as the IPv4-mapped ::ffff:a.b.c.d", () => {
    expect(ipAllowed("::1.2.3.4", ["1.2.3.4/32"])).toBe(false);
    expect(ipAllowed("::1.2.3.4", ["::102:304/128"])).toBe(true);
    expect(ipAllowed("::ffff:1.2.3.4", ["1.2.3.4/32"])).toBe(true);
    expect(ipAllowed("::ffff:102:304", ["1.2.3.0/24"])).toBe(true);
    expect(ipAllowed("::FFFF:1.2.3.4", ["1.2.3.0/24"])).toBe(true);
  });

  it("ranges keep host bits, trim surrounding spaces, and allow prefixes 0 to 32 or 128 only", () => {
    expect(ipAllowed("10.1.15.255", [" 10.1.2.3/20 "])).toBe(true);
    expect(ipAllowed("10.1.16.0", ["10.1.2.3/20"])).toBe(false);
    expect(parseCidr("1.2.3.4/32")).not.toBeNull();
    expect(parseCidr("1.2.3.4/33")).toBeNull();
    expect(parseCidr("::/128")).not.toBeNull();
    expect(parseCidr("::/129")).toBeNull();
    expect(ipAllowed("255.255.255.255", ["0.0.0.0/0"])).toBe(true);
    expect(ipAllowed("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ["::/0"])).toBe(true);
    expect(ipAllowed("::ffff:1.2.3.4", ["::/0"])).toBe(false);
  });
});
