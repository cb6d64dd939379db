/**
 * The GitHub import end to end: a fake GitHub on 127.0.0.1 and a real OWP server started
 * in-process on 127.0.0.1:0, reached through `HttpOwpApi` as the CLI and the dashboard do.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpOwpApi } from '../../protocol/http-api.ts';
import type { Task } from '../../protocol/tasks.ts';
import { startServer } from '../main.ts';
import { createGithubClient } from './github-client.ts';
import { importGithubIssues, indexTasksByIssueUrl } from './importer.ts';
import { FakeGithub, type FakeIssueInput } from './testing/fake-github.ts';

const GITHUB_TOKEN = 'ghp_fake_token_for_the_import_test';

/** Seven labelled issues across pages of two, a labelled PR, an unlabelled and a closed issue. */
const ISSUES: FakeIssueInput[] = [
  {
    title: 'Parser: handle empty input',
    body: 'It crashes.',
    labels: ['pool:ready', 'size:3', 'priority:high', 'skills:python', 'area:parser'],
  },
  { title: 'Docs: quickstart', labels: ['pool:ready', 'skills:docs', 'area:docs', 'area:readme'] },
  { title: 'Not for the pool', labels: ['bug'] },
  { title: 'Bump deps', labels: ['pool:ready'], pullRequest: true },
  { title: 'Closed already', labels: ['pool:ready'], state: 'closed' },
  { title: 'Critical fix', labels: ['pool:ready', 'priority:critical', 'estimate:5'] },
  { title: 'Numeric priority', labels: ['pool:ready', 'priority:640'] },
  { title: 'Two skills', labels: ['pool:ready', 'skills:python', 'skills:sql'] },
  { title: 'Plain', body: '', labels: ['pool:ready'] },
  { title: 'Plain too', labels: ['pool:ready'] },
];

let dir: string;
let server: Awaited<ReturnType<typeof startServer>>;
let api: HttpOwpApi;
let fake: FakeGithub;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'owp-gh-import-'));
  server = await startServer({
    OWP_HOST: '127.0.0.1',
    OWP_PORT: '0',
    OWP_DB_PATH: join(dir, 'owp.db'),
    OWP_LOG_LEVEL: 'silent',
  });
  api = new HttpOwpApi({ baseUrl: server.base, adminToken: server.admin.token });
  await api.upsertRepo({ repo: 'acme/app', max_open_prs: 3 });
  fake = new FakeGithub(GITHUB_TOKEN);
  await fake.start();
  fake.addIssues('acme/app', ISSUES);
});

