/**
 * The write-back end to end: a real OWP server in-process on 127.0.0.1:0, a worker over HTTP,
 * and a fake GitHub recording the comments. The write-back hears the engine in-process (as
 * `owp serve` would wire it) or over the SSE stream (against a remote server).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OwpApi } from '../../protocol/api.ts';
import type { WorkLease } from '../../protocol/leases.ts';
import { HttpOwpApi } from '../../protocol/http-api.ts';
import { LocalOwpApi } from '../../scheduler/local-api.ts';
import { startServer } from '../main.ts';
import { importGithubIssues } from './importer.ts';
import { FakeGithub } from './testing/fake-github.ts';
import {
  COMMENT_MARKER,
  GithubWriteBack,
  parseWriteBackRepos,
  type WriteBackFailure,
} from './write-back.ts';

const GITHUB_TOKEN = 'ghp_fake_token_for_the_write_back';

let dir: string;
let server: Awaited<ReturnType<typeof startServer>>;
let admin: HttpOwpApi;
let fake: FakeGithub;
const writeBacks: GithubWriteBack[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'owp-gh-writeback-'));
  server = await startServer({
    OWP_HOST: '127.0.0.1',
    OWP_PORT: '0',
    OWP_DB_PATH: join(dir, 'owp.db'),
    OWP_LOG_LEVEL: 'silent',
  });
  admin = new HttpOwpApi({ baseUrl: server.base, adminToken: server.admin.token });
  fake = new FakeGithub(GITHUB_TOKEN);
  await fake.start();
  fake.addIssues('acme/app', [
    { title: 'Parser: empty input', labels: ['pool:ready', 'skills:python'] },
  ]);
  fake.addIssues('acme/other', [{ title: 'Go thing', labels: ['pool:ready', 'skills:go'] }]);
  for (const repo of ['acme/app', 'acme/other']) {
    await admin.upsertRepo({ repo });
    await importGithubIssues(admin, {
      github: repo,
      client: { token: GITHUB_TOKEN, baseUrl: fake.baseUrl },
    });
  }
  fake.requests.length = 0;
});

afterEach(async () => {
  for (const writeBack of writeBacks.splice(0)) await writeBack.stop();
  await fake.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A write-back for acme/app only, fast back-off, hearing the engine in-process by default. */
async function startWriteBack(
  extra: Partial<ConstructorParameters<typeof GithubWriteBack>[0]> = {},
): Promise<{ writeBack: GithubWriteBack; failures: WriteBackFailure[]; log: string[] }> {
  const failures: WriteBackFailure[] = [];
  const log: string[] = [];
  const writeBack = new GithubWriteBack({
    api: new LocalOwpApi(server.engine, { admin: true }),
    repos: parseWriteBackRepos('acme/app, not a repo'),
    client: { token: GITHUB_TOKEN, baseUrl: fake.baseUrl },
    retry: { baseDelayMs: 10, maxDelayMs: 40 },
    onFailure: (failure) => failures.push(failure),
    log: (level, message) => log.push(`${level}: ${message}`),
    ...extra,
  });
  writeBacks.push(writeBack);
  await writeBack.start();
  return { writeBack, failures, log };
}

/** The worker starts its task and opens the PR: two status writes under its lease. */
async function openPr(api: OwpApi, lease: WorkLease, prUrl: string): Promise<void> {
  const fence = { lease_id: lease.lease_id, epoch: lease.epoch };
  await api.updateStatus(lease.task_id, { status: 'in_progress', ...fence });
  await api.updateStatus(lease.task_id, {
    status: 'pr_opened',
    artifact: { pr_url: prUrl },
    ...fence,
  });
}

