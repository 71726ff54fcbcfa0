/** Address literals, parsed strictly by ipaddr.js for the allowlists and the webhook URL policy. */

import ipaddr from "ipaddr.js";

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

/** The dotted-quad tail of an IPv6 address with an embedded IPv4 address (RFC 4291 §2.2, form 3). */
const DOTTED_TAIL = /:([^:]*\.[^:]*)$/;

/**
 * An IPv4 address as four decimal parts, or an IPv6 address in RFC 4291 §2.2 text, or null.
 * ipaddr.js's own parse is more lenient than an allowlist should be: it reads 127.1, 0x7f.0.0.1
 * and 010.0.0.1 (octal) as IPv4, accepts the same inside an IPv6 tail, and zone ids (%eth0).
 */
export function parseIpAddress(text: string): IpAddress | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (!text.includes(":") || text.includes("%")) return null;
  const tail = DOTTED_TAIL.exec(text)?.[1];
  if (tail !== undefined && !ipaddr.IPv4.isValidFourPartDecimal(tail)) return null;
  if (tail !== undefined && text === `::${tail}`) {
    // IPv4-compatible (RFC 4291 §2.5.5.1); ipaddr.js would read ::a.b.c.d as ::ffff:a.b.c.d.
    const [a, b, c, d] = ipaddr.IPv4.parse(tail).octets as [number, number, number, number];
    return new ipaddr.IPv6([0, 0, 0, 0, 0, 0, (a << 8) | b, (c << 8) | d]);
  }
  try {
    return ipaddr.IPv6.parse(text);
  } catch {
    return null;
  }
}
