import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { routes, type RouteSpec } from '../../protocol/routes.ts';
import { invalidArbitrary, validArbitrary } from './zod-arbitrary.ts';

/** Every request schema of the route table: bodies, queries and path parameters. */
const schemas = Object.entries(routes as Record<string, RouteSpec>).flatMap(([name, spec]) =>
  (['body', 'query', 'params'] as const)
    .filter((part) => spec[part])
    .map((part) => [`${name}.${part}`, spec[part]!] as const),
);

describe('the zod → fast-check deriver', () => {
  it.each(schemas)('%s: valid draws parse, invalid draws are rejected', (_, schema) => {
    for (const value of fc.sample(validArbitrary(schema), { numRuns: 150, seed: 42 })) {
      expect(schema.safeParse(value).success, JSON.stringify(value)).toBe(true);
    }
    for (const value of fc.sample(invalidArbitrary(schema), { numRuns: 150, seed: 42 })) {
      expect(schema.safeParse(value).success, JSON.stringify(value)).toBe(false);
    }
  });

  it('covers the zod types the protocol uses, and refuses others loudly', () => {
    const schema = z.object({
      name: z.string().trim().min(1).max(5),
      key: z.string().regex(/^[a-z]+$/),
      count: z.int().min(1).max(3),
      ratio: z.number().min(0).max(1),
      kind: z.enum(['a', 'b']),
      tags: z.array(z.string()).max(2),
      note: z.string().nullable().optional(),
      on: z.boolean().default(false),
      extra: z.record(z.string(), z.unknown()),
    });
    const invalid = fc.sample(invalidArbitrary(schema), { numRuns: 300, seed: 7 });
    expect(invalid.every((value) => !schema.safeParse(value).success)).toBe(true);
    expect(() => validArbitrary(z.date() as never)).toThrow(/not supported/);
  });
});
