import { describe, expect, it } from 'vitest';
import { redactOutput, redactSecrets, secretForms } from './index.js';

describe('redaction of the credentials an executor sent', () => {
  it('lists the raw, URL-encoded, form-encoded and JSON-escaped forms once each', () => {
    expect(secretForms('a b"c')).toEqual(['a b"c', 'a%20b%22c', 'a+b%22c', 'a b\\"c']);
    expect(secretForms('a/b')).toEqual(['a/b', 'a%2Fb', 'a\\/b']);
    expect(secretForms('')).toEqual([]);
  });

  it('replaces the longest secret first, so one containing another goes whole', () => {
    expect(redactSecrets('key=abc123 and abc', ['abc', 'abc123'])).toBe(
      'key=[redacted] and [redacted]',
    );
  });

  it('scrubs every string of an output, keys and nested values, and leaves the rest', () => {
    const output = {
      echo: { authorization: 'Bearer tok-1', url: '/x?key=tok-1' },
      list: ['tok-1', 7, true, null, { 'tok-1': 'value' }],
      count: 3,
    };
    expect(redactOutput(output, secretForms('tok-1'))).toEqual({
      echo: { authorization: 'Bearer [redacted]', url: '/x?key=[redacted]' },
      list: ['[redacted]', 7, true, null, { '[redacted]': 'value' }],
      count: 3,
    });
    expect(output.echo.authorization).toBe('Bearer tok-1');
    expect(redactOutput('plain tok-1', ['tok-1'])).toBe('plain [redacted]');
    expect(redactOutput(output, [])).toBe(output);
  });
});
