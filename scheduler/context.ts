import type { OwpEventData, OwpEventType, TrustRules, TrustTier } from '../protocol/index.ts';
import type { Clock } from './clock.ts';
import type { EventLog, EventRefs } from './event-log.ts';
import { hashToken, type IdSource } from './ids.ts';
import type { QueueHeads } from './queue-heads.ts';
import type { SqlDriver } from './storage-port.ts';

/** Engine settings; every duration in milliseconds. */
export interface EngineConfig {
  /** Lease TTL when neither the task nor its repo sets one (v0.1: 30 min). */
  leaseTtlMs: number;
  /** A worker is online while its last heartbeat is younger than this (v0.1: 90 s). */
  heartbeatTtlMs: number;
  /** Trust tier of a newly registered worker. */
  defaultTrustTier: TrustTier;
  /** A worker that released a task is not handed the same task again for this long. */
  releaseCooldownMs: number;
  /** Counted attempts (expiries, releases) before a task goes to `failed`, unless its repo says. */
  defaultMaxAttempts: number;
  /** The highest task risk tier each trust tier may take, unless a repo has its own rules. */
  defaultTrustRules: TrustRules;
  /** How long an offer waits for its answer, unless the repo says. */
  offerTtlMs: number;
  /** A worker that rejected an offer, or let it expire, is not offered that task again for this long. */
  offerCooldownMs: number;
  /**
   * A heartbeat with the same status and note as one recorded less than this long ago is answered
   * without a write (its leases were renewed by that one). 0 writes every heartbeat.
   */
  heartbeatCoalesceMs: number;
  /** How long an Idempotency-Key answer is kept for replay. */
  idempotencyTtlMs: number;
  /**
   * SHA-256 of a token as lower-case hex. Pure JS by default (runs everywhere, mobile included);
   * the server passes Node's native hash, which is several times faster on every request.
   */
  hashToken: (token: string) => string;
}

export const DEFAULT_CONFIG: EngineConfig = {
  leaseTtlMs: 30 * 60_000,
  heartbeatTtlMs: 90_000,
  defaultTrustTier: 'basic',
  releaseCooldownMs: 10 * 60_000,
  defaultMaxAttempts: 5,
  defaultTrustRules: { untrusted: 0, basic: 1, trusted: 2, maintainer: 3 },
  offerTtlMs: 15 * 60_000,
  offerCooldownMs: 60 * 60_000,
  heartbeatCoalesceMs: 0,
  idempotencyTtlMs: 24 * 3600_000,
  hashToken,
};

/** What the engine's parts share: storage, time, ids, the event log and the settings. */
export interface EngineContext {
  driver: SqlDriver;
  clock: Clock;
  ids: IdSource;
  config: EngineConfig;
  log: EventLog;
  /** The ready queues' heads, remembered between reads; `record` forgets a repo's. */
  queueHeads: QueueHeads;
  /** Appends an event in the current transaction; listeners hear it after commit. */
  record<T extends OwpEventType>(type: T, refs: EventRefs, data: OwpEventData<T>): void;
}
