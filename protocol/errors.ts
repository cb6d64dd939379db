import { z } from 'zod';

/**
 * Every error OWP Pool reports, with its HTTP status. Codes are stable: clients branch on them,
 * so a code is never renamed or reused for something else.
 */
export const errorRegistry = {
  validation_failed: { status: 400, summary: 'The request does not match the protocol schema.' },
  malformed_json: { status: 400, summary: 'The request body is not valid JSON.' },
  unknown_repo: { status: 400, summary: 'The task names a repo that has not been created.' },
  dependency_unknown: { status: 400, summary: 'A dependency names a task that does not exist.' },
  dependency_cycle: {
    status: 400,
    summary: 'The dependencies would make a task wait on itself, directly or through others.',
  },
  unauthorized: { status: 401, summary: 'Missing or wrong credentials.' },
  forbidden: { status: 403, summary: 'The caller may not do this.' },
  not_lease_holder: { status: 403, summary: 'The task is not leased to the calling worker.' },
  route_not_found: { status: 404, summary: 'No such endpoint.' },
  task_not_found: { status: 404, summary: 'No task with that id.' },
  worker_not_found: { status: 404, summary: 'No worker with that id.' },
  repo_not_found: { status: 404, summary: 'No repo with that key.' },
  lease_not_found: { status: 404, summary: 'No lease with that id.' },
  offer_not_found: { status: 404, summary: 'No offer with that id.' },
  not_offer_holder: { status: 403, summary: 'The offer was made to another worker.' },
  offer_closed: {
    status: 409,
    summary: 'The offer was already accepted, rejected, withdrawn, or it expired.',
  },
  invalid_transition: {
    status: 409,
    summary: 'The task cannot move to that status from its current one.',
  },
  stale_lease: {
    status: 409,
    summary: 'The lease named by the write is no longer the current one.',
  },
  lease_expired: {
    status: 409,
    summary: 'The lease has expired; the task is going back to the queue.',
  },
  stale_version: {
    status: 409,
    summary: 'The task changed since the version the write was based on.',
  },
  repo_in_use: { status: 409, summary: 'The repo still has open tasks.' },
  area_locked: { status: 409, summary: 'Another task holds that area of the repo.' },
  over_capacity: {
    status: 409,
    summary: 'The worker holding the task has no room for it at that size.',
  },
  idempotency_key_reused: {
    status: 422,
    summary: 'The Idempotency-Key was used before with a different request.',
  },
  request_timeout: { status: 408, summary: 'The request did not arrive in time.' },
  payload_too_large: { status: 413, summary: 'The request body is too large.' },
  unsupported_media_type: { status: 415, summary: 'The request body must be application/json.' },
  rate_limited: { status: 429, summary: 'Too many requests; retry later.' },
  headers_too_large: { status: 431, summary: 'The request line or headers are too large.' },
  internal_error: { status: 500, summary: 'An unexpected error; it has been logged.' },
  not_ready: { status: 503, summary: 'The server is starting or stopping.' },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof errorRegistry;
export const errorCodes = Object.keys(errorRegistry) as [ErrorCode, ...ErrorCode[]];

/** The JSON body of every error answer: `{"error": {"code", "message", "details"}}`. */
export const ErrorEnvelope = z
  .object({
    error: z.object({
      code: z.enum(errorCodes),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).nullable(),
    }),
  })
  .meta({ id: 'ErrorEnvelope' });
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>;

/** An error with a stable code, thrown by the engine and turned into the envelope at the edge. */
export class OwpError extends Error {
  override readonly name = 'OwpError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> | null = null,
  ) {
    super(message);
  }

  get status(): number {
    return errorRegistry[this.code].status;
  }

  toEnvelope(): ErrorEnvelope {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

/** Wraps anything thrown into an OwpError, so an unknown failure never leaks its internals. */
export function toOwpError(thrown: unknown): OwpError {
  if (thrown instanceof OwpError) return thrown;
  return new OwpError('internal_error', errorRegistry.internal_error.summary);
}
