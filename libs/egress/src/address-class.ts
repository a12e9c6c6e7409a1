import { isIPv4, isIPv6 } from 'node:net';

/**
 * Why an address is inside rather than on the internet. `cgnat` is the shared address space
 * of RFC 6598 (100.64.0.0/10), which cloud providers also use for internal endpoints;
 * `reserved` covers the blocks no public host has (240/4, 192.0.0.0/24, 198.18/15, the
 * deprecated IPv4-compatible IPv6 form...).
 */
export type AddressClass =
  | 'loopback'
  | 'link-local'
  | 'private'
  | 'unique-local'
  | 'site-local'
  | 'unspecified'
  | 'cgnat'
  | 'multicast'
  | 'broadcast'
  | 'reserved';

/** An address as 16 bytes: IPv4 in its IPv4-mapped IPv6 form (`::ffff:a.b.c.d`). */
type Bytes = Uint8Array;

/** A parsed CIDR block: an address and how many leading bits of it count. */
export interface Cidr {
  /** As written, for messages. */
  readonly text: string;
  readonly bytes: Bytes;
  /** Prefix length over the 128 bits (an IPv4 /24 is 96 + 24). */
  readonly bits: number;
}

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function v4Bytes(address: string): Bytes {
  const out = new Uint8Array(16);
  out.set(MAPPED_PREFIX);
  address.split('.').forEach((part, i) => (out[12 + i] = Number(part)));
  return out;
}

function v6Bytes(address: string): Bytes {
  let text = address;
  const out = new Uint8Array(16);
  // A trailing dotted quad (`::ffff:127.0.0.1`) is the last two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let tail: number[] = [];
  if (dotted) {
    const v4 = v4Bytes(dotted[1]!).subarray(12);
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    text = text.slice(0, -dotted[1]!.length) + '0:0';
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const front = groups(head);
  const back = rest === undefined ? [] : groups(rest);
  const all = [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  if (tail.length) all.splice(6, 2, ...tail);
  all.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

/** The 16 bytes of an IPv4 or IPv6 address (a zone, `%eth0`, ignored), or undefined. */
export function addressBytes(address: string): Bytes | undefined {
  const bare = address.replace(/%.*$/, '');
  if (isIPv4(bare)) return v4Bytes(bare);
  if (isIPv6(bare)) return v6Bytes(bare);
  return undefined;
}

function matches(bytes: Bytes, prefix: Bytes, bits: number): boolean {
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((bytes[i]! & mask) !== (prefix[i]! & mask)) return false;
  }
  return true;
}

/**
 * Parses `address/prefix` (IPv4 or IPv6; a bare address is a single host). Throws an Error
 * naming the text when it is not one.
 */
export function parseCidr(text: string): Cidr {
  const [address = '', prefix, extra] = text.trim().split('/');
  const bytes = addressBytes(address);
  const v4 = isIPv4(address);
  const max = v4 ? 32 : 128;
  const length = prefix === undefined ? max : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
  if (!bytes || extra !== undefined || !(length >= 0 && length <= max) || address.includes('%'))
    throw new Error(`"${text}" is not a CIDR block (address/prefix, e.g. 127.0.0.1/32 or ::1/128)`);
  return { text: text.trim(), bytes, bits: v4 ? 96 + length : length };
}

/** Whether `address` lies in `cidr`. IPv4 and its IPv4-mapped IPv6 form are the same address. */
export function inCidr(address: string, cidr: Cidr): boolean {
  const bytes = addressBytes(address);
  return bytes !== undefined && matches(bytes, cidr.bytes, cidr.bits);
}

const V4_BLOCKS: ReadonlyArray<[string, AddressClass]> = [
  ['255.255.255.255/32', 'broadcast'],
  // "This network": 0.0.0.0 itself reaches the local host on Linux.
  ['0.0.0.0/8', 'unspecified'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['10.0.0.0/8', 'private'],
  ['172.16.0.0/12', 'private'],
  ['192.168.0.0/16', 'private'],
  ['100.64.0.0/10', 'cgnat'],
  ['192.0.0.0/24', 'reserved'],
  ['198.18.0.0/15', 'reserved'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
];
const V6_BLOCKS: ReadonlyArray<[string, AddressClass]> = [
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local'],
  ['fc00::/7', 'unique-local'],
  ['ff00::/8', 'multicast'],
  ['100::/64', 'reserved'],
];
const v4Blocks = V4_BLOCKS.map(([c, k]) => [parseCidr(c), k] as const);
const v6Blocks = V6_BLOCKS.map(([c, k]) => [parseCidr(c), k] as const);
const MAPPED = parseCidr('::ffff:0:0/96');
const COMPATIBLE = parseCidr('::/96');
const NAT64 = parseCidr('64:ff9b::/96');
const SIX_TO_FOUR = parseCidr('2002::/16');

function v4Class(v4: Bytes): AddressClass | undefined {
  const mapped = new Uint8Array(16);
  mapped.set(MAPPED_PREFIX);
  mapped.set(v4, 12);
  return v4Blocks.find(([cidr]) => matches(mapped, cidr.bytes, cidr.bits))?.[1];
}

/**
 * Why `address` is not on the internet, or undefined when it is a public address. IPv6 forms
 * that carry an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4
 * `2002::/16`) are judged by the IPv4 address they reach. Throws when `address` is not an IP
 * address.
 */
export function addressClass(address: string): AddressClass | undefined {
  const bytes = addressBytes(address);
  if (!bytes) throw new Error(`"${address}" is not an IP address`);
  const within = (cidr: Cidr) => matches(bytes, cidr.bytes, cidr.bits);
  if (within(MAPPED)) return v4Class(bytes.subarray(12));
  const v6 = v6Blocks.find(([cidr]) => within(cidr))?.[1];
  if (v6) return v6;
  // ::a.b.c.d, deprecated since 2006: nothing public is reached that way.
  if (within(COMPATIBLE)) return 'reserved';
  if (within(NAT64)) return v4Class(bytes.subarray(12));
  if (within(SIX_TO_FOUR)) return v4Class(bytes.subarray(2, 6));
  return undefined;
}
