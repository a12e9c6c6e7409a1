import { describe, expect, it } from 'vitest';
import {
  EXCERPT_CHARS,
  isJsonContentType,
  retryAfterMs,
  safeExcerpt,
  secretForms,
} from './response-text.js';

describe('safeExcerpt', () => {
  it('redacts every form of a credential, strips control characters, collapses spacing', () => {
    const secrets = secretForms('s3cr3t/t0k+n');
    const body = `{"error":"bad token",\n\t"echo":"Bearer s3cr3t\\/t0k+n",\u0007 "url":"/x?k=s3cr3t%2Ft0k%2Bn","form":"k=s3cr3t%2Ft0k%2Bn","raw":"s3cr3t/t0k+n"}`;
    const excerpt = safeExcerpt(body, secrets);
    expect(excerpt).toBe(
      '{"error":"bad token", "echo":"Bearer [redacted]", "url":"/x?k=[redacted]","form":"k=[redacted]","raw":"[redacted]"}',
    );
    expect(excerpt).not.toMatch(/s3cr3t/);
  });

  it('joins a credential split by control characters before redacting it', () => {
    expect(safeExcerpt('token=abc\u0000def', ['abcdef'])).toBe('token=[redacted]');
  });

  it('keeps at most 300 characters, and drops what may be half a credential at a cut', () => {
    const long = 'x'.repeat(1000);
    const excerpt = safeExcerpt(long, []);
    expect(excerpt).toHaveLength(EXCERPT_CHARS);
    expect(excerpt.endsWith('…')).toBe(true);
    // The body was cut in the middle of the secret "topsecret": "tops" must not show.
    expect(safeExcerpt('denied for tops', ['topsecret'], true)).toBe('denied');
    expect(safeExcerpt('denied for tops', ['topsecret'], false)).toBe('denied for tops');
  });
});

describe('secretForms', () => {
  it('lists the raw, URL-encoded, form-encoded and JSON-escaped forms once each', () => {
    expect(secretForms('a b"c')).toEqual(['a b"c', 'a%20b%22c', 'a+b%22c', 'a b\\"c']);
    expect(secretForms('plain')).toEqual(['plain']);
    expect(secretForms('')).toEqual([]);
  });
});

describe('retryAfterMs', () => {
  it('reads delay-seconds and HTTP dates', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterMs('2', now)).toBe(2000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs('Wed, 01 Jan 2025 00:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});

describe('isJsonContentType', () => {
  it('accepts application/json and +json types, whatever the parameters', () => {
    expect(isJsonContentType('application/json; charset=utf-8')).toBe(true);
    expect(isJsonContentType('application/problem+json')).toBe(true);
    expect(isJsonContentType('application/vnd.acme.v2+json;q=1')).toBe(true);
    expect(isJsonContentType('text/plain')).toBe(false);
    expect(isJsonContentType('application/jsonp')).toBe(false);
    expect(isJsonContentType(null)).toBe(false);
  });
});
