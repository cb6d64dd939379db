import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SETTINGS,
  foldersClash,
  localWorkerId,
  normalizeSettings,
  parseSkills,
  poolKey,
  readServerUrl,
  withLocalWorker,
  workerTokenSlot,
} from './settings.ts';

describe('normalizeSettings', () => {
  it('gives the defaults for an empty or missing data file', () => {
    expect(normalizeSettings(null)).toEqual(DEFAULT_SETTINGS);
    expect(normalizeSettings({})).toEqual(DEFAULT_SETTINGS);
  });

  it('keeps valid values and repairs broken ones field by field', () => {
    const settings = normalizeSettings({
      mode: 'remote',
      serverUrl: ' https://pool.example.org ',
      role: 'superuser',
      tasksFolder: '/Work/Tasks/',
      workerSkills: ['TypeScript', ' docs', 'docs', 7],
      workerCapacityPoints: 0,
      workerMaxTasks: 3,
      localWorker: { pool: 'embedded' },
      secretPrefix: 'Not Valid!',
    });
    expect(settings).toMatchObject({
      mode: 'remote',
      serverUrl: 'https://pool.example.org',
      role: 'both',
      tasksFolder: 'Work/Tasks',
      workerSkills: ['TypeScript', 'docs'],
      workerCapacityPoints: DEFAULT_SETTINGS.workerCapacityPoints,
      workerMaxTasks: 3,
      localWorkers: [],
      secretPrefix: '',
    });
  });
});

describe('the local worker belongs to one pool', () => {
  // Saved before a vault kept a worker per pool: one record, its token in the plain entry.
  const registered = normalizeSettings({
    mode: 'remote',
    serverUrl: 'https://pool.example.org/',
    localWorker: { pool: 'https://pool.example.org', workerId: 'w_1' },
  });

  it('is known in the pool it registered with', () => {
    expect(poolKey(registered)).toBe('https://pool.example.org');
    expect(localWorkerId(registered)).toBe('w_1');
    expect(workerTokenSlot(registered)).toBe('');
  });

  it('is not registered after switching to another pool', () => {
    expect(localWorkerId({ ...registered, mode: 'embedded' })).toBeNull();
    expect(localWorkerId({ ...registered, serverUrl: 'https://other.example.org' })).toBeNull();
  });

  it('is found again after registering in another pool and switching back', () => {
    const embedded = { ...registered, mode: 'embedded' as const };
    const both = { ...embedded, localWorkers: withLocalWorker(embedded, 'w_2') };
    // Was: one record and one token, so the server's worker was forgotten.
    expect(localWorkerId(both)).toBe('w_2');
    expect(localWorkerId({ ...both, mode: 'remote' })).toBe('w_1');
    // Each pool's token in its own entry: the old one keeps its plain entry.
    expect(workerTokenSlot(both)).toMatch(/^[0-9a-f]{8}$/);
    expect(workerTokenSlot({ ...both, mode: 'remote' })).toBe('');
    // Registering again in a pool replaces that pool's worker, and keeps its entry.
    const again = withLocalWorker(both, 'w_3');
    expect(again.map((r) => [r.pool, r.workerId])).toEqual([
      ['https://pool.example.org', 'w_1'],
      ['embedded', 'w_3'],
    ]);
    expect(again[1]!.tokenSlot).toBe(workerTokenSlot(both));
    // Saved and read back.
    expect(
      normalizeSettings(JSON.parse(JSON.stringify({ ...both, localWorkers: again }))),
    ).toMatchObject({
      localWorkers: again,
    });
  });
});

it('parseSkills splits on commas, trims, drops empties and repeats', () => {
  expect(parseSkills(' typescript, docs ,,docs, ')).toEqual(['typescript', 'docs']);
});

describe('the server URL as typed', () => {
  it('keeps a good one, without a trailing slash or a /v1 of its own', () => {
    expect(normalizeSettings({ serverUrl: 'http://pool.lan:8787/v1/' }).serverUrl).toBe(
      'http://pool.lan:8787',
    );
    expect(readServerUrl(' http://127.0.0.1:8787/ ')).toEqual({ url: 'http://127.0.0.1:8787' });
    expect(readServerUrl('https://pool.example.org/v1')).toEqual({
      url: 'https://pool.example.org',
    });
    expect(readServerUrl('https://example.org/owp/v1/')).toEqual({
      url: 'https://example.org/owp',
    });
  });

  it('says what is wrong with one the plugin could not call', () => {
    const problem = (typed: string) => {
      const read = readServerUrl(typed);
      return 'problem' in read ? read.problem : null;
    };
    // Without a scheme it was resolved against Obsidian's own page.
    expect(problem('127.0.0.1:8787')).toBe(
      'Start the server URL with http:// or https://, as in http://127.0.0.1:8787.',
    );
    expect(problem('')).toMatch(/^Start the server URL with http/);
    expect(problem('ftp://pool.example.org')).toMatch(/not ftp:\/\//);
    expect(problem('http://')).toBe('"http://" is not a URL.');
    expect(problem('https://admin:secret@pool.example.org')).toMatch(/Leave the token out/);
    expect(problem('https://pool.example.org/?token=x')).toMatch(/no \?query/);
  });
});

describe('the tasks and archive folders', () => {
  it('refuses an archive that holds the tasks folder, where no note would become a task', () => {
    expect(foldersClash('Tasks', '')).toBeNull();
    expect(foldersClash('Tasks', 'Archive')).toBeNull();
    expect(foldersClash('Tasks', 'Tasks/Done')).toBeNull();
    expect(foldersClash('Tasks', 'Tasks2')).toBeNull();
    expect(foldersClash('Tasks', '/Tasks/')).toMatch(/^The archive folder cannot hold/);
    expect(foldersClash('Work/Tasks', 'Work')).toMatch(/"Work\/Tasks" would make none/);
    // Typed with backslashes, the same folders as the vault names them.
    expect(foldersClash('Work\\Tasks', 'Work\\')).toMatch(/"Work\/Tasks" would make none/);
  });

  it('reads a folder typed with backslashes as the vault names it (Work\\Tasks is Work/Tasks)', () => {
    // Was: kept as typed, while the vault put the notes under Work/Tasks/: no note was ever found.
    const settings = normalizeSettings({
      tasksFolder: 'Work\\Tasks\\',
      archiveFolder: '\\Work//Tasks\\\\Archive',
    });
    expect(settings).toMatchObject({
      tasksFolder: 'Work/Tasks',
      archiveFolder: 'Work/Tasks/Archive',
    });
    // As normalizePath does: non-breaking spaces are spaces, names are composed (NFC).
    expect(normalizeSettings({ tasksFolder: 'Cafe\u0301\u00a0tasks' }).tasksFolder).toBe(
      'Café tasks',
    );
    // Nothing but slashes is the vault's root: the tasks folder never is, the archive is none.
    expect(normalizeSettings({ tasksFolder: '\\', archiveFolder: '/' })).toMatchObject({
      tasksFolder: DEFAULT_SETTINGS.tasksFolder,
      archiveFolder: '',
    });
  });
});
