import { OwpError } from '../protocol/errors.ts';
import type { EngineContext } from './context.ts';

/**
 * Runs a mutating call at most once per (caller, key), inside the caller's transaction: a
 * replay with the same fingerprint returns the first answer and changes nothing; with another
 * fingerprint it is refused. Errors are not stored, so a failed call can be retried with the
 * same key.
 */
export function runIdempotent<T>(
  ctx: EngineContext,
  /** A worker's id, or `admin` (the column is `worker_id`: worker ids begin `w_`, so no clash). */
  callerId: string,
  key: string,
  fingerprint: string,
  call: () => T,
  /** Told when the answer is a replay of the first (the server says so in a header). */
  onReplay?: () => void,
): T {
  const stored = ctx.driver.get<{ fingerprint: string; response: string }>(
    'SELECT fingerprint, response FROM idempotency_keys WHERE worker_id = $worker AND key = $key',
    { worker: callerId, key },
  );
  if (stored) {
    if (stored.fingerprint !== fingerprint) {
      throw new OwpError(
        'idempotency_key_reused',
        'This Idempotency-Key was already used for a different request.',
        { key },
      );
    }
    onReplay?.();
    return JSON.parse(stored.response) as T;
  }
  const result = call();
  ctx.driver.run(
    `INSERT INTO idempotency_keys (worker_id, key, fingerprint, response, created_at)
     VALUES ($worker, $key, $fingerprint, $response, $now)`,
    { worker: callerId, key, fingerprint, response: JSON.stringify(result), now: ctx.clock.now() },
  );
  return result;
}

/** Forgets answers older than the configured lifetime. */
export function forgetOldIdempotencyKeys(ctx: EngineContext): void {
  ctx.driver.run('DELETE FROM idempotency_keys WHERE created_at < $cutoff', {
    cutoff: ctx.clock.now() - ctx.config.idempotencyTtlMs,
  });
}
