/**
 * Which URLs a webhook may target. Deliveries are server-side requests chosen by a
 * customer, so anything that could reach the platform's own network is refused:
 * non-HTTPS schemes, credentials in the URL, and loopback, private, link-local,
 * unique-local, carrier-grade NAT, metadata and other non-public address literals
 * and names. Hostnames are not resolved here (Workers have no resolver); Cloudflare's
 * edge does not route Worker subrequests into private networks, and deliveries never
 * follow redirects, so a public name cannot be bounced to an internal address.
 */

export const MAX_WEBHOOK_URL_LENGTH = 2048;

export interface UrlPolicy {
  /** Local development only: admits http(s)://127.0.0.1 and http(s)://localhost. */
  allowLocalhost: boolean;
}

export type UrlVerdict = { ok: true; url: string } | { ok: false; reason: string };

/** Names that never point at the public internet. */
const BLOCKED_NAME_SUFFIXES = [".localhost", ".internal", ".local", ".home.arpa"];
const LOCAL_DEV_HOSTS = new Set(["127.0.0.1", "localhost"]);

export function checkWebhookUrl(raw: string, policy: UrlPolicy): UrlVerdict {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) {
    return refuse(`URL is longer than ${MAX_WEBHOOK_URL_LENGTH} characters`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse("URL is not an absolute URL");
  }
  if (url.username !== "" || url.password !== "") {
    return refuse("URL must not carry credentials (user:password@); authenticate with the signature instead");
  }
  // WHATWG parsing already normalised the host: decimal/hex/octal IPv4 forms become
  // dotted quads, IPv6 is compressed and bracketed, names are lower-cased punycode.
  const host = url.hostname.replace(/\.+$/, "");
  const localDev = policy.allowLocalhost && LOCAL_DEV_HOSTS.has(host);

  if (url.protocol !== "https:" && !(localDev && url.protocol === "http:")) {
    return refuse(
      policy.allowLocalhost
        ? "URL must use https (http is allowed only for 127.0.0.1 and localhost in local development)"
        : "URL must use https",
    );
  }
  if (localDev) return { ok: true, url: url.href };
  if (url.port === "0") return refuse("URL port 0 is not a port a server listens on");

  if (host === "") return refuse("URL has no host");
  if (host === "localhost" || BLOCKED_NAME_SUFFIXES.some((suffix) => host.endsWith(suffix))) {
    return refuse(`URL host '${host}' is a local name, not reachable from the internet`);
  }
  if (host.startsWith("[")) {
    const why = blockedIpv6(host.slice(1, -1));
    if (why) return refuse(`URL points at a ${why} address`);
  } else if (/^[0-9.]+$/.test(host)) {
    const why = blockedIpv4(host);
    if (why) return refuse(`URL points at a ${why} address`);
  } else if (!host.includes(".")) {
    // A bare name only resolves on a local network (search domains, /etc/hosts).
    return refuse(`URL host '${host}' is not a public domain name`);
  }
  return { ok: true, url: url.href };
}

function refuse(reason: string): UrlVerdict {
  return { ok: false, reason };
}

/** [first address as 32-bit number, prefix length, what it is] */
const IPV4_BLOCKS: [string, number, string][] = [
  ["0.0.0.0", 8, "'this network'"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "carrier-grade NAT"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local (cloud metadata)"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "IETF protocol"],
  ["192.0.2.0", 24, "documentation"],
  ["192.88.99.0", 24, "6to4 relay"],
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "benchmarking"],
  ["198.51.100.0", 24, "documentation"],
  ["203.0.113.0", 24, "documentation"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"],
];

function ipv4ToNumber(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    const n = Number(part);
    if (part === "" || !Number.isInteger(n) || n < 0 || n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

/** Why an IPv4 address is refused, or undefined when it is public. */
export function blockedIpv4(ip: string): string | undefined {
  const value = ipv4ToNumber(ip);
  if (value === undefined) return "malformed IPv4";
  for (const [base, prefix, what] of IPV4_BLOCKS) {
    const size = 2 ** (32 - prefix);
    const start = ipv4ToNumber(base)!;
    if (value >= start && value < start + size) return what;
  }
  return undefined;
}

/** The 8 groups of an IPv6 address (with an embedded dotted IPv4 tail expanded). */
function ipv6Groups(ip: string): number[] | undefined {
  let text = ip.toLowerCase();
  const dotted = text.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) {
    const v4 = ipv4ToNumber(dotted[2]!);
    if (v4 === undefined) return undefined;
    text = `${dotted[1]}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (s: string) =>
    s === "" ? [] : s.split(":").map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...new Array(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return groups.some(Number.isNaN) ? undefined : groups;
}

/** Why an IPv6 address is refused, or undefined when it is public. */
export function blockedIpv6(ip: string): string | undefined {
  const g = ipv6Groups(ip);
  if (!g) return "malformed IPv6";
  const [a, b] = [g[0]!, g[1]!];
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  const embeddedV4 = () => `${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`;

  if (zeros(0, 8)) return "unspecified";
  if (zeros(0, 7) && g[7] === 1) return "loopback";
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::/96)
  // addresses reach the IPv4 address inside them: judge that one.
  // So do IPv4-translated (::ffff:0:a.b.c.d) addresses.
  if (
    (zeros(0, 5) && g[5] === 0xffff) ||
    zeros(0, 6) ||
    (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) ||
    (a === 0x64 && b === 0xff9b && zeros(2, 6))
  ) {
    const why = blockedIpv4(embeddedV4());
    return why ? `${why} (IPv4 inside IPv6)` : undefined;
  }
  // 6to4 (2002:V4HI:V4LO::/48) also tunnels to the IPv4 address it carries.
  if (a === 0x2002) {
    const why = blockedIpv4(`${b >> 8}.${b & 255}.${g[2]! >> 8}.${g[2]! & 255}`);
    if (why) return `${why} (IPv4 inside 6to4)`;
  }
  // Local-use NAT64 (64:ff9b:1::/48) translates into whatever network the operator chose.
  if (a === 0x64 && b === 0xff9b && g[2] === 1) return "local-use NAT64";
  // Teredo (2001:0::/32) tunnels to an address we cannot see.
  if (a === 0x2001 && b === 0) return "Teredo tunnel";
  if ((a & 0xfe00) === 0xfc00) return "unique-local (private)";
  if ((a & 0xffc0) === 0xfe80) return "link-local";
  if ((a & 0xffc0) === 0xfec0) return "site-local (private)";
  if ((a & 0xff00) === 0xff00) return "multicast";
  if (a === 0x2001 && b === 0x0db8) return "documentation";
  if (a === 0x0100 && zeros(1, 4)) return "discard-only";
  return undefined;
}
