import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, limitHeapGrowth } from './heap.ts';

describe('limitHeapGrowth', () => {
  it("leaves an operator's own --heap-growing-percent alone", () => {
    expect(limitHeapGrowth(['--heap-growing-percent=50'])).toBe(false);
    expect(limitHeapGrowth(['--heap_growing_percent', '50'])).toBe(false);
  });

  it('sets it otherwise (V8 flags are process-wide; the test worker can take it)', () => {
    expect(limitHeapGrowth(['--max-semi-space-size=8'])).toBe(true);
    expect(HEAP_GROWING_PERCENT).toBeGreaterThan(0);
  });
});

describe('how production starts node', () => {
  const startProd = (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts['start:prod']!;
  const dockerCmd = /^CMD (\[.*\])$/m.exec(
    readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8'),
  );

  it('gives the container the same node flags as npm run start:prod', () => {
    expect(dockerCmd).not.toBeNull();
    // `exec`: the shell npm runs the script in hands its process to node, so a SIGTERM sent to
    // npm reaches the server (through the shell, it left node running).
    expect(startProd).toMatch(/^exec node /);
    expect(JSON.parse(dockerCmd![1]!)).toEqual(startProd.replace(/^exec /, '').split(/\s+/));
    expect(startProd).toMatch(/--max-semi-space-size=\d+ /);
  });
});
