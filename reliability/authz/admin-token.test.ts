/**
 * Part 4 — the admin (and viewer) token check: right answers for every near miss, and the
 * comparison itself always runs `timingSafeEqual` over two equal-length SHA-256 digests, whatever
 * the lengths of the tokens — behaviour that makes it constant-time, asserted without timing.
 */
import type * as NodeCrypto from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';

const calls = vi.hoisted(() => [] as Array<[number, number]>);
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof NodeCrypto>();
  return {
    ...actual,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      calls.push([a.byteLength, b.byteLength]);
      return actual.timingSafeEqual(a, b);
    },
  };
});

const { adminTokenMatches } = await import('../../server/admin-token.ts');
const { FigureSheet, required } = await import('../support/figures.ts');
const sheet = new FigureSheet(4, 'Who may do what', 'c-admin-token');

describe('adminTokenMatches', () => {
  const token = 'owpa_0123456789abcdefghijklmnopqrstuvwxyz';
  const nearMisses = [
    '',
    'x',
    token.slice(0, -1),
    `${token}x`,
    token.toUpperCase(),
    ` ${token}`,
    `${token}\n`,
    `${token}\u0000`,
    token.replace('0', 'O'),
    'x'.repeat(100_000),
  ];

  it('accepts the token and nothing near it, through timingSafeEqual on 32-byte digests', () => {
    calls.length = 0;
    const accepted = adminTokenMatches(token, token);
    const rejected = nearMisses.filter((presented) => !adminTokenMatches(presented, token));
    expect(adminTokenMatches(undefined, token)).toBe(false);
    // Every non-empty presentation was compared, in constant time, over equal-length digests.
    const comparedNonEmpty = nearMisses.filter((p) => p.length > 0).length + 1;
    const equalLengthDigests = calls.every(([a, b]) => a === 32 && b === 32);
    sheet.add(
      required(
        'admin token near misses refused',
        `${rejected.length} of ${nearMisses.length}`,
        'all',
        rejected.length === nearMisses.length,
      ),
      required(
        'compared with timingSafeEqual over equal-length digests',
        `${calls.length} of ${comparedNonEmpty} comparisons`,
        'all',
        equalLengthDigests && calls.length === comparedNonEmpty,
      ),
    );
    expect(accepted).toBe(true);
    expect(rejected).toEqual(nearMisses);
    expect(calls).toHaveLength(comparedNonEmpty);
    expect(equalLengthDigests).toBe(true);
  });
});
