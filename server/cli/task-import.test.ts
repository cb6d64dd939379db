import { describe, expect, it } from 'vitest';
import { IdempotencyKey } from '../../protocol/leases.ts';
import { importKeys } from '../../protocol/import-keys.ts';
import { ImportFileError, parseImportFile } from './task-import.ts';

describe('parseImportFile', () => {
  it('reads the wire document example with the protocol defaults filled in', () => {
    const { items, problems } = parseImportFile(`
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

  it('refuses fields the protocol does not know rather than dropping them, naming the one meant', () => {
    const { items, problems } = parseImportFile(
      '- title: typo\n  priorty: 5\n- title: elsewhere\n  repo: acme/other\n' +
        '- title: both\n  estimate_points: 500\n  colour: red\n',
    );
    expect(items).toEqual([]);
    expect(problems).toEqual([
      {
        item: 1,
        line: 1,
        title: 'typo',
        message: 'priorty: not a task field (did you mean priority?)',
      },
      {
        item: 2,
        line: 3,
        title: 'elsewhere',
        message: 'repo: not an item field; every item goes to the repo the import names',
      },
      {
        item: 3,
        line: 5,
        title: 'both',
        message: expect.stringMatching(/^estimate_points: .*; colour: not a task field$/),
      },
    ]);
  });

  it('refuses a file that is not a YAML list', () => {
    expect(() => parseImportFile('title: not a list\n')).toThrow(ImportFileError);
    expect(() => parseImportFile('')).toThrow(/no tasks/);
    // An empty list is no tasks either (it was read as 0 items, and --from 1 was blamed).
    expect(() => parseImportFile('[]\n')).toThrow('the file holds no tasks: its list is empty');
    expect(() => parseImportFile('- title: [unclosed\n')).toThrow(/not valid YAML/);
  });
});

describe('importKeys', () => {
  it('gives an item the same key in every run, and another item, repo or copy another key', () => {
    const { items } = parseImportFile(`
- title: Fix the parser
- title: Write docs
  priority: 50
- title: Fix the parser
`);
    const keys = importKeys('acme/web', items);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(3);
    for (const key of keys) expect(IdempotencyKey.safeParse(key).success).toBe(true);
    // Run again — or read again from a file with an item fixed elsewhere — the same items keep theirs.
    expect(importKeys('acme/web', items)).toEqual(keys);
    const edited = parseImportFile(`
- title: Fix the parser
- title: Write docs
  priority: 60
- title: Fix the parser
`).items;
    const editedKeys = importKeys('acme/web', edited);
    expect(editedKeys[0]).toBe(keys[0]);
    expect(editedKeys[2]).toBe(keys[2]);
    expect(editedKeys[1]).not.toBe(keys[1]);
    expect(importKeys('acme/api', items)[0]).not.toBe(keys[0]);
  });
});
