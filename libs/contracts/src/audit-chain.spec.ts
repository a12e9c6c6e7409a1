import { describe, expect, it } from 'vitest';
import {
  appendToChain,
  chainRowHash,
  GENESIS_HASH,
  verifyChain,
  type ChainFinding,
  type ChainRow,
} from './index.js';

/** A chain of `n` rows, each recording its own number. */
function chain(n: number): ChainRow[] {
  const rows: ChainRow[] = [];
  for (let i = 1; i <= n; i++) {
    const last = rows[rows.length - 1];
    rows.push(appendToChain(last, { event: `e${i}`, outcome: 'allowed', n: i }));
  }
  return rows;
}

/** Moves the rows at sequences a and b into each other's place, as an UPDATE of seq would. */
function swap(rows: ChainRow[], a: number, b: number): ChainRow[] {
  const out = rows.map((r) => ({ ...r }));
  const [x, y] = [out[a - 1]!, out[b - 1]!];
  out[a - 1] = { ...y, sequence: a };
  out[b - 1] = { ...x, sequence: b };
  return out;
}

const brief = (f: ChainFinding) => ({ kind: f.kind, sequence: f.sequence });

describe('appendToChain', () => {
  it('starts at 1 after the genesis hash, then links each row to the one before', () => {
    const [first, second] = chain(2);
    expect(first).toMatchObject({ sequence: 1, prevHash: GENESIS_HASH });
    expect(second).toMatchObject({ sequence: 2, prevHash: first!.hash });
    expect(second!.hash).toBe(chainRowHash(second!));
    expect(second!.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hashes the sequence, the previous hash and every record field', () => {
    const [row] = chain(1);
    const base = chainRowHash(row!);
    expect(chainRowHash({ ...row!, sequence: 2 })).not.toBe(base);
    expect(chainRowHash({ ...row!, prevHash: 'f'.repeat(64) })).not.toBe(base);
    expect(chainRowHash({ ...row!, record: { ...row!.record, outcome: 'denied' } })).not.toBe(base);
    expect(chainRowHash({ ...row!, record: { ...row!.record, extra: null } })).not.toBe(base);
    // Key order is not content.
    const reversed = Object.fromEntries(Object.entries(row!.record).reverse());
    expect(chainRowHash({ ...row!, record: reversed })).toBe(base);
  });
});

describe('verifyChain', () => {
  const rows = chain(10);

  const cases: Array<{
    what: string;
    rows: () => ChainRow[];
    options?: Parameters<typeof verifyChain>[1];
    findings: Array<{ kind: ChainFinding['kind']; sequence: number }>;
    detail?: RegExp;
  }> = [
    { what: 'an intact chain', rows: () => rows, findings: [] },
    { what: 'an empty chain', rows: () => [], findings: [] },
    {
      what: 'an intact chain in any order',
      rows: () => [...rows].reverse(),
      findings: [],
    },
    {
      what: 'a row whose content changed',
      rows: () =>
        rows.map((r) =>
          r.sequence === 4 ? { ...r, record: { ...r.record, outcome: 'denied' } } : r,
        ),
      findings: [{ kind: 'broken', sequence: 4 }],
      detail: /row 4 was changed after it was written/,
    },
    {
      what: 'a row whose content and hash were both rewritten',
      rows: () =>
        rows.map((r) =>
          r.sequence === 4 ? appendToChain(rows[2], { ...r.record, outcome: 'denied' }) : r,
        ),
      findings: [{ kind: 'broken', sequence: 4 }],
      detail: /row 4 was rewritten: row 5 was chained to a row 4 with another hash/,
    },
    {
      what: 'a deleted row',
      rows: () => rows.filter((r) => r.sequence !== 6),
      findings: [{ kind: 'missing', sequence: 6 }],
      detail: /row 6 is missing/,
    },
    {
      what: 'a run of deleted rows',
      rows: () => rows.filter((r) => r.sequence < 3 || r.sequence > 5),
      findings: [{ kind: 'missing', sequence: 3 }],
      detail: /rows 3 to 5 are missing/,
    },
    {
      what: 'the first row deleted',
      rows: () => rows.slice(1),
      findings: [{ kind: 'missing', sequence: 1 }],
    },
    {
      what: 'the last row deleted, seen against the head',
      rows: () => rows.slice(0, -1),
      options: { head: { sequence: 10, hash: rows[9]!.hash } },
      findings: [{ kind: 'missing', sequence: 10 }],
    },
    {
      what: 'a last row that does not match the head',
      rows: () => rows,
      options: { head: { sequence: 10, hash: 'a'.repeat(64) } },
      findings: [{ kind: 'broken', sequence: 10 }],
      detail: /does not match the ledger's head/,
    },
    {
      what: 'two swapped rows, as one finding',
      rows: () => swap(rows, 3, 4),
      findings: [{ kind: 'reordered', sequence: 3 }],
      detail: /rows 3 and 4 are swapped/,
    },
    {
      what: 'two swapped rows far apart',
      rows: () => swap(rows, 2, 9),
      findings: [{ kind: 'reordered', sequence: 2 }],
    },
    {
      what: 'a deleted row hidden by renumbering the rows after it',
      rows: () =>
        rows
          .filter((r) => r.sequence !== 5)
          .map((r) => (r.sequence > 5 ? { ...r, sequence: r.sequence - 1 } : r)),
      findings: [
        { kind: 'missing', sequence: 5 },
        { kind: 'reordered', sequence: 6 },
        { kind: 'reordered', sequence: 7 },
        { kind: 'reordered', sequence: 8 },
        { kind: 'reordered', sequence: 9 },
        { kind: 'reordered', sequence: 10 },
      ],
    },
    {
      what: 'a forged first row',
      rows: () => [
        appendToChain({ sequence: 0, hash: GENESIS_HASH }, { forged: true }),
        ...rows.slice(1),
      ],
      findings: [{ kind: 'broken', sequence: 1 }],
    },
    {
      what: 'a change, a deletion and a swap in one chain, each named',
      rows: () =>
        swap(rows, 8, 9)
          .filter((r) => r.sequence !== 5)
          .map((r) => (r.sequence === 2 ? { ...r, record: { ...r.record, n: 99 } } : r)),
      findings: [
        { kind: 'broken', sequence: 2 },
        { kind: 'missing', sequence: 5 },
        { kind: 'reordered', sequence: 8 },
      ],
    },
    {
      what: 'a segment verified from a checkpoint',
      rows: () => rows.slice(4),
      options: { after: { sequence: 4, hash: rows[3]!.hash } },
      findings: [],
    },
    {
      what: 'a segment that does not follow its checkpoint',
      rows: () => rows.slice(4),
      options: { after: { sequence: 4, hash: 'b'.repeat(64) } },
      findings: [{ kind: 'broken', sequence: 5 }],
      detail: /does not follow checkpoint 4/,
    },
  ];

  it.each(cases)('finds $findings.length problem(s) in $what', (c) => {
    const verdict = verifyChain(c.rows(), c.options);
    expect(verdict.findings.map(brief)).toEqual(c.findings);
    expect(verdict.ok).toBe(c.findings.length === 0);
    expect(verdict.first && brief(verdict.first)).toEqual(c.findings[0]);
    if (c.detail) expect(verdict.first?.detail).toMatch(c.detail);
  });

  it('says where a moved row is stored', () => {
    const verdict = verifyChain(swap(rows, 3, 4));
    expect(verdict.first).toMatchObject({ kind: 'reordered', sequence: 3, storedAs: 4 });
  });

  it('costs no more for a row renumbered far away', () => {
    const far = rows.map((r) => (r.sequence === 10 ? { ...r, sequence: 1e12 } : r));
    const verdict = verifyChain(far);
    expect(verdict.findings.map(brief)).toEqual([
      { kind: 'missing', sequence: 10 },
      { kind: 'broken', sequence: 1e12 },
    ]);
  });

  it('keeps at most maxFindings and stops searching a wholly rewritten chain', () => {
    const rewritten = chain(500).map((r) => ({ ...r, record: { x: r.sequence } }));
    const started = performance.now();
    const verdict = verifyChain(rewritten, { maxFindings: 5 });
    expect(verdict.findings).toHaveLength(5);
    expect(verdict.findings.every((f) => f.kind === 'broken')).toBe(true);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
