import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

/** The Node flags the server runs with must be the same wherever it is started for real. */
describe('production Node flags', () => {
  const flags = /PRODUCTION_NODE_FLAGS = \[([^\]]*)\]/
    .exec(read('bench/lib/children.mts'))![1]!
    .split(',')
    .map((flag) => flag.trim().replace(/^'|'$/g, ''));

  it('are given to the server by the container, npm run start:prod, the smoke test and the bench', () => {
    expect(flags).toEqual(['--max-semi-space-size=4']);
    const cmd = /^CMD (.*)$/m.exec(read('Dockerfile'))![1]!;
    expect(JSON.parse(cmd)).toEqual(['node', ...flags, 'dist/server/main.js']);
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> })
      .scripts;
    expect(scripts['start:prod']).toBe(`node ${flags.join(' ')} dist/server/main.js`);
    expect(read('scripts/production-smoke.sh')).toContain(
      `node ${flags.join(' ')} dist/server/main.js`,
    );
  });
});