afterEach(async () => {
  await fake.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const importOnce = (extra: Partial<Parameters<typeof importGithubIssues>[1]> = {}) =>
  importGithubIssues(api, {
    github: 'acme/app',
    perPage: 2,
    client: { token: GITHUB_TOKEN, baseUrl: fake.baseUrl },
    ...extra,
  });

async function allTasks(): Promise<Task[]> {
  return (await api.listTasks({ repo: 'acme/app', limit: 500 })).tasks;
}

const byTitle = (tasks: Task[], title: string) => tasks.find((t) => t.title === title)!;

describe('importGithubIssues', () => {
  it('imports every page of open labelled issues, skipping the PR, through a rate limit', async () => {
    fake.rateLimitNext('GET', /\/issues$/);
    const waits: number[] = [];
    const result = await importOnce({
      client: {
        token: GITHUB_TOKEN,
        baseUrl: fake.baseUrl,
        onRateLimit: (wait) => waits.push(wait.waitMs),
      },
    });

    expect(result.issues_seen).toBe(8);
    expect(result.created.map((c) => c.number).sort((a, b) => a - b)).toEqual([
      1, 2, 6, 7, 8, 9, 10,
    ]);
    expect(result.skipped_pull_requests).toEqual([
      { number: 4, url: 'https://github.com/acme/app/pull/4' },
    ]);
    expect(result).toMatchObject({ updated: [], unchanged: [], failed: [], stopped: null });
    expect(waits).toHaveLength(1);

    // Four pages of two, after one rate-limited first try: pagination followed the Link header.
    const pages = fake.listingRequests().map((r) => new URL(r.url, fake.baseUrl));
    expect(pages.map((u) => u.searchParams.get('page') ?? '1')).toEqual(['1', '1', '2', '3', '4']);
    expect(pages.every((u) => u.searchParams.get('labels') === 'pool:ready')).toBe(true);
    expect(pages.every((u) => u.searchParams.get('state') === 'open')).toBe(true);

    const tasks = await allTasks();
    expect(tasks).toHaveLength(7);
    expect(byTitle(tasks, 'Parser: handle empty input')).toMatchObject({
      description: 'https://github.com/acme/app/issues/1\n\nIt crashes.',
      estimate_points: 3,
      priority: 80,
      required_skills: ['python'],
      area: 'parser',
      status: 'ready',
    });
    expect(byTitle(tasks, 'Docs: quickstart')).toMatchObject({ area: 'docs', priority: 50 });
    expect(byTitle(tasks, 'Critical fix')).toMatchObject({ priority: 100, estimate_points: 5 });
    expect(byTitle(tasks, 'Numeric priority').priority).toBe(640);
    expect(byTitle(tasks, 'Two skills').required_skills).toEqual(['python', 'sql']);
    expect(byTitle(tasks, 'Plain').description).toBe('https://github.com/acme/app/issues/9');
  });

  it('sends the token only in the Authorization header, never in a URL', async () => {
    await importOnce();
    expect(fake.requests.length).toBeGreaterThan(0);
    for (const request of fake.requests) {
      expect(request.authorization).toBe(`token ${GITHUB_TOKEN}`);
      expect(request.url).not.toContain(GITHUB_TOKEN);
    }
  });

  it('is idempotent: importing again changes nothing and duplicates nothing', async () => {
    await importOnce();
    const before = await allTasks();
    const again = await importOnce();
    expect(again.created).toEqual([]);
    expect(again.updated).toEqual([]);
    expect(again.unchanged).toHaveLength(7);
    const after = await allTasks();
    expect(after.map((t) => [t.task_id, t.version])).toEqual(
      before.map((t) => [t.task_id, t.version]),
    );
  });

  it('updates only the fields an edited issue changed, keyed by the issue URL', async () => {
    await importOnce();
    const parser = byTitle(await allTasks(), 'Parser: handle empty input');
    const issue = fake.issue('acme/app', 1);
    issue.title = 'Parser: handle empty and blank input';
    issue.labels = ['pool:ready', 'size:3', 'priority:low', 'skills:python', 'area:parser'];

    const result = await importOnce();
    expect(result.created).toEqual([]);
    expect(result.updated).toEqual([
      {
        number: 1,
        url: 'https://github.com/acme/app/issues/1',
        title: 'Parser: handle empty and blank input',
        task_id: parser.task_id,
        fields: ['title', 'priority'],
      },
    ]);
    expect(result.unchanged).toHaveLength(6);
    const updated = await api.getTask(parser.task_id);
    expect(updated).toMatchObject({
      title: issue.title,
      priority: 20,
      version: parser.version + 1,
    });
    expect(await allTasks()).toHaveLength(7);
  });

  it('leaves a finished task alone, and tasks not made from issues untouched', async () => {
    const manual = await api.createTask({ repo: 'acme/app', title: 'By hand', description: 'x' });
    const first = await importOnce();
    const critical = first.created.find((c) => c.title === 'Critical fix')!;
    await api.cancelTask(critical.task_id);

    const again = await importOnce();
    expect(again.finished).toEqual([{ ...critical, status: 'cancelled' }]);
    expect(again.created).toEqual([]);
    expect(await api.getTask(manual.task_id)).toMatchObject({ title: 'By hand', version: 1 });
  });

  it('imports into another OWP repo with --repo, and with another label', async () => {
    await api.upsertRepo({ repo: 'app-pool' });
    const result = await importOnce({ repo: 'app-pool', label: 'bug' });
    expect(result.created.map((c) => c.title)).toEqual(['Not for the pool']);
    const index = await indexTasksByIssueUrl(api, 'app-pool');
    expect([...index.keys()]).toEqual(['https://github.com/acme/app/issues/3']);
  });

  it('refuses an OWP repo that does not exist, before asking GitHub', async () => {
    await expect(importOnce({ repo: 'nope' })).rejects.toMatchObject({
      code: 'repo_not_found',
      message: expect.stringContaining('owp admin repo nope'),
    });
    expect(fake.requests).toEqual([]);
  });

  it('reports GitHub refusing the token as the HTTP error, changing nothing', async () => {
    await expect(
      importOnce({ octokit: createGithubClient({ token: 'wrong', baseUrl: fake.baseUrl }) }),
    ).rejects.toMatchObject({ status: 401 });
    expect(await allTasks()).toEqual([]);
  });

  it('turns an odd issue into a valid task rather than failing it', async () => {
    fake.addIssues('acme/app', [
      { title: ' '.repeat(3), labels: ['pool:ready', 'skills:' + 'x'.repeat(80)] },
    ]);
    const result = await importOnce();
    // The blank title falls back to "Issue #11"; the over-long skill is dropped with a warning.
    expect(result.created.map((c) => c.title)).toContain('Issue #11');
    expect(result.warnings).toEqual([
      expect.objectContaining({ number: 11, message: expect.stringContaining('ignored') }),
    ]);
    expect(result.failed).toEqual([]);
  });
});
