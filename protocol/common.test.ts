import { describe, expect, it } from 'vitest';
import { findMalformedText } from './common.ts';

describe('findMalformedText', () => {
  it('finds nothing in well-formed text, however deep', () => {
    expect(findMalformedText({ a: ['ok', { b: 'é 🚀 ✓' }], n: 1, z: null })).toBeNull();
    expect(findMalformedText('plain')).toBeNull();
  });

  it('names the path to the first lone surrogate, through arrays and objects', () => {
    expect(findMalformedText('bad \ud800')).toBe('(body)');
    expect(findMalformedText({ title: 'bad \udc00' })).toBe('title');
    expect(findMalformedText({ skills: ['ok', 'bad \ud83d'] })).toBe('skills.1');
    expect(findMalformedText({ a: { b: [{ c: 'ok' }, { c: '\ud800x' }] } })).toBe('a.b.1.c');
  });

  it('checks keys as well as values', () => {
    expect(findMalformedText({ outer: { ['k\ud800']: 'fine' } })).toBe('outer.k\ud800');
  });
});
