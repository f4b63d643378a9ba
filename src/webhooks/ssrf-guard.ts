import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Targets a webhook may not reach (unless WEBHOOK_ALLOW_PRIVATE): this host, private networks, link-
 * local addresses (the cloud metadata service at 169.254.169.254 among them), carrier-grade NAT,
 * multicast and reserved ranges, for IPv4, IPv6 and IPv4 mapped into IPv6.
 */
const BLOCKED = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  BLOCKED.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  BLOCKED.addSubnet(net, bits, 'ipv6');

/**
 * Whether an IP address (v4 or v6) is one a webhook may not reach. (IPv4-mapped and NAT64 ranges are
 * not rules of the list: node's BlockList would match every IPv4 address against them.)
 */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 6) {
    // IPv4 mapped into IPv6 (::ffff:a.b.c.d) is the IPv4 address
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return BLOCKED.check(mapped[1], 'ipv4');
    if (/^::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/i.test(address) || /^64:ff9b::/i.test(address)) return true;
    return BLOCKED.check(address, 'ipv6');
  }
  return BLOCKED.check(address, 'ipv4');
}

export class BlockedTargetError extends Error {
  constructor(readonly address: string) {
    super(`the target address ${address} is private, loopback, link-local or reserved`);
  }
}

/** Every address a host name resolves to now (or the literal itself). */
export function resolveAll(host: string): Promise<string[]> {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(bare) !== 0) return Promise.resolve([bare]);
  return new Promise((resolve, reject) => {
    dnsLookup(bare, { all: true, verbatim: true }, (err, addresses: LookupAddress[]) => {
      if (err) reject(err);
      else resolve(addresses.map((a) => a.address));
    });
  });
}

/**
 * A `lookup` for the HTTP agent that refuses blocked addresses when the connection is made: the name
 * is resolved again at connect time, so a DNS answer that changed since the endpoint was registered
 * (DNS rebinding) cannot slip through.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, verbatim: true }, (err, address, family) => {
    if (err) return callback(err, address, family);
    const list: LookupAddress[] = Array.isArray(address)
      ? address
      : [{ address: address, family: family ?? 4 }];
    const blocked = list.find((a) => isBlockedAddress(a.address));
    if (blocked) return callback(new BlockedTargetError(blocked.address), '', 4);
    if (Array.isArray(address))
      return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
    return callback(null, address, family);
  });
};
