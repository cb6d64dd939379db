/**
 * `owp admin import-github-issues` in-process, against a real server on 127.0.0.1:0 and the fake
 * GitHub, with GITHUB_TOKEN and GITHUB_API_URL in the command's environment.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpOwpApi } from '../../../protocol/http-api.ts';
import { startServer } from '../../main.ts';
import { FakeGithub } from '../../github/testing/fake-github.ts';
import type { GithubImportResult } from '../../github/importer.ts';
import type { CliIo } from '../io.ts';
import { runCli } from '../main.ts';

const GITHUB_TOKEN = 'ghp_fake_token_for_the_cli_test';
let dir: string;
let server: Awaited<ReturnType<typeof startServer>>;
let fake: FakeGithub;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'owp-cli-github-'));
  server = await startServer({
    OWP_HOST: '127.0.0.1',
    OWP_PORT: '0',
    OWP_DB_PATH: join(dir, 'owp.db'),
    OWP_LOG_LEVEL: 'silent',
  });
  fake = new FakeGithub(GITHUB_TOKEN);
  await fake.start();
  fake.addIssues('acme/app', [
    { title: 'Parser: empty input', labels: ['pool:ready', 'size:2', 'skills:python'] },
    { title: 'A pull request', labels: ['pool:ready'], pullRequest: true },
    { title: 'Docs', labels: ['pool:ready', 'priority:low', 'estimate:many'] },
  ]);
});

afterAll(async () => {
  await fake.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

class Capture {
  text = '';
  write(chunk: string) {
    this.text += chunk;
    return true;
  }
}

async function owp(
  args: string[],
  env: Record<string, string> = {},
  signal = new AbortController().signal,
  stderr = new Capture(),
) {
  const stdout = new Capture();
  const io: CliIo = {
    stdout,
    stderr,
    env: {
      OWP_ADMIN_TOKEN: server.admin.token,
      GITHUB_TOKEN,
      GITHUB_API_URL: fake.baseUrl,
      ...env,
    },
    homeDir: dir,
    cwd: dir,
    signal,
  };
  const code = await runCli(['--url', server.base, ...args], io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('owp admin import-github-issues', () => {
  it('explains that the OWP repo must exist first', async () => {
    const result = await owp(['admin', 'import-github-issues', 'acme/app']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('create it first (owp admin repo acme/app)');
  });

  it('imports, prints a table and a summary, then reports everything unchanged', async () => {
    expect((await owp(['admin', 'repo', 'acme/app'])).code).toBe(0);
    const first = await owp(['admin', 'import-github-issues', 'acme/app', '--label', 'pool:ready']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/#1 +t_\S+ +created/);
    expect(first.stdout).toMatch(/#3 +t_\S+ +created/);
    expect(first.stdout).toContain(
      'acme/app → acme/app: 2 created, 0 updated, 0 unchanged, 1 pull requests skipped',
    );
    expect(first.stderr).toContain(`labelled pool:ready from ${fake.baseUrl}`);
    expect(first.stderr).toContain('warning: #3: label "estimate:many" ignored');

    const again = await owp(['--json', 'admin', 'import-github-issues', 'acme/app']);
    expect(again.code).toBe(0);
    const result = JSON.parse(again.stdout) as GithubImportResult;
    expect(result).toMatchObject({ created: [], updated: [], failed: [], label: 'pool:ready' });
    expect(result.unchanged.map((u) => u.number).sort()).toEqual([1, 3]);
    expect(result.skipped_pull_requests).toHaveLength(1);
    expect(again.stderr).toContain('import: 0 created, 0 updated, 2 unchanged');
  });

  it('fails with one readable line when GitHub refuses the token, without showing it', async () => {
    const wrong = 'ghp_wrong_token_that_must_not_show';
    const result = await owp(['admin', 'import-github-issues', 'acme/app'], {
      GITHUB_TOKEN: wrong,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('GitHub answered 401 for acme/app');
    expect(result.stderr).toContain('check GITHUB_TOKEN');
    expect(result.stderr + result.stdout).not.toContain(wrong);
  });

  it('runs the write-back beside the server until interrupted', async () => {
    const interrupt = new AbortController();
    const stderr = new Capture();
    const running = owp(
      ['admin', 'github-write-back', '--repos', 'acme/app'],
      {},
      interrupt.signal,
      stderr,
    );
    const admin = new HttpOwpApi({ baseUrl: server.base, adminToken: server.admin.token });
    // The command follows events from the newest one on: lease only once it listens.
    for (let waited = 0; !stderr.text.includes('Ctrl-C to stop') && waited < 10_000; waited += 20) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const { token } = await admin.registerWorker({ name: 'Alice', skills: ['python'] });
    const alice = new HttpOwpApi({ baseUrl: server.base, workerToken: token });
    await alice.heartbeat();
    const { leases } = await alice.getWork();
    expect(leases.length).toBeGreaterThan(0);
    const deadline = Date.now() + 10_000;
    while (fake.comments.length < leases.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(fake.comments).toHaveLength(leases.length);
    interrupt.abort();
    const result = await running;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`stopped: ${leases.length} comments posted`);
    expect(result.stderr).not.toContain(GITHUB_TOKEN);
  });

  it(
    'with --state, catches up at its next start on what happened while it was stopped',
    {
      timeout: 30_000,
    },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'owp-gh-state-'));
      const state = join(dir, 'write-back.json');
      const admin = new HttpOwpApi({ baseUrl: server.base, adminToken: server.admin.token });
      const sidecar = async (work: () => Promise<void>) => {
        const interrupt = new AbortController();
        const stderr = new Capture();
        const run = owp(
          ['admin', 'github-write-back', '--repos', 'acme/app', '--state', state],
          {},
          interrupt.signal,
          stderr,
        );
        for (
          let waited = 0;
          !stderr.text.includes('Ctrl-C to stop') && waited < 10_000;
          waited += 20
        ) {
          await new Promise((r) => setTimeout(r, 20));
        }
        await work();
        interrupt.abort();
        return run;
      };
      const commented = (text: string) => fake.comments.some((c) => c.body.includes(text));
      // A first run keeps its place (an event it has nothing to do for moves it on within a second).
      await sidecar(async () => {
        await admin.registerWorker({ name: 'Bob' });
        await new Promise((r) => setTimeout(r, 1500));
      });
      expect(JSON.parse(readFileSync(state, 'utf8')).after).toBe(
        (await admin.state()).last_event_seq,
      );

      // Cancelled while no write-back runs: the next start, from its place, writes it.
      const [leased] = (await admin.listTasks({ status: 'leased' })).tasks;
      expect(leased).toBeDefined();
      expect(commented('Cancelled in OWP Pool')).toBe(false);
      await admin.cancelTask(leased!.task_id);
      await sidecar(async () => {
        for (let waited = 0; !commented('Cancelled in OWP Pool') && waited < 10_000; waited += 50) {
          await new Promise((r) => setTimeout(r, 50));
        }
      });
      expect(commented('Cancelled in OWP Pool')).toBe(true);
      rmSync(dir, { recursive: true, force: true });
    },
  );

  it(
    'without --state, keeps its place per server beside the credentials and catches up at its next start',
    { timeout: 30_000 },
    async () => {
      // Was: it started from the newest event each time, and a lease made while it was stopped
      // never got its comment.
      const xdg = mkdtempSync(join(tmpdir(), 'owp-gh-xdg-'));
      const state = join(
        xdg,
        'owp',
        'github-write-back',
        `127.0.0.1_${new URL(server.base).port}.json`,
      );
      const admin = new HttpOwpApi({ baseUrl: server.base, adminToken: server.admin.token });
      const sidecar = async (work: () => Promise<void>) => {
        const interrupt = new AbortController();
        const stderr = new Capture();
        const run = owp(
          ['admin', 'github-write-back', '--repos', 'acme/app'],
          { XDG_CONFIG_HOME: xdg },
          interrupt.signal,
          stderr,
        );
        for (
          let waited = 0;
          !stderr.text.includes('Ctrl-C to stop') && waited < 10_000;
          waited += 20
        ) {
          await new Promise((r) => setTimeout(r, 20));
        }
        await work();
        interrupt.abort();
        await run;
        return stderr.text;
      };
      fake.addIssues('acme/app', [
        { title: 'Write-back: default state', labels: ['pool:ready', 'skills:rust'] },
      ]);
      expect((await owp(['admin', 'repo', 'acme/app'])).code).toBe(0);
      expect((await owp(['admin', 'import-github-issues', 'acme/app'])).code).toBe(0);

      const first = await sidecar(async () => {
        await admin.registerWorker({ name: 'Eve' });
        await new Promise((r) => setTimeout(r, 1500));
      });
      expect(first).toContain(`its place kept in ${state}`);
      expect(JSON.parse(readFileSync(state, 'utf8')).after).toBe(
        (await admin.state()).last_event_seq,
      );

      // Leased while no write-back runs: the next start, from its place, comments.
      const { token } = await admin.registerWorker({ name: 'Dana', skills: ['rust'] });
      const dana = new HttpOwpApi({ baseUrl: server.base, workerToken: token });
      await dana.heartbeat();
      expect((await dana.getWork()).leases.map((l) => l.title)).toEqual([
        'Write-back: default state',
      ]);
      const commented = () => fake.comments.some((c) => c.body.includes('Dana'));
      await sidecar(async () => {
        for (let waited = 0; !commented() && waited < 10_000; waited += 50) {
          await new Promise((r) => setTimeout(r, 50));
        }
      });
      expect(commented()).toBe(true);

      // --no-state: from the newest event, keeping no place.
      const fresh = await owp(
        ['admin', 'github-write-back', '--repos', 'acme/app', '--no-state'],
        {
          XDG_CONFIG_HOME: xdg,
        },
        AbortSignal.abort(),
      );
      expect(fresh.code).toBe(0);
      expect(fresh.stderr).toContain('from the newest event (--no-state)');
      rmSync(xdg, { recursive: true, force: true });
    },
  );

  it('needs the repositories and the token for the write-back', async () => {
    const none = await owp(['admin', 'github-write-back']);
    expect(none).toMatchObject({ code: 2 });
    expect(none.stderr).toContain('OWP_GITHUB_WRITEBACK_REPOS');
    const noToken = await owp(['admin', 'github-write-back', '--repos', 'acme/app'], {
      GITHUB_TOKEN: '',
    });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('GITHUB_TOKEN is not set');
  });

  it('follows the PRs of tasks with a PR open: a merged one marks its task merged', async () => {
    const api = new HttpOwpApi({ baseUrl: server.base, adminToken: server.admin.token });
    await api.upsertRepo({ repo: 'acme/prs', max_open_prs: 5 });
    const registered = await api.registerWorker({ name: 'PR opener', capacity_points: 5 });
    const worker = new HttpOwpApi({ baseUrl: server.base, workerToken: registered.token });
    await worker.heartbeat({ status: 'idle' });
    const task = await api.createTask({ repo: 'acme/prs', title: 'Ship it' });
    await worker.getWork();
    await worker.updateStatus(task.task_id, { status: 'in_progress' });
    await worker.updateStatus(task.task_id, {
      status: 'pr_opened',
      artifact: { pr_url: 'https://github.com/acme/prs/pull/42' },
    });
    fake.setPull('acme/prs', 42, { state: 'closed', merged: true });

    const once = await owp(['admin', 'github-pr-sync', '--repos', 'acme/prs', '--once']);
    expect(once).toMatchObject({
      code: 0,
      stdout: '1 open PRs read: 1 merged, 0 back in the queue, 0 could not be read\n',
    });
    expect(once.stderr).toContain(
      `PR sync: https://github.com/acme/prs/pull/42 was merged on GitHub; task ${task.task_id} marked merged`,
    );
    expect(once.stderr).not.toContain(GITHUB_TOKEN);
    expect((await api.getTask(task.task_id)).status).toBe('merged');

    const none = await owp(['admin', 'github-pr-sync', '--once'], { GITHUB_TOKEN: 'x' });
    expect(none).toMatchObject({ code: 2 });
    expect(none.stderr).toContain('OWP_GITHUB_PR_SYNC_REPOS');
  });

  it('refuses a malformed repository name as a usage error', async () => {
    const result = await owp(['admin', 'import-github-issues', 'not-a-repo']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('write it as owner/name');
  });
});
