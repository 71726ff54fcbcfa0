import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkWebhookUrl, NON_PUBLIC_BLOCKS } from "../src/webhooks/url-policy";

const prod = { allowLocalhost: false };
const dev = { allowLocalhost: true };

// Written out here from the IANA IPv4 and IPv6 Special-Purpose Address Registries (Globally
// Reachable False or N/A) plus multicast and deprecated forms, independently of the policy's
// own table, so a block missing there fails here.
const REFUSED_BLOCKS = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.0.2.0/24",
  "192.88.99.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "224.0.0.0/4",
  "240.0.0.0/4",
  "255.255.255.255/32",
  "::/128",
  "::1/128",
  "::/96",
  "::ffff:0:0/96",
  "::ffff:0:0:0/96",
  "64:ff9b:1::/48",
  "100::/64",
  "100:0:0:1::/64",
  "2001::/23",
  "2001::/32",
  "2001:2::/48",
  "2001:10::/28",
  "2001:db8::/32",
  "3fff::/20",
  "5f00::/16",
  "fc00::/7",
  "fe80::/10",
  "fec0::/10",
  "ff00::/8",
];
/** Globally reachable blocks inside 2001::/23, which stay open. */
const OPEN_INSIDE_REFUSED = ["2001:3::/32", "2001:4:112::/48", "2001:20::/28", "2001:30::/28"];
/** Judged by the IPv4 address they carry. */
const CARRYING_IPV4 = ["64:ff9b::/96", "2002::/16"];

// Addresses as BigInts, read and written here without the policy's parser.
type Block = { family: 4 | 6; first: bigint; last: bigint };

function v4Value(text: string): bigint {
  return text.split(".").reduce((n, part) => (n << 8n) | BigInt(part), 0n);
}

