import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { outputPath, renderMigrationsModule } from './build-sql-module.ts';

describe('the compiled migrations module', () => {
  it('is fresh: regenerating it from scheduler/sql/*.sql changes nothing (run `npm run gen`)', () => {
    expect(readFileSync(outputPath, 'utf8')).toBe(renderMigrationsModule());
  });
});
