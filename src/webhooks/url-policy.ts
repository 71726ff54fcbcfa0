/**
 * Which URLs a webhook may target. Deliveries are server-side requests chosen by a
 * customer, so anything that could reach the platform's own network is refused:
 * non-HTTPS schemes, credentials in the URL, local names, and every address literal
 * in a block of the IANA special-purpose registries that is not globally reachable
 * (NON_PUBLIC_BLOCKS below). Hostnames are not resolved here (Workers have no resolver);
 * Cloudflare's edge does not route Worker subrequests into private networks, and
 * deliveries never follow redirects, so a public name cannot be bounced to an internal address.
 */

import ipaddr from "ipaddr.js";
import { type IpAddress, parseIpAddress } from "../core/ip-address";

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
  if (host.startsWith("[") || /^[0-9.]+$/.test(host)) {
    const address = parseIpAddress(host.startsWith("[") ? host.slice(1, -1) : host);
    const why = address ? nonPublicReason(address) : "malformed address";
    if (why) return refuse(`URL points at a non-public address: ${why}`);
  } else if (!host.includes(".")) {
    // A bare name only resolves on a local network (search domains, /etc/hosts).
    return refuse(`URL host '${host}' is not a public domain name`);
  }
  return { ok: true, url: url.href };
}

function refuse(reason: string): UrlVerdict {
  return { ok: false, reason };
}

interface AddressBlock {
  block: string;
  /** Words for the refusal; the RFC is the registry row's own reference. */
  what: string;
  rfc: string;
  /** False for a globally reachable block carved out of a refused one: the most specific block decides. */
  refused: boolean;
  /** Bit offset of an IPv4 address carried inside this IPv6 block; a refused one refuses the whole address. */
  ipv4At?: number;
}

/**
 * Every block of the IANA IPv4 and IPv6 Special-Purpose Address Registries whose
 * Globally Reachable is False or N/A (iana-ipv4-special-registry, iana-ipv6-special-registry,
 * as of 2025-10), plus multicast and the deprecated forms that were never in them.
 * Sub-blocks with the same verdict as their parent are named in its comment, not listed.
 */
