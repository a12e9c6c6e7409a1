import { describe, expect, it } from 'vitest';
import { stickyAssign } from './sticky-assignment.js';

const parts = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('stickyAssign', () => {
  it('balances partitions across members', () => {
    const a = stickyAssign(parts(16), [
      { id: 'a', previous: [] },
      { id: 'b', previous: [] },
      { id: 'c', previous: [] },
    ]);
    const sizes = [...a.values()].map((p) => p.length).sort();
    expect(sizes).toEqual([5, 5, 6]);
    expect([...a.values()].flat().sort((x, y) => x - y)).toEqual(parts(16));
  });

  it('keeps every member its home (lowest) partition when a member joins', () => {
    let owned = stickyAssign(parts(16), [{ id: 'a', previous: [] }]);
    for (const joining of ['b', 'c', 'd', 'e']) {
      const members = [...owned.keys()].map((id) => ({ id, previous: owned.get(id)! }));
      const homes = new Map(members.map((m) => [m.id, Math.min(...m.previous)]));
      owned = stickyAssign(parts(16), [...members, { id: joining, previous: [] }]);
      for (const [id, home] of homes) expect(owned.get(id)).toContain(home);
      expect([...owned.values()].flat().sort((x, y) => x - y)).toEqual(parts(16));
    }
  });

  it('gives a departed member its partitions to the survivors without moving theirs', () => {
    const before = stickyAssign(parts(8), [
      { id: 'a', previous: [] },
      { id: 'b', previous: [] },
    ]);
    const after = stickyAssign(parts(8), [{ id: 'a', previous: before.get('a')! }]);
    expect(after.get('a')).toEqual(parts(8));
  });

  it('ignores claims to partitions that no longer exist or that another member already kept', () => {
    const a = stickyAssign(parts(2), [
      { id: 'a', previous: [0, 5] },
      { id: 'b', previous: [0] },
    ]);
    expect(a.get('a')).toEqual([0]);
    expect(a.get('b')).toEqual([1]);
  });

  it('leaves members beyond the partition count empty-handed', () => {
    const a = stickyAssign(parts(1), [
      { id: 'a', previous: [] },
      { id: 'b', previous: [] },
    ]);
    expect([...a.values()].map((p) => p.length).sort()).toEqual([0, 1]);
  });
});
