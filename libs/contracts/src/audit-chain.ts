import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from './canonical-json.js';

/** The `prevHash` of the first row of a chain: there is no row before it. */
export const GENESIS_HASH = '0'.repeat(64);

const HEX64 = /^[0-9a-f]{64}$/;
// Versioned, so a later change of the hash input can never collide with this one.
const DOMAIN = 'toolbus.audit.chain.v1\n';

/** A value a chained row may hold: JSON without undefined, NaN or infinities. */
export type ChainValue =
  string | number | boolean | null | ChainValue[] | { [key: string]: ChainValue };

const ChainValueSchema: z.ZodType<ChainValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(ChainValueSchema),
    z.record(z.string(), ChainValueSchema),
  ]),
);

/**
 * One row of a hash chain as it is stored: its place (`sequence`, from 1), the hash of the row
 * before it, its own hash, and every other stored column in `record` (ciphertext where a
 * column is encrypted, so verifying needs no key).
 */
export const ChainRow = z
  .object({
    sequence: z.number().int().positive(),
    prevHash: z.string().regex(HEX64, 'must be 64 lower-case hex digits'),
    hash: z.string().regex(HEX64, 'must be 64 lower-case hex digits'),
    record: z.record(z.string(), ChainValueSchema),
  })
  .describe('A stored row of the audit hash chain');
export type ChainRow = z.infer<typeof ChainRow>;

/** The newest row of a chain, as the ledger's head records it (sequence 0: empty). */
export const ChainHead = z
  .object({
    sequence: z.number().int().nonnegative(),
    hash: z.string().regex(HEX64, 'must be 64 lower-case hex digits'),
  })
  .describe('The last sequence of the chain and its hash');
export type ChainHead = z.infer<typeof ChainHead>;

/**
 * The hash of a row: SHA-256 (hex) over a version tag and the canonical JSON of its sequence,
 * the previous row's hash and its record. The sequence is inside, so a row moved to another
 * place no longer matches; the previous hash is inside, so no row can be taken out or put in
 * between without breaking the next one.
 */
export function chainRowHash(row: Pick<ChainRow, 'sequence' | 'prevHash' | 'record'>): string {
  return createHash('sha256')
    .update(DOMAIN)
    .update(canonicalJson({ prevHash: row.prevHash, record: row.record, sequence: row.sequence }))
    .digest('hex');
}

/** The row that follows `head` (or starts the chain) holding `record`, hashed. */
export function appendToChain(
  head: ChainHead | undefined,
  record: Record<string, ChainValue>,
): ChainRow {
  const sequence = (head?.sequence ?? 0) + 1;
  const prevHash = head && head.sequence > 0 ? head.hash : GENESIS_HASH;
  return { sequence, prevHash, record, hash: chainRowHash({ sequence, prevHash, record }) };
}

/** Something wrong with a chain, located by sequence number. */
export type ChainFinding =
  | {
      /** The row's content (or its hash) is not what was chained: changed after it was written. */
      kind: 'broken';
      sequence: number;
      detail: string;
    }
  | {
      /** No row holds this sequence (`to`: the last of a run of missing ones): deleted. */
      kind: 'missing';
      sequence: number;
      to: number;
      detail: string;
    }
  | {
      /** An intact row stored at `storedAs` was appended as `sequence`: moved or swapped. */
      kind: 'reordered';
      sequence: number;
      storedAs: number;
      detail: string;
    };

/** The outcome of {@link verifyChain}. */
export interface ChainVerdict {
  ok: boolean;
  /** Rows examined. */
  rows: number;
  /** The finding with the lowest sequence: what `toolbus audit verify` names. */
  first?: ChainFinding;
  /** Every finding, lowest sequence first, at most `maxFindings`. */
  findings: ChainFinding[];
}

export interface VerifyChainOptions {
  /**
   * Where the rows start: the row before them, as a checkpoint (`sequence` 0 or omitted: from
   * the start of the chain, whose first row has sequence 1 and prevHash {@link GENESIS_HASH}).
   */
  after?: ChainHead;
  /** The chain's head when the rows were read: rows missing at the end are found too. */
  head?: ChainHead;
  /** How far (in sequence numbers) a row that does not match is looked for elsewhere. Default 64. */
  searchWindow?: number;
  /** Findings kept. Default 100. */
  maxFindings?: number;
}

interface Placed {
  row: ChainRow;
  /** The sequence the row's hash proves it was appended as. */
  appendedAs: number;
}

/**
 * Recomputes a chain and says where it is broken, rows in any order (the ledger returns them
 * by sequence). Each row is placed where its hash proves it was appended: at its own sequence
 * when the hash matches; at another sequence within `searchWindow` when it matches there (the
 * row is intact but was moved: **reordered**); nowhere when it matches no sequence (its
 * content changed: **broken**). Then every sequence from the start to the end (the head's,
 * when given) must hold exactly one placed row, or it is **missing**, and each placed row must
 * name its predecessor's hash; when it does not, the predecessor was rewritten with a hash of
 * its own making (**broken**). A consequence of a finding (the link after a missing row) is
 * not reported again.
 */
