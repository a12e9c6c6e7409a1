import { describe, expect, it } from 'vitest';
import { Script, sliceChunks, wordChunks } from './script.js';
import type { FakeRequestView } from './types.js';

const view = (lastUserText: string): FakeRequestView => ({
  lastUserText,
  toolResults: [],
  toolNames: [],
  model: 'm',
  body: {},
});

let ids = 0;
const newId = () => `id_${++ids}`;

describe('fake provider script', () => {
  it('matches a global RegExp on every request, not every other one', () => {
    const script = new Script([{ when: /limit/g, reply: { text: 'matched' } }]);
    const texts = [1, 2, 3].map(() => script.answer(view('credit limit'), '', newId).text);
    expect(texts).toEqual(['matched', 'matched', 'matched']);
  });

  it('takes the first matching turn in script order', () => {
    const script = new Script([
      { when: (req) => req.model === 'other', reply: { text: 'other' } },
      { when: /x/, reply: { text: 'first' } },
      { reply: { text: 'catch-all' } },
    ]);
    expect(script.answer(view('x'), '', newId).text).toBe('first');
    expect(script.answer(view('y'), '', newId).text).toBe('catch-all');
  });

  it('fills in ids, stop reason and estimated usage', () => {
    const script = new Script([{ reply: { toolCalls: [{ name: 't', input: { k: 'v' } }] } }]);
    expect(script.answer(view(''), 'x'.repeat(41), newId)).toEqual({
      text: '',
      toolCalls: [{ id: expect.stringMatching(/^id_\d+$/), name: 't', input: { k: 'v' } }],
      stopReason: 'tool_use',
      usage: { input: 11, output: 3, cacheRead: 0, cacheWrite: 0 },
    });
  });

  it('does not edit the array it was given when a once turn drops out', () => {
    const turns = [{ once: true, reply: { text: 'a' } }];
    const script = new Script(turns);
    script.answer(view(''), '', newId);
    expect(turns).toHaveLength(1);
    expect(script.answer(view('q'), '', newId).text).toBe(
      'fake provider: no scripted turn matches "q"',
    );
  });

  it('chunks text and JSON so the pieces join back exactly', () => {
    const text = '  Leading space, several   words\nand a newline ';
    expect(wordChunks(text).join('')).toBe(text);
    expect(wordChunks(text).length).toBeGreaterThan(1);
    expect(wordChunks('')).toEqual([]);
    expect(wordChunks('   ')).toEqual(['   ']);
    const json = JSON.stringify({ a: 'b'.repeat(30) });
    expect(sliceChunks(json).join('')).toBe(json);
    expect(sliceChunks(json, 12).every((chunk) => chunk.length <= 12)).toBe(true);
  });
});