function v6Value(text: string): bigint {
  const [head, tail] = text.split("::") as [string, string | undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  return groups.reduce((n, group) => (n << 16n) | BigInt(`0x${group}`), 0n);
}

function block(cidr: string): Block {
  const [address, prefixText] = cidr.split("/") as [string, string];
  const family = address.includes(":") ? 6 : 4;
  const hostBits = BigInt((family === 4 ? 32 : 128) - Number(prefixText));
  const base = family === 4 ? v4Value(address) : v6Value(address);
  const first = (base >> hostBits) << hostBits;
  return { family, first, last: first | ((1n << hostBits) - 1n) };
}

const inside = (b: Block, family: 4 | 6, value: bigint) => b.family === family && value >= b.first && value <= b.last;

function v4Dotted(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join(".");
}

/** URL hosts for one IPv4 address: dotted, decimal, hex, octal first part, IPv4-mapped IPv6. */
function v4Hosts(value: bigint): string[] {
  const dotted = v4Dotted(value);
  const [a, ...rest] = dotted.split(".");
  return [dotted, value.toString(), `0x${value.toString(16)}`, `0${Number(a).toString(8)}.${rest.join(".")}`];
}

/** URL hosts for one IPv6 address: compressed, expanded, upper case, and with a dotted IPv4 tail. */
function v6Hosts(value: bigint): string[] {
  const groups = Array.from({ length: 8 }, (_, i) => ((value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  let best: [number, number] = [0, 0];
  for (let i = 0; i < 8; i++) {
    let end = i;
    while (end < 8 && groups[end] === "0") end++;
    if (end - i > best[1] - best[0]) best = [i, end];
  }
  const compressed =
    best[1] - best[0] > 1
      ? `${groups.slice(0, best[0]).join(":")}::${groups.slice(best[1]).join(":")}`
      : groups.join(":");
  return [
    compressed,
    groups.map((g) => g.padStart(4, "0")).join(":"),
    groups.join(":").toUpperCase(),
    `${groups.slice(0, 6).join(":")}:${v4Dotted(value & 0xffffffffn)}`,
  ].map((host) => `[${host}]`);
}

function urlsFor(family: 4 | 6, value: bigint): string[] {
  const hosts = family === 4 ? [...v4Hosts(value), `[::ffff:${v4Dotted(value)}]`] : v6Hosts(value);
  return hosts.map((host) => `https://${host}/hook`);
}

function expectRefused(url: string, ...words: string[]) {
  const verdict = checkWebhookUrl(url, prod);
  expect(verdict, url).toMatchObject({ ok: false, reason: expect.stringContaining("non-public address") });
  for (const word of words) expect(verdict, url).toMatchObject({ reason: expect.stringContaining(word) });
}

describe("webhook URL policy: special-purpose addresses", () => {
  it("refuses the first and last address of every non-public block, in every spelling", () => {
    for (const cidr of REFUSED_BLOCKS) {
      const { family, first, last } = block(cidr);
      for (const url of [...urlsFor(family, first), ...urlsFor(family, last)]) expectRefused(url);
    }
  });

  it("refuses any address inside a non-public block, in any spelling (property, 5,000 runs)", () => {
    const arbitrary = fc
      .constantFrom(...REFUSED_BLOCKS.map(block))
      .chain((b) => fc.record({ b: fc.constant(b), value: fc.bigInt({ min: b.first, max: b.last }) }))
      .filter(({ b, value }) => !OPEN_INSIDE_REFUSED.map(block).some((open) => inside(open, b.family, value)))
      .chain(({ b, value }) => fc.constantFrom(...urlsFor(b.family, value)));
    fc.assert(
      fc.property(arbitrary, (url) => expectRefused(url)),
      { numRuns: 5_000 },
    );
  });

  it("admits every address outside those blocks (property, 5,000 runs)", () => {
    const listed = [...REFUSED_BLOCKS, ...CARRYING_IPV4].map(block);
    const arbitrary = fc
      .oneof(
        fc.record({ family: fc.constant<4 | 6>(4), value: fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }) }),
        fc.record({ family: fc.constant<4 | 6>(6), value: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }) }),
        // Global unicast, where the IPv6 special-purpose blocks cluster.
        fc.record({ family: fc.constant<4 | 6>(6), value: fc.bigInt({ min: 1n << 125n, max: (1n << 126n) - 1n }) }),
      )
      .filter(({ family, value }) => !listed.some((b) => inside(b, family, value)))
      .chain(({ family, value }) =>
        fc.constantFrom(...urlsFor(family, value).filter((url) => !url.includes("::ffff:"))),
      );
    fc.assert(
      fc.property(arbitrary, (url) => {
        expect(checkWebhookUrl(url, prod), url).toMatchObject({ ok: true });
      }),
      { numRuns: 5_000 },
    );
  });

  it("refuses 3fff::/20, 5f00::/16 and 2001:10::/28, which the hand-written classifier let through", () => {
    expectRefused("https://[3fff::1]/hook", "documentation", "3fff::/20");
    expectRefused("https://[3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff]/hook", "documentation");
    expectRefused("https://[5f00::1]/hook", "SRv6", "5f00::/16");
    expectRefused("https://[5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff]/hook", "SRv6");
    expectRefused("https://[2001:10::1]/hook", "ORCHID", "2001:10::/28");
    expectRefused("https://[2001:1f:ffff:ffff:ffff:ffff:ffff:ffff]/hook", "ORCHID");
    // Also new: the rest of 2001::/23, the dummy prefix, and the deprecated IPv4-in-IPv6 forms.
    expectRefused("https://[2001:2::1]/hook", "benchmarking");
    expectRefused("https://[2001:1::1]/hook", "IETF protocol assignment");
    expectRefused("https://[2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff]/hook", "IETF protocol assignment");
    expectRefused("https://[100:0:0:1::1]/hook", "dummy prefix");
    expectRefused("https://[::ffff:8.8.8.8]/hook", "IPv4-mapped");
    expectRefused("https://[::8.8.8.8]/hook", "IPv4-compatible");
    expectRefused("https://[::ffff:0:8.8.8.8]/hook", "IPv4-translated");
  });

  it("admits public addresses, including the globally reachable special-purpose blocks", () => {
    for (const host of [
      "1.1.1.1",
      "8.8.8.8",
      "93.184.215.14",
      "192.31.196.1", // AS112-v4, RFC 7535
      "192.52.193.1", // AMT, RFC 7450
      "192.175.48.1", // Direct Delegation AS112, RFC 7534
      "9.255.255.255",
      "11.0.0.0",
      "100.63.255.255",
      "100.128.0.0",
      "126.255.255.255",
      "128.0.0.0",
      "169.255.0.0",
      "172.15.255.255",
      "172.32.0.0",
      "192.0.1.255",
      "192.0.3.0",
      "192.88.100.0",
      "192.169.0.0",
      "198.20.0.0",
      "198.51.101.0",
      "203.0.114.0",
      "223.255.255.255",
      "[2606:4700::1]",
      "[2606:4700::1111]",
      "[2001:4860:4860::8888]",
      "[2001:3::1]", // AMT, RFC 7450
      "[2001:4:112::1]", // AS112-v6, RFC 7535
      "[2001:20::1]", // ORCHIDv2, RFC 7343
      "[2001:2f:ffff:ffff:ffff:ffff:ffff:ffff]",
      "[2001:30::1]", // DETs, RFC 9374
      "[2001:200::1]",
      "[2001:db7:ffff:ffff:ffff:ffff:ffff:ffff]",
      "[2001:db9::1]",
      "[2620:4f:8000::6]", // Direct Delegation AS112, RFC 7534
      "[3fff:1000::1]",
      "[3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff]",
      "[5f01::1]",
      "[64:ff9b::1.1.1.1]", // NAT64 of a public address
      "[2002:808:808::1]", // 6to4 of a public address
    ]) {
      const url = `https://${host}/hook`;
      expect(checkWebhookUrl(url, prod), url).toMatchObject({ ok: true });
    }
  });

  it("judges IPv4 carried in NAT64 and 6to4 addresses by that IPv4, and names both in the reason", () => {
    expectRefused("https://[64:ff9b::127.0.0.1]/hook", "loopback", "inside NAT64");
    expectRefused("https://[64:ff9b::a9fe:a9fe]/hook", "link-local", "inside NAT64");
    expectRefused("https://[64:ff9b::192.0.0.9]/hook", "IETF protocol assignment");
    expectRefused("https://[2002:7f00:1::1]/hook", "loopback", "inside 6to4");
    expectRefused("https://[2002:c058:6301::]/hook", "6to4 relay anycast", "inside 6to4");
    expectRefused("https://[2002:e000::1]/hook", "multicast", "inside 6to4");
    expectRefused("https://[::ffff:10.0.0.1]/hook", "private", "inside IPv4-mapped");
    expectRefused("https://[::ffff:0:7f00:1]/hook", "loopback", "inside IPv4-translated");
    expectRefused("https://[::10.0.0.1]/hook", "private", "inside IPv4-compatible");
  });

  it("refuses every listed address with the words and RFC of its most specific block", () => {
    expectRefused("https://0.0.0.0/hook", "'this network'", "RFC 791");
    expectRefused("https://255.255.255.255/hook", "limited broadcast");
    expectRefused("https://240.0.0.1/hook", "reserved");
    expectRefused("https://192.0.0.9/hook", "IETF protocol assignment", "192.0.0.0/24");
    expectRefused("https://192.0.0.10/hook", "IETF protocol assignment");
    expectRefused("https://192.88.99.2/hook", "6to4 relay anycast");
    expectRefused("https://[2001::1]/hook", "Teredo", "RFC 4380");
    expectRefused("https://[::]/hook", "unspecified");
    expectRefused("https://[::1]/hook", "loopback");
    expectRefused("https://[fec0::1]/hook", "site-local");
    expectRefused("https://[ff02::1]/hook", "multicast");
    expectRefused("https://[100::1]/hook", "discard-only");
    expectRefused("https://[64:ff9b:1::8.8.8.8]/hook", "local-use NAT64");
  });

  it("cites an RFC for every block of its table, each block listed once", () => {
    const blocks = NON_PUBLIC_BLOCKS.map((entry) => entry.block);
    expect(new Set(blocks).size).toBe(blocks.length);
    for (const entry of NON_PUBLIC_BLOCKS) {
      expect(entry.rfc, entry.block).toMatch(/^RFC \d+$/);
      expect(entry.what, entry.block).not.toBe("");
    }
    for (const cidr of [...REFUSED_BLOCKS, ...OPEN_INSIDE_REFUSED, ...CARRYING_IPV4]) {
      expect(blocks, cidr).toContain(cidr);
    }
  });
});

