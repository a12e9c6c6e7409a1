import { describe, expect, it } from 'vitest';
import { canonicalJson } from './index.js';

describe('canonicalJson', () => {
  it.each([
    [{ b: 1, a: [true, null, 'x'] }, '{"a":[true,null,"x"],"b":1}'],
    [{ z: { y: 1, x: 2 }, é: 0, A: 1 }, '{"A":1,"z":{"x":2,"y":1},"é":0}'],
    [{ a: { d: [3, { z: 1, y: 2 }], c: null } }, '{"a":{"c":null,"d":[3,{"y":2,"z":1}]}}'],
    [{ a: undefined, b: 0.1 }, '{"b":0.1}'],
    [[undefined, 1], '[null,1]'],
    ['line\nbreak "q"', '"line\\nbreak \\"q\\""'],
    [1e21, '1e+21'],
    [-0, '0'],
    [Object.assign(Object.create(null) as object, { b: 2, a: 1 }), '{"a":1,"b":2}'],
  ])('writes %j as %s', (value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it('writes the same text whatever the key order and spacing, and different text for any change', () => {
    const a = { z: 1, a: { y: [1, 2, { c: true, b: null }], x: 'é"\n' } };
    const b: unknown = JSON.parse(
      '{ "a": { "x": "é\\"\\n", "y": [1, 2, {"b": null, "c": true}] }, "z": 1.0 }',
    );
    expect(canonicalJson(a)).toBe('{"a":{"x":"é\\"\\n","y":[1,2,{"b":null,"c":true}]},"z":1}');
    expect(canonicalJson(b)).toBe(canonicalJson(a));
    expect(canonicalJson({ ...a, z: 2 })).not.toBe(canonicalJson(a));
  });

  it('sorts by UTF-16 code units, as RFC 8785 does (not by code points or locale)', () => {
    // U+1F600 is the surrogate pair D83D DE00, which sorts before U+FB01 in UTF-16.
    expect(canonicalJson({ '\ufb01': 1, '\u{1f600}': 2, a: 3 })).toBe(
      '{"a":3,"\u{1f600}":2,"\ufb01":1}',
    );
  });

  it.each([
    [{ a: Number.NaN }, '/a: NaN is not JSON'],
    [{ a: [1, Infinity] }, '/a/1: Infinity is not JSON'],
    [{ d: new Date(0) }, '/d: a Date is not a JSON value'],
    [{ m: new Map() }, '/m: a Map is not a JSON value'],
    [{ f: () => 1 }, '/f: a function is not a JSON value'],
    [{ n: 1n }, '/n: a bigint is not a JSON value'],
    [{ 'a/b': { '~': Symbol('s') } }, '/a~1b/~0: a symbol is not a JSON value'],
    [undefined, '/: undefined is not a JSON value'],
  ])('refuses %s, naming where', (value, message) => {
    expect(() => canonicalJson(value)).toThrow(message);
  });
});
