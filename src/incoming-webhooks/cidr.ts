/** IPv4 and IPv6 addresses and CIDR ranges for incoming-webhook allowlists. */

import ipaddr from "ipaddr.js";
import { type IpAddress, parseIpAddress } from "../core/ip-address";

export interface Cidr {
  address: IpAddress;
  prefix: number;
}

/** A client address, or null. IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes IPv4, so IPv4 ranges match it. */
export function parseIp(text: string): IpAddress | null {
  const address = parseIpAddress(text);
  if (address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress()) return address.toIPv4Address();
  return address;
}

/** `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a single host). Host bits may be set: `10.1.2.3/20`. */
export function parseCidr(text: string): Cidr | null {
  const [addressText, prefixText, extra] = text.trim().split("/");
  if (extra !== undefined || !addressText) return null;
  const address = parseIpAddress(addressText);
  if (!address) return null;
  const bits = address.kind() === "ipv4" ? 32 : 128;
  if (prefixText === undefined) return { address, prefix: bits };
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  return prefix > bits ? null : { address, prefix };
}

export function cidrContains(cidr: Cidr, address: IpAddress): boolean {
  return address.kind() === cidr.address.kind() && address.match(cidr.address, cidr.prefix);
}

/** True when `ip` falls in any of the ranges; an empty allowlist admits every address. */
export function ipAllowed(ip: string, allowlist: readonly string[]): boolean {
  if (allowlist.length === 0) return true;
  const address = parseIp(ip);
  if (!address) return false;
  return allowlist.some((entry) => {
    const cidr = parseCidr(entry);
    return cidr !== null && cidrContains(cidr, address);
  });
}