export function verifyChain(
  rows: readonly ChainRow[],
  options: VerifyChainOptions = {},
): ChainVerdict {
  const window = options.searchWindow ?? 64;
  const start = (options.after?.sequence ?? 0) + 1;
  const startHash = options.after && options.after.sequence > 0 ? options.after.hash : GENESIS_HASH;
  const findings: ChainFinding[] = [];
  const placed = new Map<number, Placed>();
  const brokenAt = new Set<number>();
  // Rows that match their own sequence first, so a copy elsewhere cannot take their place.
  const unplaced: ChainRow[] = [];
  for (const row of rows) {
    if (chainRowHash(row) === row.hash && !placed.has(row.sequence))
      placed.set(row.sequence, { row, appendedAs: row.sequence });
    else unplaced.push(row);
  }
  // Each search costs up to 2 x searchWindow hashes; a wholly rewritten chain stops searching.
  let searches = options.maxFindings ?? 100;
  for (const row of unplaced) {
    const appendedAs = searches-- > 0 ? findPlace(row, window) : undefined;
    if (appendedAs === undefined || placed.has(appendedAs)) brokenAt.add(row.sequence);
    else placed.set(appendedAs, { row, appendedAs });
  }
  // Only occupied sequences are visited and gaps measured, so a row renumbered to 10^12 costs
  // no more than any other.
  const occupied = [...new Set([...placed.keys(), ...brokenAt])]
    .filter((s) => s >= start)
    .sort((x, y) => x - y);
  const reported = new Set<number>();
  let expected = start;
  for (const s of occupied) {
    if (s > expected) findings.push(missing(expected, s - 1));
    expected = s + 1;
    const here = placed.get(s);
    if (!here) {
      findings.push({
        kind: 'broken',
        sequence: s,
        detail: `row ${s} was changed after it was written: its content does not match its hash`,
      });
      continue;
    }
    if (here.row.sequence !== s && !reported.has(s)) findings.push(moved(here, placed, reported));
    const before = s === start ? { hash: startHash } : placed.get(s - 1)?.row;
    if (before && here.row.prevHash !== before.hash)
      findings.push({
        kind: 'broken',
        sequence: s === start ? s : s - 1,
        detail:
          s === start
            ? `row ${s} does not follow ${start === 1 ? 'the start of the chain' : `checkpoint ${start - 1}`}: it names another previous hash`
            : `row ${s - 1} was rewritten: row ${s} was chained to a row ${s - 1} with another hash`,
      });
  }
  const last = options.head?.sequence ?? 0;
  if (last >= expected) findings.push(missing(expected, last));
  const head = options.head;
  if (head && head.sequence >= start) {
    const last = placed.get(head.sequence);
    if (last && last.row.hash !== head.hash)
      findings.push({
        kind: 'broken',
        sequence: head.sequence,
        detail: `row ${head.sequence} does not match the ledger's head: it was rewritten, or the head was`,
      });
  }
  findings.sort((a, b) => a.sequence - b.sequence);
  const kept = findings.slice(0, options.maxFindings ?? 100);
  return {
    ok: findings.length === 0,
    rows: rows.length,
    ...(kept[0] ? { first: kept[0] } : {}),
    findings: kept,
  };
}

/** The sequence near the row's own at which its hash matches, if one does. */
function findPlace(row: ChainRow, window: number): number | undefined {
  for (let d = 1; d <= window; d++) {
    for (const t of [row.sequence - d, row.sequence + d]) {
      if (t >= 1 && chainRowHash({ ...row, sequence: t }) === row.hash) return t;
    }
  }
  return undefined;
}

function missing(from: number, to: number): ChainFinding {
  return {
    kind: 'missing',
    sequence: from,
    to,
    detail:
      from === to
        ? `row ${from} is missing: no row holds that sequence (deleted?)`
        : `rows ${from} to ${to} are missing: no rows hold those sequences (deleted?)`,
  };
}

/** A moved row; two rows that took each other's place are one finding, a swap. */
function moved(here: Placed, placed: Map<number, Placed>, reported: Set<number>): ChainFinding {
  const s = here.appendedAs;
  const at = here.row.sequence;
  reported.add(s);
  const other = placed.get(at);
  if (other && other.row.sequence === s) {
    reported.add(at);
    const [a, b] = s < at ? [s, at] : [at, s];
    return {
      kind: 'reordered',
      sequence: Math.min(s, at),
      storedAs: s < at ? at : s,
      detail: `rows ${a} and ${b} are swapped: each is intact but stored in the other's place`,
    };
  }
  return {
    kind: 'reordered',
    sequence: s,
    storedAs: at,
    detail: `row ${s} is out of order: it is intact but stored as ${at}`,
  };
}
