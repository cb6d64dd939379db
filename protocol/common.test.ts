import { describe, expect, it } from 'vitest';
import { findMalformedInput, MAX_INPUT_DEPTH, oneLine, RepoKey } from './common.ts';

const unicode = (path: string) => ({ path, message: 'must be valid Unicode text' });

/** `levels` arrays, one inside the other, around `inner`. */
const nested = (levels: number, inner: unknown = 'x'): unknown => {
  let value = inner;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
};

describe('findMalformedInput', () => {
  it('finds nothing in well-formed text, however it is shaped', () => {
    expect(findMalformedInput({ a: ['ok', { b: 'é 🚀 ✓' }], n: 1, z: null })).toBeNull();
    expect(findMalformedInput('plain')).toBeNull();
  });

  it('names the path to the first lone surrogate, through arrays and objects', () => {
    expect(findMalformedInput('bad \ud800')).toEqual(unicode('(body)'));
    expect(findMalformedInput({ title: 'bad \udc00' })).toEqual(unicode('title'));
    expect(findMalformedInput({ skills: ['ok', 'bad \ud83d'] })).toEqual(unicode('skills.1'));
    expect(findMalformedInput({ a: { b: [{ c: 'ok' }, { c: '\ud800x' }] } })).toEqual(
      unicode('a.b.1.c'),
    );
  });

  it('checks keys as well as values', () => {
    expect(findMalformedInput({ outer: { ['k\ud800']: 'fine' } })).toEqual(
      unicode('outer.k\ud800'),
    );
  });

  it('accepts nesting up to the limit and refuses one level more, wherever it is', () => {
    // The body itself is level 0: MAX_INPUT_DEPTH arrays inside it is the deepest allowed.
    expect(findMalformedInput({ extra: nested(MAX_INPUT_DEPTH - 1) })).toBeNull();
    const tooDeep = findMalformedInput({ ok: 1, extra: nested(MAX_INPUT_DEPTH) });
    expect(tooDeep?.message).toBe(`must not nest deeper than ${MAX_INPUT_DEPTH} levels`);
    expect(tooDeep?.path).toBe(
      ['extra', ...Array<string>(MAX_INPUT_DEPTH - 1).fill('0')].join('.'),
    );
    expect(findMalformedInput({ a: { b: nested(MAX_INPUT_DEPTH, {}) } })?.message).toMatch(/nest/);
  });

  it('answers, not throws, for nesting far beyond the stack', () => {
    expect(findMalformedInput(nested(100_000))?.message).toMatch(/nest deeper/);
  });
});

describe('RepoKey', () => {
  it('takes `name` and `owner/name`, dots inside names included', () => {
    for (const key of ['demo', 'acme/web', 'acme/web.site', '.github', 'a/..b']) {
      expect(RepoKey.safeParse(key).success, key).toBe(true);
    }
  });

  it('refuses `.` and `..` as a part: no HTTP client could reach such a repo again', () => {
    for (const key of ['.', '..', './..', 'acme/..', '../web', 'acme/.']) {
      expect(RepoKey.safeParse(key).success, key).toBe(false);
    }
  });
});

describe('oneLine (titles, names, skills, areas)', () => {
  const title = oneLine(300);

  it('takes any visible text, trimmed: letters of every script, digits, punctuation, emoji', () => {
    for (const text of [
      'Fix login',
      '  padded  ',
      'ログインを直す',
      '42',
      '?',
      '🚀',
      'naïve café',
    ]) {
      expect(title.parse(text), text).toBe(text.trim());
    }
  });

  it('refuses control characters anywhere: NUL, tab, line breaks (Unicode ones too), DEL, C1', () => {
    for (const text of [
      'a\u0000b',
      'a\tb',
      'first\nsecond',
      'a\rb',
      'a\u007fb',
      'a\u0085b',
      'a\u2028b',
    ]) {
      const result = title.safeParse(text);
      expect(result.success, JSON.stringify(text)).toBe(false);
      expect(result.error?.issues[0]?.message).toMatch(/one line without control characters/);
    }
  });

  it('refuses text with nothing to see: zero-width and other invisible characters alone', () => {
    for (const text of ['\u200b', '\u200b\u200c\u200d', '\u2060', '\ufeff\u200b', '\u0301']) {
      const result = title.safeParse(text);
      expect(result.success, JSON.stringify(text)).toBe(false);
      expect(result.error?.issues.map((issue) => issue.message)).toContain(
        'must contain a visible character',
      );
    }
    // …but an invisible character inside visible text is left alone.
    expect(title.parse('a\u200bb')).toBe('a\u200bb');
  });

  it('still refuses empty and over-long text', () => {
    expect(title.safeParse('   ').success).toBe(false);
    expect(oneLine(3).safeParse('abcd').success).toBe(false);
    expect(oneLine(3).parse('abc')).toBe('abc');
  });
});