describe("webhook URL policy: everything else", () => {
  it("refuses non-https, credentials, local and bare names (trailing dots too) and port 0", () => {
    for (const [url, why] of [
      ["http://hooks.example.com/x", "must use https"],
      ["ftp://hooks.example.com/x", "must use https"],
      ["hooks.example.com/x", "not an absolute URL"],
      ["https://user:pass@hooks.example.com/x", "credentials"],
      ["https://token@hooks.example.com/x", "credentials"],
      ["https://localhost/x", "local name"],
      ["https://localhost./x", "local name"],
      ["https://foo.localhost../x", "local name"],
      ["https://metadata.google.internal/x", "local name"],
      ["https://printer.local/x", "local name"],
      ["https://router.home.arpa/x", "local name"],
      ["https://intranet/x", "not a public domain name"],
      ["https://example.com:0/x", "port 0"],
      [`https://hooks.example.com/${"a".repeat(2100)}`, "2048"],
    ] as const) {
      expect(checkWebhookUrl(url, prod), url).toMatchObject({ ok: false, reason: expect.stringContaining(why) });
    }
  });

  it("with the local-development flag admits http(s) to 127.0.0.1 and localhost only", () => {
    for (const url of ["http://127.0.0.1:8787/x", "https://127.0.0.1/x", "http://localhost:8787/x"]) {
      expect(checkWebhookUrl(url, dev), url).toMatchObject({ ok: true });
      expect(checkWebhookUrl(url, prod), url).toMatchObject({ ok: false });
    }
    for (const url of ["http://[::1]:8787/x", "http://127.0.0.2/x", "https://127.0.0.2/x", "http://10.0.0.1/x"]) {
      expect(checkWebhookUrl(url, dev), url).toMatchObject({ ok: false });
    }
  });

  it("answers the URL as WHATWG serialises it", () => {
    expect(checkWebhookUrl("https://Hooks.Example.com:443/a?b=1", prod)).toEqual({
      ok: true,
      url: "https://hooks.example.com/a?b=1",
    });
  });
});
