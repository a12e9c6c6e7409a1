import { describe, expect, it } from 'vitest';
import type { ToolVersionRecord } from '@toolbus/contracts';
import { quotedString } from './http.js';
import { deprecationHeaders } from './tools.controller.js';

describe('the Warning header of a deprecated version', () => {
  it('is an ASCII quoted-string whatever the reason holds', () => {
    expect(quotedString('plain reason')).toBe('"plain reason"');
    expect(quotedString('naïve → ☃ 🚀')).toBe('"na?ve ? ? ?"');
    expect(quotedString('line one\r\nX-Injected: 1\tend')).toBe('"line one X-Injected: 1 end"');
    expect(quotedString('say "no" to C:\\temp')).toBe('"say \\"no\\" to C:\\\\temp"');
    const long = quotedString('x'.repeat(2000));
    expect(long).toHaveLength(514);
    expect(long.endsWith('..."')).toBe(true);
  });

  it('is a value Node accepts as a header, with the reason whole only in the body', () => {
    const record = {
      name: 'get_limit',
      version: '1.2.0',
      status: 'deprecated',
      statusReason: 'remplacé par 2.0 — voir\nhttps://wiki/ticket',
    } as ToolVersionRecord;
    const headers = deprecationHeaders(record);
    expect(headers).toEqual({
      deprecation: 'true',
      warning:
        '299 toolbus-registry "get_limit@1.2.0 is deprecated: remplac? par 2.0 ? voir https://wiki/ticket"',
    });
    // What made every read answer 500: Node refuses such a header value.
    expect(() => new Headers({ warning: headers.warning! })).not.toThrow();
    for (const value of Object.values(headers)) expect(value).toMatch(/^[\x20-\x7e]*$/);
  });
});
