import { timingSafeEqual, createHash } from 'node:crypto';

/**
 * Compares a presented admin token with the configured one in constant time. Both sides are hashed
 * first so the comparison runs over equal lengths and leaks nothing about the token's length.
 */
export function adminTokenMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined || presented.length === 0) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
