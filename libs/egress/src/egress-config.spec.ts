import { loadConfig } from '@toolbus/service-kit';
import { describe, expect, it } from 'vitest';
import { egressConfig } from './index.js';

describe('EGRESS_ALLOW', () => {
  it('is empty by default: every internal address is refused', () => {
    expect(loadConfig(egressConfig, {}).EGRESS_ALLOW).toEqual([]);
  });

  it('reads comma-separated CIDR blocks, IPv4 and IPv6', () => {
    const allow = loadConfig(egressConfig, {
      EGRESS_ALLOW: '127.0.0.1/32, ::1/128,10.0.0.0/8',
    }).EGRESS_ALLOW;
    expect(allow.map((c) => c.text)).toEqual(['127.0.0.1/32', '::1/128', '10.0.0.0/8']);
  });

  it('names the entry that is not a CIDR block', () => {
    expect(() => loadConfig(egressConfig, { EGRESS_ALLOW: '127.0.0.1/32,localhost' })).toThrow(
      'EGRESS_ALLOW: invalid value "127.0.0.1/32,localhost": "localhost" is not a CIDR block',
    );
  });
});
