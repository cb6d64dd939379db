import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SETTINGS,
  localWorkerId,
  normalizeSettings,
  parseSkills,
  poolKey,
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
      localWorker: null,
      secretPrefix: '',
    });
  });
});

describe('the local worker belongs to one pool', () => {
  const registered = normalizeSettings({
    mode: 'remote',
    serverUrl: 'https://pool.example.org/',
    localWorker: { pool: 'https://pool.example.org', workerId: 'w_1' },
  });

  it('is known in the pool it registered with', () => {
    expect(poolKey(registered)).toBe('https://pool.example.org');
    expect(localWorkerId(registered)).toBe('w_1');
  });

  it('is not registered after switching to another pool', () => {
    expect(localWorkerId({ ...registered, mode: 'embedded' })).toBeNull();
    expect(localWorkerId({ ...registered, serverUrl: 'https://other.example.org' })).toBeNull();
  });
});

it('parseSkills splits on commas, trims, drops empties and repeats', () => {
  expect(parseSkills(' typescript, docs ,,docs, ')).toEqual(['typescript', 'docs']);
});
