import fc from 'fast-check';
import type { z } from 'zod';

/**
 * Fast-check arbitraries derived from zod 4 schemas — the protocol's single source of truth — for
 * the types the protocol's requests use: object, string (min/max/regex/trim), int and number
 * (min/max), enum, literal, array, nullable, optional, default, boolean, record, unknown.
 *
 * `validArbitrary` draws values the schema accepts; `invalidArbitrary` draws values it rejects,
 * by mutating valid ones field by field (wrong types, missing fields, out-of-range numbers, too
 * long or too short strings, odd Unicode where a pattern forbids it, extra fields beside a bad
 * one). The schema itself is the final oracle: whatever it would accept is filtered out, so every
 * "invalid" value really is invalid.
 */

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  entries?: Record<string, string | number>;
  values?: unknown[];
  checks?: Array<{ _zod: { def: CheckDef } }>;
  format?: string;
  coerce?: boolean;
  in?: z.ZodType;
  out?: z.ZodType;
  getter?: () => z.ZodType;
}

interface CheckDef {
  check: string;
  minimum?: number;
  maximum?: number;
  value?: number;
  inclusive?: boolean;
  format?: string;
  pattern?: RegExp;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;
const checksOf = (schema: z.ZodType): CheckDef[] =>
  (defOf(schema).checks ?? []).map((c) => c._zod.def);

/** Longest string or array drawn for a valid value: keeps requests small and fast. */
const MAX_DRAWN = 24;

/** Odd Unicode: lone surrogates, bidi overrides, NUL, zero-width and combining marks, emoji. */
export const ODD_UNICODE = [
  '\ud800',
  '\udfff',
  'a\ud83d',
  '\u202e',
  '\u200f\u202b',
  '\u0000',
  'nul\u0000byte',
  '\u200b',
  '\ufeff',
  'e\u0301\u0301\u0301',
  '\u{1f4a9}',
  '\u{10ffff}',
  '\r\n',
  '\u2028\u2029',
];

export interface StringFacts {
  min: number;
  max: number;
  pattern?: RegExp;
  /** A named format checked by more than a pattern (`datetime`: a real ISO 8601 instant). */
  format?: string;
  trimmed: boolean;
}

export function stringFacts(schema: z.ZodType): StringFacts {
  const facts: StringFacts = { min: 0, max: Infinity, trimmed: false };
  // `z.iso.datetime()` and its kind are a string schema that is itself the format check.
  const own = defOf(schema) as unknown as CheckDef & { format?: string };
  if (own.check === 'string_format') {
    if (own.pattern) facts.pattern = own.pattern;
    facts.format = own.format;
  }
  for (const check of checksOf(schema)) {
    if (check.check === 'min_length') facts.min = check.minimum!;
    if (check.check === 'max_length') facts.max = check.maximum!;
    if (check.check === 'string_format' && check.pattern) facts.pattern = check.pattern;
    if (check.check === 'overwrite') facts.trimmed = true; // the protocol's only overwrite is trim()
  }
  return facts;
}

interface NumberFacts {
  min: number;
  max: number;
  int: boolean;
}

function numberFacts(schema: z.ZodType): NumberFacts {
  const def = defOf(schema);
  const facts: NumberFacts = {
    min: -Number.MAX_SAFE_INTEGER,
    max: Number.MAX_SAFE_INTEGER,
    int: def.format === 'safeint',
  };
  for (const check of checksOf(schema)) {
    if (check.check === 'greater_than') facts.min = check.value! + (check.inclusive ? 0 : 1);
    if (check.check === 'less_than') facts.max = check.value! - (check.inclusive ? 0 : 1);
    if (check.check === 'number_format') facts.int = true;
  }
  return facts;
}

/** Whether `undefined` is acceptable (the key may be left out of an object). */
export function isOptional(schema: z.ZodType): boolean {
  const type = defOf(schema).type;
  return type === 'optional' || type === 'default';
}

const WORD = fc.constantFrom(
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.',
);

/** Values the schema accepts. */
export function validArbitrary(schema: z.ZodType): fc.Arbitrary<unknown> {
  const arbitrary = structurallyValid(schema);
  // A refinement (`.refine`) is code, not a shape: draws that fit the shape are kept only if the
  // refinement accepts them too (the protocol's refinements accept a good share of them).
  return checksOf(schema).some((check) => check.check === 'custom')
    ? arbitrary.filter((value) => schema.safeParse(value).success)
    : arbitrary;
}

function structurallyValid(schema: z.ZodType): fc.Arbitrary<unknown> {
  const def = defOf(schema);
  switch (def.type) {
    case 'object': {
      const shape = def.shape!;
      const model = Object.fromEntries(
        Object.entries(shape).map(([key, value]) => [key, validArbitrary(value)]),
      );
      const requiredKeys = Object.keys(shape).filter((key) => !isOptional(shape[key]!));
      return fc.record(model, { requiredKeys });
    }
    case 'string': {
      const facts = stringFacts(schema);
      if (facts.format === 'datetime') {
        return fc
          .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z') })
          .filter((d) => !Number.isNaN(d.getTime()))
          .map((d) => d.toISOString());
      }
      const min = facts.min;
      const max = Math.min(facts.max, Math.max(MAX_DRAWN, min));
      const base = facts.pattern
        ? fc.stringMatching(facts.pattern)
        : fc.string({
            unit: WORD,
            minLength: Math.max(min, facts.trimmed ? 1 : 0),
            maxLength: max,
          });
      return base.filter((s) => s.length >= min && s.length <= facts.max);
    }
    case 'number': {
      const facts = numberFacts(schema);
      const arb = facts.int
        ? fc.integer({ min: facts.min, max: facts.max })
        : fc.double({ min: facts.min, max: facts.max, noNaN: true });
      return def.coerce ? arb.map(String) : arb;
    }
    case 'boolean':
      return fc.boolean();
    case 'enum':
      return fc.constantFrom(...Object.values(def.entries!));
    case 'literal':
      return fc.constantFrom(...def.values!);
    case 'array': {
      const max = Math.min(maxItems(schema), 5);
      return fc.array(validArbitrary(def.element!), { maxLength: max });
    }
    case 'nullable':
      return fc.option(validArbitrary(def.innerType!), { nil: null });
    case 'optional':
    case 'default':
      return fc.option(validArbitrary(def.innerType!), { nil: undefined });
    case 'record':
      return fc.dictionary(fc.string({ unit: WORD, maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), {
        maxKeys: 3,
      });
    case 'pipe':
      // A preprocess (`queryInt`): what it reads is text — the output schema's values, written out.
      return isPreprocess(def) ? validArbitrary(def.out!).map(asText) : validArbitrary(def.in!);
    case 'lazy':
      return validArbitrary(def.getter!());
    case 'unknown':
    case 'any':
      return fc.jsonValue({ maxDepth: 2 });
    default:
      throw new Error(`validArbitrary: zod type ${def.type} is not supported`);
  }
}

function maxItems(schema: z.ZodType): number {
  const max = checksOf(schema).find((check) => check.check === 'max_length')?.maximum;
  return max ?? Infinity;
}

/** JSON values of every kind but the ones named. */
function otherJsonTypes(
  except: Array<'string' | 'number' | 'boolean' | 'null' | 'array' | 'object'>,
) {
  const all = {
    string: fc.constantFrom('', 'x', '1', 'true', 'null', '[]'),
    number: fc.constantFrom(0, 1, -1, 1.5, 1e308),
    boolean: fc.boolean(),
    null: fc.constant(null),
    array: fc.constantFrom([], [1], ['a'], [null]),
    object: fc.constantFrom({}, { a: 1 }, { length: 1 }),
  };
  return fc.oneof(
    ...Object.entries(all)
      .filter(([kind]) => !except.includes(kind as never))
      .map(([, arb]) => arb as fc.Arbitrary<unknown>),
  );
}

/** Candidates for rejection, before the schema filters out the ones it would accept. */
function invalidCandidates(schema: z.ZodType): fc.Arbitrary<unknown> {
  const def = defOf(schema);
  switch (def.type) {
    case 'object': {
      const shape = def.shape!;
      const keys = Object.keys(shape).filter((key) => canBeInvalid(shape[key]!));
      if (keys.length === 0) return otherJsonTypes(['object']);
      const valid = validArbitrary(schema) as fc.Arbitrary<Record<string, unknown>>;
      const required = Object.keys(shape).filter((key) => !isOptional(shape[key]!));
      const junkKeys = fc.dictionary(
        fc.constantFrom(
          'extra',
          'status',
          'assignee',
          'lease_epoch',
          'token_hash',
          'constructor',
          'id',
        ),
        fc.jsonValue({ maxDepth: 1 }),
        { maxKeys: 3 },
      );
      const oneBadField = fc
        .tuple(valid, fc.constantFrom(...keys), junkKeys, fc.boolean())
        .chain(([value, key, junk, withJunk]) =>
          invalidArbitrary(shape[key]!).map((bad) => ({
            ...(withJunk ? junk : {}),
            ...value,
            [key]: bad,
          })),
        );
      const options: fc.Arbitrary<unknown>[] = [otherJsonTypes(['object']), oneBadField];
      if (keys.length >= 2) {
        const twoBadFields = fc
          .tuple(valid, fc.shuffledSubarray(keys, { minLength: 2, maxLength: 2 }))
          .chain(([value, [a, b]]) =>
            fc
              .tuple(invalidArbitrary(shape[a!]!), invalidArbitrary(shape[b!]!))
              .map(([x, y]) => ({ ...value, [a!]: x, [b!]: y })),
          );
        options.push(twoBadFields);
      }
      if (required.length > 0) {
        options.push(
          fc.tuple(valid, fc.constantFrom(...required)).map(([value, key]) => {
            const copy = { ...value };
            delete copy[key];
            return copy;
          }),
        );
      }
      return fc.oneof(...options);
    }
    case 'string': {
      const facts = stringFacts(schema);
      const options: fc.Arbitrary<unknown>[] = [otherJsonTypes(['string'])];
      if (facts.min > 0) options.push(fc.constant(''));
      if (facts.trimmed && facts.min > 0) options.push(fc.constantFrom(' ', '\t\n', '   \u00a0 '));
      if (facts.max !== Infinity) {
        options.push(
          fc.integer({ min: facts.max + 1, max: facts.max + 40 }).map((n) => 'x'.repeat(n)),
          fc.constantFrom(...ODD_UNICODE).map((odd) => odd.repeat(facts.max + 1)),
        );
      }
      if (facts.pattern) {
        options.push(
          fc.constantFrom(
            '../etc/passwd',
            '..',
            'a b',
            'a/b/c',
            '/',
            'a/',
            '/a',
            '%2e%2e',
            'a\\b',
            '<script>',
            ...ODD_UNICODE,
          ),
          fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
        );
      }
      return fc.oneof(...options);
    }
    case 'number': {
      const facts = numberFacts(schema);
      const options: fc.Arbitrary<unknown>[] = [
        fc.constantFrom(
          facts.min - 1,
          facts.max + 1,
          1e308,
          -1e308,
          2 ** 53,
          2 ** 53 + 2,
          -(2 ** 63),
        ),
        def.coerce
          ? fc.constantFrom('abc', '', ' ', '1e999', '0x10', '1.5', '-1')
          : otherJsonTypes(['number']),
      ];
      if (facts.int)
        options.push(fc.double({ min: facts.min, max: facts.max, noNaN: true, noInteger: true }));
      return def.coerce
        ? fc.oneof(...options).map((v) => (typeof v === 'number' ? String(v) : v))
        : fc.oneof(...options);
    }
    case 'boolean':
      return fc.oneof(fc.constantFrom('true', 'false', 1, 0, 'yes'), otherJsonTypes(['boolean']));
    case 'enum': {
      const values = Object.values(def.entries!).map(String);
      return fc.oneof(
        fc.constantFrom(...values).map((v) => v.toUpperCase()),
        fc.constantFrom(...values).map((v) => `${v} `),
        fc.constantFrom(...values).map((v) => `${v}\u0000`),
        fc.string({ maxLength: 12 }),
        otherJsonTypes(['string']),
      );
    }
    case 'literal':
      return otherJsonTypes([]);
    case 'array': {
      const options: fc.Arbitrary<unknown>[] = [
        otherJsonTypes(['array']),
        fc.array(invalidArbitrary(def.element!), { minLength: 1, maxLength: 3 }),
      ];
      const max = maxItems(schema);
      if (max !== Infinity) {
        options.push(
          fc.array(validArbitrary(def.element!), { minLength: max + 1, maxLength: max + 3 }),
        );
      }
      return fc.oneof(...options);
    }
    case 'nullable':
    case 'optional':
    case 'default':
      return invalidArbitrary(def.innerType!);
    case 'record':
      return otherJsonTypes(['object', 'null']);
    case 'pipe':
      return isPreprocess(def)
        ? fc.oneof(
            invalidCandidates(def.out!).map(asText),
            // Numbers that are not written in digits: a coercion read them as numbers.
            fc.constantFrom('1e3', '0x10', '', ' 5', '5 ', '-1', '1.5', '+7', 'NaN', 'Infinity'),
          )
        : invalidCandidates(def.in!);
    case 'lazy':
      return invalidCandidates(def.getter!());
    default:
      throw new Error(`invalidArbitrary: zod type ${def.type} is not supported`);
  }
}

/** `z.preprocess(fn, schema)`: a pipe from a transform into the schema that checks its output. */
function isPreprocess(def: ReturnType<typeof defOf>): boolean {
  return def.type === 'pipe' && defOf(def.in!).type === 'transform';
}

/** A value as a query string carries it: numbers as their digits. */
const asText = (value: unknown) => (typeof value === 'number' ? String(value) : value);

/** Whether some JSON value fails the schema (`unknown` accepts everything). */
function canBeInvalid(schema: z.ZodType): boolean {
  const def = defOf(schema);
  if (def.type === 'unknown' || def.type === 'any') return false;
  if (['nullable', 'optional', 'default'].includes(def.type)) return canBeInvalid(def.innerType!);
  return true;
}

/** Values the schema rejects (the schema itself filters the candidates). */
export function invalidArbitrary(schema: z.ZodType): fc.Arbitrary<unknown> {
  const rejects = (value: unknown) => !schema.safeParse(value).success;
  return invalidCandidates(schema).filter((value) => value !== undefined && rejects(value));
}

/** Whether the schema is an object with at least one field a request could get wrong. */
export function hasFields(schema: z.ZodType | undefined): schema is z.ZodType {
  return (
    schema !== undefined &&
    defOf(schema).type === 'object' &&
    Object.keys(defOf(schema).shape!).length > 0
  );
}
