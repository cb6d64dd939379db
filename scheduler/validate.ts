import { z } from 'zod';
import { findMalformedInput } from '../protocol/common.ts';
import { OwpError } from '../protocol/errors.ts';

/** Parses input with a protocol schema, or throws `validation_failed` naming each bad field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const malformed = findMalformedInput(input);
  if (malformed !== null) {
    throw new OwpError('validation_failed', `${malformed.path}: ${malformed.message}.`, {
      issues: [malformed],
    });
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new OwpError('validation_failed', z.prettifyError(result.error), {
    issues: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  });
}
