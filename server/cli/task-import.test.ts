import { describe, expect, it } from 'vitest';
import { ImportFileError, parseImportFile } from './task-import.ts';

describe('parseImportFile', () => {
  it('reads the wire document example with the protocol defaults filled in', () => {
    const { items, problems, warnings } = parseImportFile(`
- title: "Docs: Add quickstart to README"
  description: "Add a concise quickstart section."
  estimate_points: 1
  priority: 50
  required_skills: ["docs"]
  area: "docs"
  tier: 0
- title: Fix the parser
`);
    expect(problems).toEqual([]);
    expect(warnings).toEqual([]);
    expect(items).toEqual([
      {
        title: 'Docs: Add quickstart to README',
        description: 'Add a concise quickstart section.',
        estimate_points: 1,
        priority: 50,
        required_skills: ['docs'],
        area: 'docs',
        tier: 0,
        depends_on: [],
      },
      {
        title: 'Fix the parser',
        description: '',
        estimate_points: 1,
        priority: 10,
        required_skills: [],
        area: null,
        tier: 0,
        depends_on: [],
      },
    ]);
  });

  it('reports every invalid item with its number, line and title, not just the first', () => {
    const { items, problems } = parseImportFile(`- title: fine
- title: too big
  estimate_points: 500
- description: no title here
- title: bad tier
  tier: 9
  priority: -1
`);
    expect(items).toHaveLength(1);
    expect(problems).toEqual([
      { item: 2, line: 2, title: 'too big', message: expect.stringMatching(/^estimate_points: /) },
      { item: 3, line: 4, title: null, message: expect.stringMatching(/^title: /) },
      {
        item: 4,
        line: 5,
        title: 'bad tier',
        message: expect.stringMatching(/^priority: .+; tier: /),
      },
    ]);
  });

  it('warns about fields the protocol does not know instead of dropping them silently', () => {
    const { items, warnings } = parseImportFile('- title: typo\n  priorty: 5\n');
    expect(items).toHaveLength(1);
    expect(warnings).toEqual([
      { item: 1, line: 1, title: 'typo', message: 'ignored unknown field(s): priorty' },
    ]);
  });

  it('refuses a file that is not a YAML list', () => {
    expect(() => parseImportFile('title: not a list\n')).toThrow(ImportFileError);
    expect(() => parseImportFile('')).toThrow(/no tasks/);
    expect(() => parseImportFile('- title: [unclosed\n')).toThrow(/not valid YAML/);
  });
});
