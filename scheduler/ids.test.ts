import { describe, expect, it } from 'vitest';
import { OfferId } from '../protocol/index.ts';
import { randomIds, timeOrderedId } from './ids.ts';
import { ManualClock } from './testing/manual-clock.ts';

describe('timeOrderedId', () => {
  it('sorts as text in the order of the times it was made at', () => {
    const times = [0, 1, 35, 36, 999, 1_700_000_000_000, 1_700_000_000_001, 4_102_444_800_000];
    const ids = times.map((time) => timeOrderedId('t', time));
    expect([...ids].sort()).toEqual(ids);
  });

  it('is the prefix, nine characters of time and twelve random ones', () => {
    expect(timeOrderedId('l', 1_700_000_000_000)).toMatch(/^l_0loyw3v28[A-Za-z0-9_-]{12}$/);
  });

  it('does not repeat within one millisecond', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => timeOrderedId('t', 42)));
    expect(ids.size).toBe(10_000);
  });
});

describe('randomIds', () => {
  it('makes task, lease and offer ids that sort by the time on the clock they were made at', () => {
    const clock = new ManualClock();
    const ids = randomIds(clock);
    const made = timeOrderedId('x', clock.now()).slice(2, 11);
    const first = [ids.taskId(), ids.leaseId(), ids.offerId()];
    clock.advance(1);
    const later = [ids.taskId(), ids.leaseId(), ids.offerId()];
    first.forEach((id, i) => expect(id < later[i]!).toBe(true));
    expect(first.map((id) => id.slice(0, 2) + (id.slice(2, 11) === made))).toEqual([
      't_true',
      'l_true',
      'o_true',
    ]);
    expect(OfferId.safeParse(ids.offerId()).success).toBe(true);
  });

  it('keeps worker ids and tokens wholly random', () => {
    const ids = randomIds(new ManualClock());
    expect(ids.workerId()).toMatch(/^w_[A-Za-z0-9_-]{16}$/);
    expect(ids.token()).toMatch(/^owpw_[A-Za-z0-9_-]{43}$/);
    expect(ids.workerId()).not.toBe(ids.workerId());
  });
});
