import type { z } from 'zod';
import { plainIssue } from '../../protocol/issue-text.ts';

/** Per-field messages for a form: the first problem of each top-level field. */
export type FieldErrors = Record<string, string>;

export type FormResult<T> = { ok: true; value: T } | { ok: false; errors: FieldErrors };

/** A number typed into a text box: blank → undefined; anything else must be a whole number. */
export function parseWholeNumber(text: string): number | undefined | typeof NaN {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
}

/** `ts, Svelte ,  sql` → `['ts', 'Svelte', 'sql']`. */
export const splitList = (text: string): string[] =>
  text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);

/** Validates with the protocol's schema, so the form refuses exactly what the server would. */
export function validateWith<S extends z.ZodType>(
  schema: S,
  candidate: Record<string, unknown>,
  notNumbers: string[],
): FormResult<z.input<S>> {
  const errors: FieldErrors = {};
  for (const field of notNumbers) errors[field] = 'must be a whole number';
  const result = schema.safeParse(candidate);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const field = String(issue.path[0] ?? 'form');
      errors[field] ??= plainIssue(issue, candidate);
    }
  }
  return Object.keys(errors).length > 0
    ? { ok: false, errors }
    : { ok: true, value: candidate as z.input<S> };
}

/** Reads numeric fields, setting aside the names of those that are not numbers. */
export function readNumbers<K extends string>(
  values: Record<K, string>,
  fields: readonly K[],
): { numbers: Partial<Record<K, number>>; notNumbers: K[] } {
  const numbers: Partial<Record<K, number>> = {};
  const notNumbers: K[] = [];
  for (const field of fields) {
    const parsed = parseWholeNumber(values[field]);
    if (Number.isNaN(parsed)) notNumbers.push(field);
    else if (parsed !== undefined) numbers[field] = parsed;
  }
  return { numbers, notNumbers };
}
