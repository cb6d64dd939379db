import { describe, expect, it } from 'vitest';
import { contractLines } from './contract.ts';

describe('contractLines', () => {
  it('lists the parts a repo gives, in a fixed order, and leaves out blank ones', () => {
    expect(
      contractLines({
        pr_template: '## What\n\n## Why\n',
        lint: '  npm run lint ',
        setup: 'npm ci',
        test: '',
        branch_naming: null,
      }),
    ).toEqual([
      { key: 'setup', label: 'Setup', text: 'npm ci', kind: 'code' },
      { key: 'lint', label: 'Lint', text: 'npm run lint', kind: 'code' },
      { key: 'pr_template', label: 'PR template', text: '## What\n\n## Why', kind: 'block' },
    ]);
  });

  it('has nothing for a repo without a contract', () => {
    expect(contractLines(null)).toEqual([]);
    expect(contractLines({})).toEqual([]);
  });
});
