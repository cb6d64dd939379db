import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { nanoid } from 'nanoid';

/** Makes the ids and secrets the engine hands out. Injected so tests can make them predictable. */
export interface IdSource {
  taskId(): string;
  workerId(): string;
  leaseId(): string;
  offerId(): string;
  /** A worker token: at least 128 random bits. */
  token(): string;
}

/** Random ids from the platform CSPRNG (nanoid: 21 chars ≈ 126 bits; tokens 43 chars ≈ 256 bits). */
export const randomIds: IdSource = {
  taskId: () => `t_${nanoid(16)}`,
  workerId: () => `w_${nanoid(16)}`,
  leaseId: () => `l_${nanoid(16)}`,
  offerId: () => `o_${nanoid(16)}`,
  token: () => `owpw_${nanoid(43)}`,
};

/** Predictable ids for tests and demos: `t_0001`, `w_0001`, … */
export function sequentialIds(): IdSource {
  const counters = { t: 0, w: 0, l: 0, o: 0, k: 0 };
  const next = (prefix: keyof typeof counters) =>
    `${prefix}_${String(++counters[prefix]).padStart(4, '0')}`;
  return {
    taskId: () => next('t'),
    workerId: () => next('w'),
    leaseId: () => next('l'),
    offerId: () => next('o'),
    token: () => `owpw_test_${next('k')}`,
  };
}

/**
 * Tokens are stored only as SHA-256 hashes. A fast hash is right here (unlike for passwords): the
 * token is 256 random bits, so there is nothing to brute-force. Lookup is by the hash, so the
 * secret itself is never compared byte by byte.
 */
export function hashToken(token: string): string {
  return bytesToHex(sha256(utf8ToBytes(token)));
}