/** A worker holding `skills`, online, over HTTP. */
async function worker(
  name: string,
  skills: string[],
  github_handle: string | null = name.toLowerCase(),
): Promise<OwpApi> {
  const { token } = await admin.registerWorker({ name, github_handle, skills });
  const api = new HttpOwpApi({ baseUrl: server.base, workerToken: token });
  await api.heartbeat();
  return api;
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('GithubWriteBack', () => {
  it('comments once when a task is leased, then edits that comment when the PR opens', async () => {
    const { writeBack, failures } = await startWriteBack();
    const alice = await worker('Alice', ['python']);
    const { leases } = await alice.getWork();
    expect(leases).toHaveLength(1);
    // The scheduler answered before GitHub heard anything: the comment is posted afterwards.
    expect(fake.comments).toHaveLength(0);

    await until(() => fake.comments.length === 1, 'the lease comment');
    const [comment] = fake.comments;
    expect(comment).toMatchObject({ repo: 'acme/app', issue_number: 1, edits: 0 });
    expect(comment!.body).toContain(COMMENT_MARKER);
    expect(comment!.body).toContain('Leased to `Alice (GitHub: alice)`');
    expect(comment!.body).toContain(`until ${leases[0]!.lease_expires_at}`);

    await openPr(alice, leases[0]!, 'https://github.com/acme/app/pull/42');
    await until(() => comment!.edits === 1, 'the PR edit');
    expect(fake.comments).toHaveLength(1);
    expect(comment!.body).toContain('Pull request opened by `Alice (GitHub: alice)`');
    expect(comment!.body).toContain('<https://github.com/acme/app/pull/42>');
    await writeBack.idle();
    expect(writeBack.counts).toMatchObject({ posted: 1, edited: 1, unchanged: 1, failed: 0 });
    expect(failures).toEqual([]);
    // Every GitHub call carried the token in its header only.
    for (const request of fake.requests) {
      expect(request.authorization).toBe(`token ${GITHUB_TOKEN}`);
      expect(request.url).not.toContain(GITHUB_TOKEN);
    }
  });

  it('retries a transient GitHub 500 with back-off and still edits the same comment', async () => {
    const registry = new Registry();
    const { writeBack, failures, log } = await startWriteBack({ registry });
    const alice = await worker('Alice', ['python']);
    const [lease] = (await alice.getWork()).leases;
    await until(() => fake.comments.length === 1, 'the lease comment');
    await writeBack.idle();

    fake.failNext('PATCH', /\/issues\/comments\/\d+$/, 500, { times: 2 });
    await admin.cancelTask(lease!.task_id);
    await until(() => fake.comments[0]!.edits === 1, 'the edit after two 500s');
    await writeBack.idle();
    expect(fake.comments).toHaveLength(1);
    expect(fake.comments[0]!.body).toContain('Cancelled in OWP Pool');
    expect(writeBack.counts).toMatchObject({ posted: 1, edited: 1, retried: 2, failed: 0 });
    expect(failures).toEqual([]);
    expect(log.filter((line) => line.startsWith('warn:'))).toHaveLength(2);
    expect(await registry.metrics()).toContain('owp_github_writeback_total{outcome="retried"} 2');
  });

  it('gives up after its bounded retries and reports the failure', async () => {
    const { writeBack, failures, log } = await startWriteBack({
      retry: { attempts: 3, baseDelayMs: 5 },
    });
    fake.failNext('POST', /\/comments$/, 502, { times: 10 });
    const alice = await worker('Alice', ['python']);
    await alice.getWork();
    await until(() => failures.length === 1, 'the failure report');
    expect(failures[0]).toMatchObject({
      issue_url: 'https://github.com/acme/app/issues/1',
      attempts: 3,
      message: expect.stringContaining('GitHub answered 502'),
    });
    expect(writeBack.counts).toMatchObject({ retried: 2, failed: 1, posted: 0 });
    expect(log.at(-1)).toMatch(/^error: github write-back failed/);
    expect(log.join('\n')).not.toContain(GITHUB_TOKEN);
  });

  it('does not retry what cannot succeed (a 404) and leaves repos not opted in alone', async () => {
    const { writeBack, failures } = await startWriteBack();
    const gopher = await worker('Gopher', ['go']);
    expect((await gopher.getWork()).leases).toHaveLength(1);
    fake.failNext('GET', /\/issues\/1\/comments$/, 404);
    const alice = await worker('Alice', ['python']);
    await alice.getWork();
    await until(() => failures.length === 1, 'the 404 failure');
    await writeBack.idle();
    expect(failures[0]!.attempts).toBe(1);
    expect(fake.comments).toEqual([]);
    expect(fake.requests.some((r) => r.url.includes('acme/other'))).toBe(false);
  });

  it('after a restart finds its comment by the marker instead of posting another', async () => {
    const first = await startWriteBack();
    const alice = await worker('Alice', ['python']);
    const [lease] = (await alice.getWork()).leases;
    await until(() => fake.comments.length === 1, 'the lease comment');
    await first.writeBack.stop();

    // A comment by someone else on the same issue comes first; the marker tells them apart.
    fake.comments.unshift({ id: 1, repo: 'acme/app', issue_number: 1, body: 'me too', edits: 0 });
    await startWriteBack();
    await openPr(alice, lease!, 'https://github.com/acme/app/pull/7');
    await until(() => fake.comments[1]!.edits === 1, 'the edit by the new instance');
    expect(fake.comments).toHaveLength(2);
    expect(fake.comments[0]).toMatchObject({ body: 'me too', edits: 0 });
  });

  it('posts its comment again when someone deleted it on GitHub', async () => {
    const { writeBack, failures } = await startWriteBack();
    const alice = await worker('Alice', ['python']);
    const [lease] = (await alice.getWork()).leases;
    await until(() => fake.comments.length === 1, 'the lease comment');
    await writeBack.idle();

    fake.comments.splice(0); // deleted on the issue
    await openPr(alice, lease!, 'https://github.com/acme/app/pull/9');
    await until(() => fake.comments.length === 1, 'the comment posted again');
    await writeBack.idle();
    expect(fake.comments[0]!.body).toContain('<https://github.com/acme/app/pull/9>');
    expect(failures).toEqual([]);
    expect(writeBack.counts).toMatchObject({ posted: 2, failed: 0 });
  });

  it('does after a restart the jobs it had not done when it stopped', async () => {
    let place: number | null = null;
    const resume = { load: () => place, save: (after: number) => void (place = after) };
    const first = await startWriteBack({ resume, retry: { baseDelayMs: 5_000 } });
    const alice = await worker('Alice', ['python']);
    const [lease] = (await alice.getWork()).leases;
    await until(() => fake.comments.length === 1, 'the lease comment');
    await first.writeBack.idle();
    expect(place).toBe((await admin.state()).last_event_seq);

    // Cancelled while GitHub fails: still failing when the process stops (its last try is cut
    // short by the stop, and fails too).
    fake.failNext('PATCH', /\/issues\/comments\/\d+$/, 502, { times: 2 });
    await admin.cancelTask(lease!.task_id);
    await until(() => first.writeBack.counts.retried === 1, 'the first retry');
    await first.writeBack.stop();
    expect(fake.comments[0]!.body).toContain('Leased to');

    const second = await startWriteBack({ resume });
    await until(() => fake.comments[0]!.body.includes('Cancelled in OWP Pool'), 'the catch-up');
    await second.writeBack.idle();
    expect(fake.comments).toHaveLength(1);
    expect(place).toBe((await admin.state()).last_event_seq);
  });

  it('works against a remote server too, hearing the events over SSE', async () => {
    const { writeBack } = await startWriteBack({ api: admin });
    const alice = await worker('Alice', ['python']);
    await alice.getWork();
    await until(() => fake.comments.length === 1, 'the lease comment over SSE');
    await writeBack.idle();
    expect(writeBack.counts.posted).toBe(1);
  });

  it('makes worker-chosen text inert in the comment', async () => {
    await startWriteBack();
    const mallory = await worker('@everyone [x](https://evil.example)`', ['python'], null);
    const [lease] = (await mallory.getWork()).leases;
    await until(() => fake.comments.length === 1, 'the lease comment');
    expect(fake.comments[0]!.body).toContain(
      'Leased to `@everyone [x](https://evil.example) ` until',
    );
    // The protocol refuses non-http(s) links outright; an http one can still try Markdown tricks.
    await expect(openPr(mallory, lease!, 'javascript:alert(1)')).rejects.toThrow(/http\(s\) URL/);
    await openPr(mallory, lease!, 'https://evil.example/x)[@everyone](https://evil.example');
    await until(() => fake.comments[0]!.edits === 1, 'the PR edit');
    expect(fake.comments[0]!.body).toContain(
      '<https://evil.example/x)[@everyone](https://evil.example>',
    );
  });
});
