import { describe, expect, it } from 'vitest';
import { addressClass, inCidr, parseCidr, type AddressClass } from './index.js';

describe('addressClass', () => {
  const table: Array<[string, AddressClass | undefined]> = [
    // IPv4 inside
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['169.254.0.1', 'link-local'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.255', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['198.18.0.1', 'reserved'],
    // IPv4 outside, next to the blocks above
    ['8.8.8.8', undefined],
    ['93.184.216.34', undefined],
    ['172.15.255.255', undefined],
    ['172.32.0.0', undefined],
    ['100.63.255.255', undefined],
    ['100.128.0.0', undefined],
    ['169.253.255.255', undefined],
    ['11.0.0.0', undefined],
    ['192.169.0.0', undefined],
    ['223.255.255.255', undefined],
    // IPv6 inside
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456:789a::1', 'unique-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['100::1', 'reserved'],
    ['::7f00:1', 'reserved'],
    // IPv6 outside
    ['2001:4860:4860::8888', undefined],
    ['2606:4700::1111', undefined],
    ['fe00::1', undefined],
    // IPv4 in IPv6: mapped, NAT64, 6to4 are judged by the IPv4 address they carry
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['::ffff:100.64.0.1', 'cgnat'],
    ['0:0:0:0:0:ffff:192.168.0.1', 'private'],
    ['::ffff:8.8.8.8', undefined],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::808:808', undefined],
    ['2002:7f00:1::1', 'loopback'],
    ['2002:a00:1::', 'private'],
    ['2002:808:808::1', undefined],
  ];
  it.each(table)('%s → %s', (address, expected) => {
    expect(addressClass(address)).toBe(expected);
  });

  it('refuses what is not an IP address, naming it', () => {
    expect(() => addressClass('localhost')).toThrow('"localhost" is not an IP address');
    expect(() => addressClass('256.0.0.1')).toThrow('"256.0.0.1" is not an IP address');
  });
});

describe('parseCidr and inCidr', () => {
  it.each([
    ['127.0.0.1/32', '127.0.0.1', true],
    ['127.0.0.1/32', '127.0.0.2', false],
    ['127.0.0.1/32', '::ffff:127.0.0.1', true],
    ['127.0.0.0/8', '127.9.9.9', true],
    ['10.1.0.0/16', '10.1.200.3', true],
    ['10.1.0.0/16', '10.2.0.1', false],
    ['172.16.0.0/12', '172.31.1.1', true],
    ['0.0.0.0/0', '8.8.8.8', true],
    ['::1/128', '::1', true],
    ['::1/128', '127.0.0.1', false],
    ['fd00::/8', 'fd12::1', true],
    ['fd00::/8', 'fc00::1', false],
    ['::ffff:10.0.0.0/104', '10.9.9.9', true],
    ['10.0.0.5', '10.0.0.5', true],
    ['10.0.0.5', '10.0.0.6', false],
  ])('%s contains %s: %s', (cidr, address, expected) => {
    expect(inCidr(address, parseCidr(cidr))).toBe(expected);
  });

  it.each([
    '10.0.0.0/33',
    '::/129',
    'localhost/8',
    '10.0.0.0/8/1',
    '10.0.0.0/x',
    'fe80::1%eth0/64',
    '',
  ])('refuses %j, naming it', (text) => {
    expect(() => parseCidr(text)).toThrow(
      `"${text}" is not a CIDR block (address/prefix, e.g. 127.0.0.1/32 or ::1/128)`,
    );
  });
});
