import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { nanoid } from 'nanoid';
import type { Clock } from './clock.ts';

/** Makes the ids and secrets the engine hands out. Injected so tests can make them predictable. */
export interface IdSource {
  taskId(): string;
  workerId(): string;
  leaseId(): string;
  offerId(): string;
  /** A worker token: at least 128 random bits. */
  token(): string;
}

/**
 * A time-ordered id: the prefix, the time in base 36 (nine characters, so ids sort as text in the
 * order they were made, to the millisecond, until the year 5188), then twelve random characters
 * (≈ 71 bits, so ids made in the same millisecond do not collide). The database keeps every id in
 * a B-tree index — the tasks' primary key, the leases', the event log by task — and an id that
 * sorts after the ones before it lands next to them, in pages already in cache, where a random
 * one lands anywhere among the pool's. Measured at 10,000 workers and 100,000 tasks: 13–15 % more
 * engine cycles per second (no difference at 1,000 tasks, which fit in cache either way). Ids are
 * not secrets, and the time in one is the creation time the record shows anyway.
 */
export function timeOrderedId(prefix: string, now: number): string {
  return `${prefix}_${now.toString(36).padStart(9, '0')}${nanoid(12)}`;
}

/**
 * Ids from the platform CSPRNG (nanoid). Tasks, leases and offers, made all the time and looked
 * up by id in indexes, are time-ordered by `clock`; a worker id stays wholly random (16 chars ≈ 95
 * bits). Tokens are 43 chars ≈ 256 bits.
 */
export function randomIds(clock: Clock): IdSource {
  return {
    taskId: () => timeOrderedId('t', clock.now()),
    workerId: () => `w_${nanoid(16)}`,
    leaseId: () => timeOrderedId('l', clock.now()),
    offerId: () => timeOrderedId('o', clock.now()),
    token: () => `owpw_${nanoid(43)}`,
  };
}

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