export const NON_PUBLIC_BLOCKS: readonly AddressBlock[] = [
  // IPv4 Special-Purpose registry.
  { block: "0.0.0.0/8", what: "'this network'", rfc: "RFC 791", refused: true }, // and 0.0.0.0/32, RFC 1122
  { block: "10.0.0.0/8", what: "private", rfc: "RFC 1918", refused: true },
  { block: "100.64.0.0/10", what: "carrier-grade NAT", rfc: "RFC 6598", refused: true },
  { block: "127.0.0.0/8", what: "loopback", rfc: "RFC 1122", refused: true },
  { block: "169.254.0.0/16", what: "link-local (cloud metadata)", rfc: "RFC 3927", refused: true },
  { block: "172.16.0.0/12", what: "private", rfc: "RFC 1918", refused: true },
  // Also 192.0.0.0/29 (DS-Lite), 192.0.0.8/32 (dummy), 192.0.0.170-171 (NAT64 discovery); refused
  // whole, including the globally reachable PCP and TURN anycasts 192.0.0.9 and 192.0.0.10, which
  // the nearest operator answers (our own network), never a customer's server.
  { block: "192.0.0.0/24", what: "IETF protocol assignment", rfc: "RFC 6890", refused: true },
  { block: "192.0.2.0/24", what: "documentation (TEST-NET-1)", rfc: "RFC 5737", refused: true },
  // Deprecated 6to4 relay anycast; includes 192.88.99.2/32, the 6a44 relay (RFC 6751).
  { block: "192.88.99.0/24", what: "6to4 relay anycast", rfc: "RFC 7526", refused: true },
  { block: "192.168.0.0/16", what: "private", rfc: "RFC 1918", refused: true },
  { block: "198.18.0.0/15", what: "benchmarking", rfc: "RFC 2544", refused: true },
  { block: "198.51.100.0/24", what: "documentation (TEST-NET-2)", rfc: "RFC 5737", refused: true },
  { block: "203.0.113.0/24", what: "documentation (TEST-NET-3)", rfc: "RFC 5737", refused: true },
  { block: "240.0.0.0/4", what: "reserved", rfc: "RFC 1112", refused: true },
  { block: "255.255.255.255/32", what: "limited broadcast", rfc: "RFC 919", refused: true },
  // IPv4 Multicast Address Space registry.
  { block: "224.0.0.0/4", what: "multicast", rfc: "RFC 5771", refused: true },

  // IPv6 Special-Purpose registry.
  { block: "::/128", what: "unspecified", rfc: "RFC 4291", refused: true },
  { block: "::1/128", what: "loopback", rfc: "RFC 4291", refused: true },
  { block: "::ffff:0:0/96", what: "IPv4-mapped", rfc: "RFC 4291", refused: true, ipv4At: 96 },
  // Globally reachable, but only for the IPv4 address it carries (RFC 6052 §3.1).
  { block: "64:ff9b::/96", what: "NAT64", rfc: "RFC 6052", refused: false, ipv4At: 96 },
  { block: "64:ff9b:1::/48", what: "local-use NAT64", rfc: "RFC 8215", refused: true },
  { block: "100::/64", what: "discard-only", rfc: "RFC 6666", refused: true },
  { block: "100:0:0:1::/64", what: "dummy prefix", rfc: "RFC 9780", refused: true },
  // Refused whole but for the globally reachable blocks below; the PCP, TURN and DNS-SD SRP
  // anycasts 2001:1::1, ::2 and ::3 stay refused, like their IPv4 counterparts in 192.0.0.0/24.
  { block: "2001::/23", what: "IETF protocol assignment", rfc: "RFC 2928", refused: true },
  { block: "2001::/32", what: "Teredo tunnel", rfc: "RFC 4380", refused: true },
  { block: "2001:2::/48", what: "benchmarking", rfc: "RFC 5180", refused: true },
  { block: "2001:3::/32", what: "AMT", rfc: "RFC 7450", refused: false },
  { block: "2001:4:112::/48", what: "AS112-v6", rfc: "RFC 7535", refused: false },
  { block: "2001:10::/28", what: "deprecated ORCHID", rfc: "RFC 4843", refused: true },
  { block: "2001:20::/28", what: "ORCHIDv2", rfc: "RFC 7343", refused: false },
  { block: "2001:30::/28", what: "drone remote ID tags", rfc: "RFC 9374", refused: false },
  { block: "2001:db8::/32", what: "documentation", rfc: "RFC 3849", refused: true },
  // Globally Reachable N/A: judged by the IPv4 address it tunnels to.
  { block: "2002::/16", what: "6to4", rfc: "RFC 3056", refused: false, ipv4At: 16 },
  { block: "3fff::/20", what: "documentation", rfc: "RFC 9637", refused: true },
  { block: "5f00::/16", what: "SRv6 segment identifier", rfc: "RFC 9602", refused: true },
  { block: "fc00::/7", what: "unique-local (private)", rfc: "RFC 4193", refused: true },
  { block: "fe80::/10", what: "link-local", rfc: "RFC 4291", refused: true },
  // Not in the registry: multicast, and deprecated forms a stack may still honour.
  { block: "ff00::/8", what: "multicast", rfc: "RFC 4291", refused: true },
  { block: "fec0::/10", what: "site-local (private)", rfc: "RFC 3879", refused: true },
  { block: "::/96", what: "IPv4-compatible", rfc: "RFC 4291", refused: true, ipv4At: 96 },
  { block: "::ffff:0:0:0/96", what: "IPv4-translated", rfc: "RFC 2765", refused: true, ipv4At: 96 },
];

const RANGES = NON_PUBLIC_BLOCKS.map((entry) => ({ entry, range: ipaddr.parseCIDR(entry.block) }));

/** Why an address is refused, or undefined when it is public; the most specific block decides. */
export function nonPublicReason(address: IpAddress): string | undefined {
  let found: (typeof RANGES)[number] | undefined;
  for (const candidate of RANGES) {
    const [base, prefix] = candidate.range;
    if (base.kind() !== address.kind() || !address.match(base, prefix)) continue;
    if (!found || prefix > found.range[1]) found = candidate;
  }
  if (!found) return undefined;
  const { block, what, rfc, refused, ipv4At } = found.entry;
  const named = `${what} (${block}, ${rfc})`;
  if (ipv4At !== undefined) {
    const start = ipv4At / 8;
    const inner = nonPublicReason(new ipaddr.IPv4(address.toByteArray().slice(start, start + 4)));
    if (inner) return `${inner} inside ${named}`;
  }
  return refused ? named : undefined;
}
