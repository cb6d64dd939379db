import { describe, expect, it } from 'vitest';
import { barExtent } from './bar-scale.ts';

describe('barExtent', () => {
  const days = [0, 86_400, 172_800];

  it('makes room for the last bucket after its start when bars are drawn from their point', () => {
    expect(barExtent(days, 0, 172_800, 1, 3600)).toEqual([0, 259_200]);
  });

  it('makes room for half a bar at each end when bars are centred on their point', () => {
    expect(barExtent(days, 0, 172_800, 0, 3600)).toEqual([-43_200, 216_000]);
  });

  it('uses the fallback step for a single point', () => {
    expect(barExtent([7200], 7200, 7200, 1, 3600)).toEqual([7200, 10_800]);
    expect(barExtent([7200], 7200, 7200, 0, 3600)).toEqual([5400, 9000]);
  });
});
