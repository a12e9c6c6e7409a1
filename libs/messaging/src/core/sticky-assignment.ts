/** A group member and the partitions it owned before this rebalance. */
export interface StickyMember {
  id: string;
  previous: number[];
}

/**
 * Balanced, sticky assignment: every member gets ⌊P/M⌋ or ⌈P/M⌉ partitions, and keeps the
 * partitions it had, lowest first, before anything moves. A member therefore keeps its lowest
 * partition ("home") through every rebalance while members ≤ partitions, which is what lets a
 * requester name its home as the reply partition without losing replies when replicas come
 * and go (with eager round-robin, every partition may move on each join).
 */
export function stickyAssign(
  partitions: readonly number[],
  members: readonly StickyMember[],
): Map<string, number[]> {
  const sortedMembers = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const result = new Map<string, number[]>(sortedMembers.map((m) => [m.id, []]));
  if (sortedMembers.length === 0) return result;
  const all = [...new Set(partitions)].sort((a, b) => a - b);
  const base = Math.floor(all.length / sortedMembers.length);
  let extra = all.length % sortedMembers.length;
  // Members that keep the most get the extra slots first, so fewer partitions move.
  const byPrevious = [...sortedMembers].sort((a, b) => b.previous.length - a.previous.length);
  const quota = new Map<string, number>();
  for (const m of byPrevious) quota.set(m.id, base + (extra-- > 0 ? 1 : 0));

  const taken = new Set<number>();
  const valid = new Set(all);
  for (const m of sortedMembers) {
    const mine = result.get(m.id)!;
    for (const p of [...m.previous].sort((a, b) => a - b)) {
      if (mine.length >= quota.get(m.id)!) break;
      if (!valid.has(p) || taken.has(p)) continue;
      taken.add(p);
      mine.push(p);
    }
  }
  const free = all.filter((p) => !taken.has(p));
  for (const m of sortedMembers) {
    const mine = result.get(m.id)!;
    while (mine.length < quota.get(m.id)! && free.length > 0) mine.push(free.shift()!);
    mine.sort((a, b) => a - b);
  }
  return result;
}
