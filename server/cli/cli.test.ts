/**
 * The `owp` command line against a real server on 127.0.0.1 (port 0): every command goes over the
 * network exactly as a person's would. Most tests run the program in-process with captured
 * streams; the last ones spawn the real executable.
 */
import { execFile } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpOwpApi } from '../../protocol/http-api.ts';
import { startServer } from '../main.ts';
import type { CliIo } from './io.ts';
import { runCli } from './main.ts';

const execFileAsync = promisify(execFile);
const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

type Server = Awaited<ReturnType<typeof startServer>>;

/** A temporary directory removed after the test file. */
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'owp-cli-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A server on a free port of 127.0.0.1 with its database (and admin-token file) in `dir`. */
async function startTestServer(dir = tempDir()): Promise<Server> {
  return startServer({
    OWP_HOST: '127.0.0.1',
    OWP_PORT: '0',
    OWP_DB_PATH: join(dir, 'owp.db'),
    OWP_LOG_LEVEL: 'silent',
  });
}

class Capture {
  text = '';
  constructor(
    readonly isTTY = false,
    private readonly onWrite?: (text: string) => void,
  ) {}
  write(chunk: string) {
    this.text += chunk;
    this.onWrite?.(this.text);
    return true;
  }
}

interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  home?: string;
  ttyStderr?: boolean;
  signal?: AbortSignal;
  /** Sees stdout as it grows, for the long-running commands. */
  stdout?: Capture;
  /** Called with all of stderr so far, after each write. */
  onStderr?: (text: string) => void;
  /** What the command reads from stdin (a pasted token). */
  stdin?: string;
  /** stdin as a terminal would give it: raw mode switched by the command, keys one at a time. */
  terminal?: { keys: string[]; rawModes: boolean[] };
}

/** Runs `owp ARGS…` in-process and returns what a shell would see. */
async function owp(args: string[], options: RunOptions = {}) {
  const stdout = options.stdout ?? new Capture();
  const stderr = new Capture(options.ttyStderr, options.onStderr);
  const io: CliIo = {
    stdout,
    stderr,
    env: options.env ?? {},
    homeDir: options.home ?? tempDir(),
    cwd: options.cwd ?? tempDir(),
    signal: options.signal ?? new AbortController().signal,
    ...(options.stdin !== undefined ? { stdin: Readable.from([options.stdin]) } : {}),
    ...(options.terminal
      ? {
          stdin: Object.assign(Readable.from(options.terminal.keys), {
            isTTY: true,
            setRawMode: (raw: boolean) => options.terminal!.rawModes.push(raw),
          }),
        }
      : {}),
  };
  const code = await runCli(args, io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** A port on 127.0.0.1 that nothing listens on: bound once by the OS, then closed. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const { port } = probe.address() as AddressInfo;
  await new Promise((done) => probe.close(done));
  return port;
}

/** Polls until `check` holds, for output written by a command that is still running. */
async function until(check: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for output');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const IMPORT_FILE = `# three tasks for demo
- title: "Docs: Add quickstart to README"
  description: "Add a concise quickstart section."
  estimate_points: 1
  priority: 50
  required_skills: ["docs"]
  area: "docs"
  tier: 0
- title: "Parser: handle empty input"
  estimate_points: 2
  priority: 40
  required_skills: ["python"]
  area: "parser"
- title: "Docs: FAQ"
  estimate_points: 1
  priority: 10
  required_skills: ["docs"]
  area: "docs"
`;

const INVALID_IMPORT_FILE = `- title: "Fine"
- title: "Too big"
  estimate_points: 500
- description: "no title"
`;

/**
 * A server of its own for a describe block (started before its tests, stopped after them), with
 * `owp` against it as the admin and as the worker of a config file.
 */
function serverForBlock() {
  const block = {
    server: undefined as unknown as Server,
    dir: '',
    admin: (args: string[], options: RunOptions = {}) =>
      owp(['--url', block.server.base, ...args], {
        ...options,
        env: { OWP_ADMIN_TOKEN: block.server.admin.token, ...options.env },
      }),
    asWorker: (config: string, args: string[], options?: RunOptions) =>
      owp(['--url', block.server.base, '--config', config, ...args], options),
  };
  beforeAll(async () => {
    block.server = await startTestServer();
    block.dir = tempDir();
  });
  afterAll(async () => {
    await block.server.stop();
  });
  return block;
}

describe('owp against a real server', () => {
  const block = serverForBlock();
  const { admin, asWorker } = block;
  let server: Server;
  let dir: string;
  beforeAll(() => {
    ({ server, dir } = block);
  });
  const configA = () => join(dir, 'alice', 'config.json');
  const configB = () => join(dir, 'bob', 'config.json');

  it('runs a pool: repo, YAML import, two workers, leases, a task to merged, the counts', async () => {
    const repo = await admin(['admin', 'repo', 'demo', '--max-open-prs', '3', '--area-locks']);
    expect(repo).toMatchObject({ code: 0, stderr: '' });
    expect(repo.stdout).toMatch(/^repo demo saved\n/);
    expect(repo.stdout).toMatch(/max open PRs\s+3/);
    expect(repo.stdout).toMatch(/area locks\s+yes/);
    const noTemplate = await admin(['admin', 'repo', 'demo', '--pr-template', '.github/pr.md'], {
      cwd: dir,
    });
    expect(noTemplate).toMatchObject({
      code: 1,
      stderr: 'owp: --pr-template cannot read .github/pr.md: no such file\n',
    });

    // An invalid file is refused whole: every bad item is named and nothing reaches the server.
    writeFileSync(join(dir, 'bad.yaml'), INVALID_IMPORT_FILE);
    const refused = await admin(['admin', 'import', 'bad.yaml', '--repo', 'demo'], { cwd: dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('owp: item 2 (line 2) "Too big": estimate_points:');
    expect(refused.stderr).toContain('owp: item 3 (line 4): title:');
    expect(refused.stderr).toContain('owp: 2 of 3 items in bad.yaml are invalid; nothing was sent');
    const none = await admin(['--json', 'admin', 'tasks']);
    expect(JSON.parse(none.stdout).tasks).toEqual([]);

    writeFileSync(join(dir, 'tasks.yaml'), IMPORT_FILE);
    const imported = await admin(['admin', 'import', 'tasks.yaml', '--repo', 'demo'], { cwd: dir });
    expect(imported).toMatchObject({ code: 0 });
    expect(imported.stdout).toBe('imported 3 of 3 tasks into demo\n');
    // stderr is not a terminal here: one summary line instead of a progress bar.
    expect(imported.stderr).toBe('import: 3/3 sent, 3 created, 0 failed\n');

    const tasks = await admin(['admin', 'tasks', '--repo', 'demo']);
    const lines = tasks.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+REPO\s+STATUS\s+PRI\s+PTS\s+SKILLS\s+AREA\s+ASSIGNEE\s+TITLE$/);
    expect(lines).toHaveLength(4);
    expect(tasks.stdout).toMatch(/demo\s+ready\s+50\s+1\s+docs\s+docs\s+-\s+Docs: Add quickstart/);
    // Newest first, a page at a time: the next page is asked for in the same order.
    const titles = (out: string) =>
      (JSON.parse(out) as { tasks: Array<{ title: string }> }).tasks.map((t) => t.title);
    const oldest = titles((await admin(['--json', 'admin', 'tasks', '--repo', 'demo'])).stdout);
    const newest = await admin(['admin', 'tasks', '--repo', 'demo', '--newest', '--limit', '2']);
    const more = /^more: --newest --cursor (\S+)$/m.exec(newest.stderr);
    expect(more).not.toBeNull();
    const rest = await admin([
      '--json',
      'admin',
      'tasks',
      '--repo',
      'demo',
      '--newest',
      '--cursor',
      more![1]!,
    ]);
    expect(titles(rest.stdout)).toEqual([oldest[0]]);
    expect(newest.stdout).toContain(oldest[2]!);

    // Two workers, each with its own config file; the token is saved, not shown.
    const alice = await asWorker(configA(), [
      'worker',
      'register',
      '--name',
      'Alice',
      '--skills',
      'docs',
    ]);
    expect(alice.code).toBe(0);
    expect(alice.stdout).toMatch(
      /^registered worker w_\S+ \(Alice\) at http:\/\/127\.0\.0\.1:\d+\n/,
    );
    expect(alice.stdout).toContain(`credentials saved to ${configA()} (mode 0600)`);
    expect(alice.stdout).not.toMatch(/token/i);
    expect(statSync(configA()).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'alice')).mode & 0o777).toBe(0o700);

    const bob = await asWorker(configB(), [
      '--json',
      'worker',
      'register',
      '--name',
      'Bob',
      '--skills',
      'python',
      '--points',
      '3',
    ]);
    expect(bob.code).toBe(0);
    const bobJson = JSON.parse(bob.stdout);
    expect(bobJson).toMatchObject({ worker_id: expect.stringMatching(/^w_/), config: configB() });
    // Not even in --json unless asked: script output ends up in logs.
    expect(bobJson).not.toHaveProperty('token');
    expect(bob.stdout).not.toContain(JSON.parse(readFileSync(configB(), 'utf8')).token);
    expect(statSync(configB()).mode & 0o777).toBe(0o600);

    // `worker next`: a heartbeat, then the leases the scheduler granted, by skill.
    const aliceNext = await asWorker(configA(), ['worker', 'next']);
    expect(aliceNext.code).toBe(0);
    const aliceLines = aliceNext.stdout.trimEnd().split('\n');
    expect(aliceLines[0]).toMatch(
      /^TASK\s+LEASE\s+STATUS\s+REPO\s+PTS\s+PRI\s+AREA\s+EXPIRES\s+TITLE$/,
    );
    // Area locks: only one of the two docs tasks may be out at a time; the higher priority wins.
    expect(aliceLines).toHaveLength(2);
    expect(aliceLines[1]).toMatch(
      /^t_\S+\s+l_\S+\s+leased\s+demo\s+1\s+50\s+docs\s+in 30m\s+Docs: Add quickstart to README$/,
    );
    const bobNext = await asWorker(configB(), ['--json', 'worker', 'next']);
    const bobWork = JSON.parse(bobNext.stdout);
    expect(bobWork.worker_id).toBe(bobJson.worker_id);
    expect(bobWork.leases).toEqual([
      expect.objectContaining({ title: 'Parser: handle empty input', status: 'leased' }),
    ]);

    // Alice carries her task to merged.
    const taskId = aliceLines[1]!.split(/\s+/)[0]!;
    const started = await asWorker(configA(), ['worker', 'status', taskId, 'in_progress']);
    expect(started).toMatchObject({ code: 0, stdout: `task ${taskId} is now in_progress\n` });
    const pr = await asWorker(configA(), [
      '--json',
      'worker',
      'status',
      taskId,
      'pr_opened',
      '--pr-url',
      'https://github.com/demo/demo/pull/7',
    ]);
    expect(pr.code).toBe(0);
    expect(JSON.parse(pr.stdout).task).toMatchObject({
      status: 'pr_opened',
      artifact: expect.objectContaining({ pr_url: 'https://github.com/demo/demo/pull/7' }),
    });
    const merged = await asWorker(configA(), ['worker', 'status', taskId, 'merged']);
    expect(merged).toMatchObject({ code: 0, stdout: `task ${taskId} is now merged\n` });

    const state = await admin(['--json', 'admin', 'state']);
    expect(state.code).toBe(0);
    expect(JSON.parse(state.stdout)).toMatchObject({
      workers_online: 2,
      workers_total: 2,
      tasks_merged: 1,
      tasks_leased: expect.any(Number),
      tasks_pr_opened: 0,
    });
    const human = await admin(['admin', 'state']);
    expect(human.stdout).toMatch(/^workers online\s+2$/m);
    expect(human.stdout).toMatch(/^tasks merged\s+1$/m);
    // Every count the server gives has its line, in lifecycle order.
    expect(human.stdout.split('\n').map((line) => line.replace(/\s+\d+$/, ''))).toEqual([
      'workers online',
      'workers total',
      'tasks ready',
      'tasks offered',
      'tasks leased',
      'tasks in progress',
      'tasks blocked',
      'tasks PR opened',
      'tasks merged',
      'tasks failed',
      'tasks cancelled',
      '',
    ]);

    const workers = await admin(['admin', 'workers']);
    expect(workers.stdout).toMatch(/Alice\s+idle\s+yes\s+docs\s+\d\/5\s+\d\/2\s+1\s+/);
    expect(workers.stdout).toMatch(/Bob\s+\w+\s+yes\s+python\s+2\/3\s+1\/2\s+0\s+/);
  });

  it('pauses, releases, resumes, requeues and cancels', async () => {
    const work = JSON.parse((await asWorker(configB(), ['--json', 'worker', 'next'])).stdout);
    const lease = work.leases[0];
    const bobId = work.worker_id as string;

    // Paused first, so the released task cannot be granted straight back to Bob.
    const paused = await admin(['admin', 'pause', bobId]);
    expect(paused).toMatchObject({ code: 0, stdout: `worker ${bobId} (Bob) paused\n` });
    // By the task's id, as `worker status` names it: the lease held on it is released.
    const released = await asWorker(configB(), [
      'worker',
      'release',
      lease.task_id,
      '--reason',
      'out of time',
    ]);
    expect(released).toMatchObject({
      code: 0,
      stdout: `released lease ${lease.lease_id}; task ${lease.task_id} is back in the queue\n`,
    });
    const twice = await asWorker(configB(), ['worker', 'release', lease.task_id]);
    expect(twice).toMatchObject({
      code: 1,
      stderr: `owp: you hold no lease on task ${lease.task_id}\n`,
    });
    const idle = await asWorker(configB(), ['worker', 'next']);
    expect(idle.stdout).toBe(
      'no leases: An admin paused you: you get no new work until they resume you.\n',
    );
    // Why the released task waits: the online workers, each by the rule that stops it.
    const why = await admin(['admin', 'why', lease.task_id]);
    expect(why.code).toBe(0);
    expect(why.stdout).toMatch(
      new RegExp(`^${lease.task_id} \\(ready\\): None of the 2 online workers may take it:\n`),
    );
    expect(why.stdout).toContain('\n  1 worker is paused: Bob\n');
    const whyJson = JSON.parse((await admin(['--json', 'admin', 'why', lease.task_id])).stdout);
    expect(whyJson).toMatchObject({ task_id: lease.task_id, blocker: null });

    const resumed = await admin(['admin', 'resume', bobId]);
    expect(resumed.stdout).toBe(`worker ${bobId} (Bob) resumed\n`);
    // The task Bob gave back waits in the queue (the scheduler lets it cool off before offering it
    // to him again); an admin cancels it.
    const cancelled = await admin(['--json', 'admin', 'cancel', lease.task_id]);
    expect(JSON.parse(cancelled.stdout)).toMatchObject({
      task_id: lease.task_id,
      status: 'cancelled',
    });

    // Alice holds the second docs task now that the first is merged; an admin takes it back.
    const aliceWork = JSON.parse((await asWorker(configA(), ['--json', 'worker', 'next'])).stdout);
    expect(aliceWork.leases).toEqual([expect.objectContaining({ title: 'Docs: FAQ' })]);
    const faq = aliceWork.leases[0].task_id as string;
    // Paused, or the scheduler would grant the requeued task straight back to her.
    await admin(['admin', 'pause', aliceWork.worker_id]);
    const requeued = await admin(['admin', 'requeue', faq]);
    expect(requeued).toMatchObject({ code: 0, stdout: `task ${faq} is now ready\n` });
    const again = await admin(['admin', 'requeue', faq]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^owp: .+ \(invalid_transition\)\n$/);
    await admin(['admin', 'resume', aliceWork.worker_id]);

    // She takes it again and opens its PR; the admin records the merge she did not report.
    const back = JSON.parse((await asWorker(configA(), ['--json', 'worker', 'next'])).stdout);
    expect(back.leases.map((l: { task_id: string }) => l.task_id)).toContain(faq);
    await asWorker(configA(), ['worker', 'status', faq, 'in_progress']);
    // Without its URL the PR is accepted (the v0.1 wire allows it), with a word about it.
    const noUrl = await asWorker(configA(), ['worker', 'status', faq, 'pr_opened']);
    expect(noUrl).toMatchObject({ code: 0, stdout: `task ${faq} is now pr_opened\n` });
    expect(noUrl.stderr).toContain('no PR URL recorded: send it with --pr-url');
    const withUrl = await asWorker(configA(), [
      'worker',
      'status',
      faq,
      'pr_opened',
      '--pr-url',
      'https://github.com/demo/demo/pull/8',
    ]);
    expect(withUrl).toMatchObject({ code: 0, stderr: '' });
    const merged = await admin(['admin', 'merge', faq]);
    expect(merged).toMatchObject({ code: 0, stdout: `task ${faq} is now merged\n` });
  });

  it('fails with the server message and code, exit 1, and never prints a token', async () => {
    const unknown = await admin(['admin', 'requeue', 't_nope']);
    expect(unknown).toEqual({
      code: 1,
      stdout: '',
      stderr: 'owp: No task with id t_nope. (task_not_found)\n',
    });

    const wrongToken = 'owpa_definitely-not-the-right-token';
    const denied = await owp(['--url', server.base, '--admin-token', wrongToken, 'admin', 'state']);
    expect(denied).toEqual({
      code: 1,
      stdout: '',
      stderr: 'owp: The admin token is wrong. (unauthorized)\n',
    });

    const badWorker = join(dir, 'bad-worker.json');
    writeFileSync(
      badWorker,
      JSON.stringify({ url: server.base, worker_id: 'w_x', token: 'secret-token-that-is-wrong' }),
    );
    const rejected = await owp(['--config', badWorker, 'worker', 'next']);
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toBe(
      'owp: The worker token is not valid. (unauthorized)\n' +
        'owp: if an admin gave worker w_x a new token (`owp admin new-token`), save it with `owp worker token`; else `owp worker register --force` makes a new worker (a new id)\n',
    );

    // Was: zod's pretty form, two lines per issue ("✖ …" then "→ at title").
    const blank = await admin([
      'admin',
      'task',
      '--repo',
      'nope',
      '--title',
      ' ',
      '--priority',
      '5',
    ]);
    expect(blank).toMatchObject({
      code: 1,
      stderr:
        'owp: Invalid body: title: Too small: expected string to have >=1 characters; title: must contain a visible character (validation_failed)\n',
    });

    const unknownRepo = await admin(['admin', 'task', '--repo', 'nope', '--title', 'x']);
    expect(unknownRepo.code).toBe(1);
    expect(unknownRepo.stderr).toMatch(
      /^owp: .+ \(unknown_repo\)\nowp: `owp admin repo nope` makes it/,
    );

    const closedPort = await freePort();
    const noServer = await owp([
      '--url',
      `http://127.0.0.1:${closedPort}`,
      '--admin-token',
      'x'.repeat(20),
      'admin',
      'state',
    ]);
    expect(noServer.code).toBe(1);
    expect(noServer.stderr).toBe(
      `owp: cannot reach http://127.0.0.1:${closedPort}: ECONNREFUSED\n`,
    );

    const noCredentials = await owp(['--config', join(dir, 'nobody.json'), 'worker', 'next']);
    expect(noCredentials.code).toBe(1);
    expect(noCredentials.stderr).toContain('no worker credentials in');
  });

  it('exits 2 on usage errors, before calling the server', async () => {
    const badPoints = await admin([
      'admin',
      'task',
      '--repo',
      'demo',
      '--title',
      'x',
      '--points',
      'lots',
    ]);
    expect(badPoints.code).toBe(2);
    expect(badPoints.stderr).toContain(
      "owp: option '--points <n>' argument 'lots' is invalid. expected a whole number from 1 to 100",
    );
    const badStatus = await asWorker(configA(), ['worker', 'status', 't_1', 'done']);
    expect(badStatus).toMatchObject({ code: 2 });
    expect(badStatus.stderr).toBe(
      'owp: status must be one of in_progress, blocked, pr_opened, merged, not "done"\n',
    );
    const missing = await admin(['admin', 'import', 'tasks.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--repo <repo>' not specified");
    const unknownCommand = await owp(['admni']);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain('(Did you mean admin?)');
    const noToken = await owp(['--url', server.base, 'admin', 'state']);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(/^owp: no admin token/);
    const help = await owp(['worker', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: owp worker');
  });

  it('takes the API address (…/v1) for the server, and refuses a URL carrying a secret', async () => {
    // Was: /v1/v1/admin/state, "No endpoint" (route_not_found).
    const state = await admin(['--url', `${server.base}/v1/`, '--json', 'admin', 'state']);
    expect(state.code).toBe(0);
    expect(JSON.parse(state.stdout)).toHaveProperty('workers_online');
    for (const url of [
      `http://owp:s3cret-password@127.0.0.1:${new URL(server.base).port}`,
      `${server.base}/?token=owpa_s3cret-in-a-query`,
    ]) {
      const refused = await owp(['--url', url, '--admin-token', 'x'.repeat(20), 'admin', 'state']);
      expect(refused).toMatchObject({ code: 2, stdout: '' });
      expect(refused.stderr).toMatch(/^owp: --url takes the server's address only/);
      expect(refused.stderr).not.toMatch(/s3cret/);
    }
  });

  it('reads the admin token from the file the server wrote beside its database', async () => {
    const tokenFile = join(server.config.OWP_DB_PATH, '..', 'admin-token');
    expect(server.admin.source).toBe(resolve(tokenFile));
    const state = await owp(['--url', server.base, '--json', 'admin', 'state'], {
      env: { OWP_DB_PATH: server.config.OWP_DB_PATH },
    });
    expect(state.code).toBe(0);
    expect(JSON.parse(state.stdout)).toHaveProperty('tasks_merged', 2);

    // That file belongs to a server on this machine: it is not offered to another host.
    const remote = await owp(['--url', 'http://owp.example.invalid', 'admin', 'state'], {
      env: { OWP_DB_PATH: server.config.OWP_DB_PATH },
    });
    expect(remote.code).toBe(2);
    expect(remote.stderr).toMatch(/^owp: no admin token/);
  });

  it('saves credentials under XDG_CONFIG_HOME by default, refusing to overwrite them', async () => {
    const xdg = join(tempDir(), 'xdg');
    const env = { XDG_CONFIG_HOME: xdg };
    const first = await owp(
      ['--url', server.base, 'worker', 'register', '--name', 'Carol', '--show-token'],
      { env },
    );
    expect(first.code).toBe(0);
    const path = join(xdg, 'owp', 'config.json');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(first.stdout).toMatch(/^token: \S+$/m);

    const again = await owp(['--url', server.base, 'worker', 'register', '--name', 'Carol'], {
      env,
    });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds worker w_\S+; pass --force to replace it/);
    // The saved URL is used when no --url is given.
    const next = await owp(['worker', 'next'], { env });
    expect(next).toMatchObject({ code: 0 });

    // The token goes only to the server that issued it, whatever OWP_URL or --url say.
    const elsewhere = `http://127.0.0.1:${await freePort()}`;
    for (const run of [
      () => owp(['worker', 'next'], { env: { ...env, OWP_URL: elsewhere } }),
      () => owp(['--url', elsewhere, 'worker', 'status', 't_1', 'in_progress'], { env }),
    ]) {
      const refused = await run();
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`holds worker w_`);
      expect(refused.stderr).toContain(`of ${server.base}, not of ${elsewhere}`);
      expect(refused.stderr).toContain('its token is sent only to the server that issued it');
    }

    // A worker `owp mcp --db` registered belongs to that file: said so, not "--url must be …".
    const local = join(tempDir(), 'local.json');
    writeFileSync(
      local,
      JSON.stringify({ url: 'file:///tmp/pool.db', worker_id: 'w_local', token: 'local-token' }),
    );
    const fileWorker = await owp(['--config', local, 'worker', 'next'], { env });
    expect(fileWorker.code).toBe(1);
    expect(fileWorker.stderr).toContain(
      'holds worker w_local of the local database file:///tmp/pool.db (owp mcp --db)',
    );
  });

  it('says where an admin token that a server refused was read from', async () => {
    const cwd = tempDir();
    mkdirSync(join(cwd, 'data'));
    writeFileSync(join(cwd, 'data', 'admin-token'), 'a-token-of-another-server-entirely\n');
    const refused = await owp(['--url', server.base, 'admin', 'state'], { cwd });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      'owp: The admin token is wrong. (unauthorized)\n' +
        `owp: the admin token was read from ${join(cwd, 'data', 'admin-token')}, the file of the server there; for another server pass --admin-token or set OWP_ADMIN_TOKEN\n`,
    );
  });

  it('draws a progress bar on a terminal and reports failed items after the valid ones', async () => {
    await admin(['admin', 'repo', 'bars']);
    writeFileSync(join(dir, 'bars.yaml'), IMPORT_FILE);
    const run = await admin(['admin', 'import', 'bars.yaml', '--repo', 'bars'], {
      cwd: dir,
      ttyStderr: true,
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('\r[########################] 3/3  3 created, 0 failed\n');
    expect(run.stderr).toContain('\r[########----------------] 1/3  1 created, 0 failed');

    const missingRepo = await admin(['admin', 'import', 'bars.yaml', '--repo', 'ghost'], {
      cwd: dir,
    });
    expect(missingRepo.code).toBe(1);
    expect(missingRepo.stderr).toBe(
      'owp: No repo ghost. (repo_not_found)\n' +
        'owp: `owp admin repo ghost` makes it (see --help for its budget)\n',
    );
    const task = await admin(['admin', 'task', '--repo', 'ghost', '--title', 'Nowhere']);
    expect(task.code).toBe(1);
    expect(task.stderr).toMatch(/\(unknown_repo\)\nowp: `owp admin repo ghost` makes it/);
  });

  it('says how to finish an import that stopped part-way, and --from sends only the rest', async () => {
    await admin(['admin', 'repo', 'halves']);
    writeFileSync(join(dir, 'halves.yaml'), IMPORT_FILE);
    // Interrupted (Ctrl-C) once the first item is created, as the progress bar shows.
    const interrupt = new AbortController();
    const stdout = new Capture();
    const stopped = await owp(
      ['--url', server.base, 'admin', 'import', 'halves.yaml', '--repo', 'halves'],
      {
        cwd: dir,
        env: { OWP_ADMIN_TOKEN: server.admin.token },
        ttyStderr: true,
        stdout,
        signal: interrupt.signal,
        onStderr: (text) => {
          if (text.includes(' 1/3 ')) interrupt.abort();
        },
      },
    );
    expect(stopped.code).toBe(1);
    expect(stopped.stdout).toBe('imported 1 of 3 tasks into halves\n');
    expect(stopped.stderr).toContain(
      'owp: import stopped at item 2 "Parser: handle empty input": interrupted\n' +
        'owp: item 1 was sent; to send the rest: owp admin import halves.yaml --repo halves --from 2' +
        ' (or the whole file again: a task the pool made already is not made twice)',
    );

    const rest = await admin(
      ['admin', 'import', 'halves.yaml', '--repo', 'halves', '--from', '2'],
      {
        cwd: dir,
      },
    );
    expect(rest).toMatchObject({ code: 0 });
    expect(rest.stdout).toBe('imported 2 of 2 tasks into halves (items 2–3 of halves.yaml)\n');
    const tasks = await admin(['--json', 'admin', 'tasks', '--repo', 'halves']);
    expect(
      JSON.parse(tasks.stdout)
        .tasks.map((t: { title: string }) => t.title)
        .sort(),
    ).toEqual(['Docs: Add quickstart to README', 'Docs: FAQ', 'Parser: handle empty input']);

    // The whole file again: answered with the tasks already made, none made twice, and said so.
    const again = await admin(['admin', 'import', 'halves.yaml', '--repo', 'halves'], { cwd: dir });
    expect(again).toMatchObject({ code: 0 });
    expect(again.stdout).toBe(
      'imported 3 of 3 tasks into halves; 3 made by an earlier run, not made again\n',
    );
    expect(again.stderr).toBe('import: 3/3 sent, 3 created (3 by an earlier run), 0 failed\n');
    const after = await admin(['--json', 'admin', 'tasks', '--repo', 'halves']);
    expect(JSON.parse(after.stdout).tasks).toHaveLength(3);

    const past = await admin(
      ['admin', 'import', 'halves.yaml', '--repo', 'halves', '--from', '4'],
      {
        cwd: dir,
      },
    );
    expect(past).toMatchObject({ code: 1, stderr: 'owp: --from 4: halves.yaml holds 3 items\n' });
  });

  it('offers, trust tiers, reputation, dependencies and dead letters from the command line', async () => {
    const configC = join(dir, 'carol', 'config.json');
    const template = join(dir, 'pr-template.md');
    writeFileSync(template, '## What\n\n## Why\n');
    const empty = join(dir, 'empty.md');
    writeFileSync(empty, '');
    const repo = await admin([
      'admin',
      'repo',
      'offers-demo',
      '--assignment',
      'offer',
      '--offer-ttl',
      '600',
      '--max-attempts',
      '1',
      '--trust',
      'untrusted=-1,basic=0,trusted=2,maintainer=3',
      '--test',
      'npm test',
      '--pr-template',
      template,
    ]);
    expect(repo.code).toBe(0);
    expect(repo.stdout).toContain('assignment    offer (answer within 600s)');
    expect(repo.stdout).toContain('trust rules   untrusted≤-1 basic≤0 trusted≤2 maintainer≤3');
    expect(repo.stdout).toContain('contract      test: npm test; pr_template: ## What');
    // One part changed keeps the others; an empty one removes its part.
    const setup = await admin(['admin', 'repo', 'offers-demo', '--setup', 'npm ci']);
    expect(setup.stdout).toContain(
      'contract      setup: npm ci; test: npm test; pr_template: ## What',
    );
    const noTemplate = await admin(['admin', 'repo', 'offers-demo', '--pr-template', empty]);
    expect(noTemplate.stdout).toContain('contract      setup: npm ci; test: npm test\n');
    const badTrust = await admin(['admin', 'repo', 'offers-demo', '--trust', 'basic=1']);
    expect(badTrust.code).toBe(2);
    expect(badTrust.stderr).toContain('--trust wants every tier');
    expect(badTrust.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(badTrust.stderr).toContain(': untrusted: Invalid input: expected number');

    const carol = await asWorker(configC, [
      '--json',
      'worker',
      'register',
      '--name',
      'Carol',
      '--skills',
      'offers-cli',
    ]);
    const carolId = JSON.parse(carol.stdout).worker_id as string;
    await asWorker(configC, ['worker', 'next']);
    const first = JSON.parse(
      (
        await admin([
          '--json',
          'admin',
          'task',
          '--repo',
          'offers-demo',
          '--title',
          'First',
          '--skills',
          'offers-cli',
        ])
      ).stdout,
    ).task;
    const second = await admin([
      'admin',
      'task',
      '--repo',
      'offers-demo',
      '--title',
      'Second',
      '--skills',
      'offers-cli',
      '--depends-on',
      first.task_id,
    ]);
    expect(second.stdout).toMatch(/^created task t_\S+ \(ready, waiting on 1 task\(s\)\)\n$/);

    const offers = await asWorker(configC, ['--json', 'worker', 'offers']);
    const [offer] = JSON.parse(offers.stdout);
    expect(offer).toMatchObject({ task_id: first.task_id, contract: { test: 'npm test' } });
    const shown = await asWorker(configC, ['worker', 'offers']);
    expect(shown.stdout).toContain(offer.offer_id);
    const noReason = await asWorker(configC, ['worker', 'reject', offer.offer_id]);
    expect(noReason.code).toBe(2);
    const accepted = await asWorker(configC, ['worker', 'accept', offer.offer_id]);
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toContain(`lease  ${first.task_id}`);
    expect(accepted.stdout).toContain('  test: npm test\n');

    // Carol gives it back: with one attempt allowed, the task is dead-lettered.
    const lease = JSON.parse((await asWorker(configC, ['--json', 'worker', 'next'])).stdout)
      .leases[0];
    await asWorker(configC, ['worker', 'release', lease.lease_id, '--reason', 'stuck']);
    const failed = await admin([
      '--json',
      'admin',
      'tasks',
      '--repo',
      'offers-demo',
      '--status',
      'failed',
    ]);
    expect(JSON.parse(failed.stdout).tasks.map((t: { task_id: string }) => t.task_id)).toEqual([
      first.task_id,
    ]);

    const trust = await admin([
      'admin',
      'trust',
      carolId,
      '--tier',
      'trusted',
      '--reason',
      'reviewed',
    ]);
    expect(trust.stdout).toBe(`worker ${carolId} (Carol) is now trusted\n`);
    const missingReason = await admin(['admin', 'trust', carolId, '--tier', 'trusted']);
    expect(missingReason.code).toBe(2);
    const reputation = await admin(['admin', 'reputation', carolId]);
    expect(reputation.code).toBe(0);
    expect(reputation.stdout).toContain('trust tier    trusted');
    expect(reputation.stdout).toContain('(0 merged; 0 expired, 1 released, 0 requeued)');
    expect(reputation.stdout).toContain('(1 accepted, 0 rejected, 0 expired)');
    expect(reputation.stderr).toContain('reputation = 0.6 × completion');
  });

  it('`worker run` prints leases as they arrive and stops on interrupt', async () => {
    const config = join(dir, 'dave.json');
    await asWorker(config, ['worker', 'register', '--name', 'Dave', '--skills', 'ops']);
    const once = await asWorker(config, ['worker', 'run', '--once']);
    expect(once).toEqual({ code: 0, stdout: '', stderr: '' });

    const interrupt = new AbortController();
    const stdout = new Capture();
    const running = owp(
      ['--url', server.base, '--config', config, 'worker', 'run', '--interval', '1'],
      {
        signal: interrupt.signal,
        stdout,
      },
    );
    await admin(['admin', 'task', '--repo', 'demo', '--title', 'Rotate keys', '--skills', 'ops']);
    await until(() => stdout.text.includes('Rotate keys'));
    expect(stdout.text).toMatch(
      /^lease {2}t_\S+ {2}\[demo\] Rotate keys {2}\(1 pts, priority 10, leased, expires in 30m, lease l_\S+\)\n$/,
    );
    interrupt.abort();
    const stopped = await running;
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toMatch(/heartbeat every 1s; Ctrl-C to stop\nstopped\n$/);

    // Started again while holding the task (reported idle meanwhile): its first beat says so.
    const dave = JSON.parse(readFileSync(config, 'utf8')) as { token: string };
    const idle = await fetch(`${server.base}/v1/workers/heartbeat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${dave.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'idle' }),
    });
    expect(idle.status).toBe(200);
    await asWorker(config, ['worker', 'run', '--once']);
    const workers = JSON.parse((await admin(['--json', 'admin', 'workers'])).stdout) as Array<{
      name: string;
      status: string;
    }>;
    expect(workers.find((worker) => worker.name === 'Dave')?.status).toBe('working');
  }, 15_000);

  it('`worker run` beats within the TTL of a short lease it holds', async () => {
    const config = join(dir, 'erin.json');
    await asWorker(config, ['worker', 'register', '--name', 'Erin', '--skills', 'sre']);
    await admin(['admin', 'repo', 'fast', '--lease-ttl', '15']);
    // Ready until Erin's first heartbeat, which grants it.
    await admin([
      'admin',
      'task',
      '--repo',
      'fast',
      '--title',
      'Page the on-call',
      '--skills',
      'sre',
    ]);
    const interrupt = new AbortController();
    const stdout = new Capture();
    let stderr = '';
    const running = owp(['--url', server.base, '--config', config, 'worker', 'run'], {
      signal: interrupt.signal,
      stdout,
      onStderr: (text) => (stderr = text),
    });
    await until(() => stdout.text.includes('Page the on-call'));
    // Was: the next beat 30 s on, and the 15 s lease expired under a working person.
    await until(() => stderr.includes('heartbeat every 5s while a lease'));
    interrupt.abort();
    expect((await running).code).toBe(0);
  }, 30_000);
});

// A server of its own: the one above has used up the registrations an address may make a minute.
describe('owp admin new-token, then owp worker token', () => {
  const block = serverForBlock();
  const { admin, asWorker } = block;

  it('gives a worker a new token: the old one is refused, `owp worker token` saves the new one', async () => {
    const config = join(block.dir, 'carol', 'config.json');
    const registered = await asWorker(config, ['worker', 'register', '--name', 'Carol']);
    const id = /registered worker (w_\S+)/.exec(registered.stdout)![1]!;
    const saved = () => JSON.parse(readFileSync(config, 'utf8')) as { token: string };
    const oldToken = saved().token;
    expect((await asWorker(config, ['worker', 'next'])).code).toBe(0);

    const replaced = await admin(['admin', 'new-token', id]);
    expect(replaced).toMatchObject({ code: 0, stderr: '' });
    expect(replaced.stdout).toContain(`worker ${id} has a new token; the old one is refused`);
    const token = /^ {2}(\S+)$/m.exec(replaced.stdout)![1]!;
    expect(token).not.toBe(oldToken);
    const refused = await asWorker(config, ['worker', 'next']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      'owp: The worker token is not valid. (unauthorized)\n' +
        `owp: if an admin gave worker ${id} a new token (\`owp admin new-token\`), save it with \`owp worker token\`; else \`owp worker register --force\` makes a new worker (a new id)\n`,
    );

    // Nothing, or a token the server does not take for this worker, leaves the file as it was.
    const none = await asWorker(config, ['worker', 'token'], { stdin: '' });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no token on stdin');
    const danConfig = join(block.dir, 'dan', 'config.json');
    expect((await asWorker(danConfig, ['worker', 'register', '--name', 'Dan'])).code).toBe(0);
    const wrong = await asWorker(config, ['worker', 'token'], {
      stdin: `${JSON.parse(readFileSync(danConfig, 'utf8')).token}\n`,
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`does not take this token for worker ${id}`);
    expect(wrong.stderr).toContain('is unchanged');
    expect(saved().token).toBe(oldToken);

    // Typed at a terminal: nothing echoed, Backspace honoured, Ctrl-C gives up.
    const cancelled = { keys: ['owpw_', '\u0003'], rawModes: [] as boolean[] };
    const gaveUp = await asWorker(config, ['worker', 'token'], { terminal: cancelled });
    expect(gaveUp).toMatchObject({ code: 1, stderr: expect.stringContaining('no token saved') });
    expect(cancelled.rawModes).toEqual([true, false]);
    const typed = {
      keys: [`${token.slice(0, 4)}x`, '\u007f', `${token.slice(4)}\r`],
      rawModes: [] as boolean[],
    };
    const hidden = await asWorker(config, ['worker', 'token'], { terminal: typed });
    expect(hidden).toMatchObject({
      code: 0,
      stdout: `new token for worker ${id} saved to ${config}\n`,
    });
    expect(hidden.stderr).toBe('paste the new token (not shown), then press Enter: \n');
    expect(typed.rawModes).toEqual([true, false]);
    expect(saved().token).toBe(token);

    // The admin's whole printout piped in: the token is picked out of it.
    const taken = await asWorker(config, ['worker', 'token'], { stdin: replaced.stdout });
    expect(taken).toMatchObject({
      code: 0,
      stdout: `new token for worker ${id} saved to ${config}\n`,
    });
    expect(saved().token).toBe(token);
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect((await asWorker(config, ['worker', 'next'])).code).toBe(0);
  });
});

describe('owp worker simulate', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it(
    'completes tasks with fresh workers, stays within its task cap and hands back the rest',
    { timeout: 20_000 },
    async () => {
      const env = { OWP_ADMIN_TOKEN: server.admin.token };
      const admin = (args: string[]) => owp(['--url', server.base, ...args], { env });
      await admin(['admin', 'repo', 'sim', '--max-open-prs', '5']);
      for (let i = 1; i <= 6; i++) {
        await admin(['admin', 'task', '--repo', 'sim', '--title', `task ${i}`, '--skills', 'go']);
      }
      const run = await owp(
        [
          '--url',
          server.base,
          '--json',
          'worker',
          'simulate',
          '--workers',
          '2',
          '--duration',
          '10',
          '--max-tasks',
          '4',
          '--poll',
          '20',
        ],
        { env },
      );
      expect(run.code).toBe(0);
      const summary = JSON.parse(run.stdout);
      expect(summary).toMatchObject({
        url: server.base,
        tasks_completed: 4,
        errors: 0,
        stopped_by: 'max_tasks',
      });
      expect(summary.workers).toHaveLength(2);
      expect(run.stderr).toBe('simulated workers hold: go\n');
      expect(summary.elapsed_ms).toBeLessThan(10_000);

      const state = JSON.parse((await admin(['--json', 'admin', 'state'])).stdout);
      // Four merged; the two the simulated workers still held are back in the queue.
      expect(state).toMatchObject({
        tasks_merged: 4,
        tasks_ready: 2,
        tasks_leased: 0,
        tasks_pr_opened: 0,
      });
    },
  );

  it('stops at its duration', { timeout: 20_000 }, async () => {
    const run = await owp(
      ['--url', server.base, 'worker', 'simulate', '--workers', '1', '--duration', '1'],
      {},
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^simulated 1 workers against http:\/\/127\.0\.0\.1:\d+ for 1\.\ds \(stopped by duration\)\n/,
    );
    expect(run.stdout).toMatch(/tasks completed: 0\n$/);
  });

  it(
    'gives the workers the skills of every ready task, past the first page',
    {
      timeout: 30_000,
    },
    async () => {
      const dir = tempDir();
      const env = { OWP_ADMIN_TOKEN: server.admin.token };
      const admin = (args: string[]) => owp(['--url', server.base, ...args], { env, cwd: dir });
      await admin(['admin', 'repo', 'bulk', '--max-open-prs', '0']);
      const items = Array.from({ length: 500 }, (_, i) => `- title: bulk ${i}`).join('\n');
      writeFileSync(join(dir, 'bulk.yaml'), `${items}\n`);
      expect((await admin(['admin', 'import', 'bulk.yaml', '--repo', 'bulk'])).code).toBe(0);
      await admin(['admin', 'repo', 'rusty']);
      await admin(['admin', 'task', '--repo', 'rusty', '--title', 'last', '--skills', 'rust']);

      const run = await owp(
        ['--url', server.base, 'worker', 'simulate', '--workers', '1', '--duration', '1'],
        { env },
      );
      expect(run.code).toBe(0);
      // The first page of 500 ready tasks was all it read: the rust task lay beyond it.
      expect(run.stderr).toMatch(/^simulated workers hold: .*\brust\b/m);
    },
  );
});

describe('owp worker simulate against the registration limit', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('simulates with the workers the server accepted', { timeout: 20_000 }, async () => {
    const args = ['--workers', '25', '--duration', '1', '--poll', '200'];
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    const run = await owp(['--url', server.base, '--json', 'worker', 'simulate', ...args]);
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    // Twenty workers sleeping on one stop signal are not a listener leak.
    expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
    expect(run.code).toBe(0);
    // The server takes 20 registrations a minute from one address.
    expect(JSON.parse(run.stdout).workers).toHaveLength(20);
    expect(run.stderr).toMatch(
      /^owp: the server limits registrations \(.+\); simulating with 20 workers\n$/,
    );
  });
});

describe('owp serve', () => {
  const interrupt = new AbortController();
  afterEach(() => interrupt.abort());

  it(
    'serves until interrupted, printing the banner with where the new admin token is',
    { timeout: 20_000 },
    async () => {
      const dir = tempDir();
      const stdout = new Capture();
      const serving = owp(['serve', '--port', '0', '--db', 'db/owp.db'], {
        cwd: dir,
        env: { OWP_LOG_LEVEL: 'silent' },
        signal: interrupt.signal,
        stdout,
      });
      await until(() => stdout.text.includes('admin token'));
      const base = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout.text)![1]!;
      expect(stdout.text).toMatch(/database: +\S*owp\.db/);
      expect(stdout.text).toContain(join(dir, 'db', 'owp.db'));
      // Not a terminal: the new token is not printed, only where it is.
      expect(stdout.text).toContain(
        `admin token (new): saved to ${join(dir, 'db', 'admin-token')} (mode 0600); not printed`,
      );
      const token = readFileSync(join(dir, 'db', 'admin-token'), 'utf8').trim();
      expect(stdout.text).not.toContain(token);
      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ ok: true });

      // The CLI in the same directory finds the token the server wrote.
      const state = await owp(['--url', base, '--json', 'admin', 'state'], {
        cwd: dir,
        env: { OWP_DB_PATH: 'db/owp.db' },
      });
      expect(JSON.parse(state.stdout)).toMatchObject({ workers_total: 0 });

      interrupt.abort();
      const stopped = await serving;
      expect(stopped.code).toBe(0);
      expect(stopped.stderr).toBe('stopping…\nstopped\n');
      await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    },
  );

  it('says plainly when its port is taken, and exits', { timeout: 20_000 }, async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const run = await owp(['serve', '--port', String(port)], {
        cwd: tempDir(),
        env: { OWP_LOG_LEVEL: 'silent' },
      });
      expect(run).toMatchObject({
        code: 1,
        stderr: `owp: 127.0.0.1:${port} is already in use (another OWP Pool server?): stop it, or pass a free --port\n`,
      });
      // Set by the variable, the message names the variable.
      const byEnv = await owp(['serve'], {
        cwd: tempDir(),
        env: { OWP_LOG_LEVEL: 'silent', OWP_PORT: String(port) },
      });
      expect(byEnv.stderr).toContain('stop it, or set OWP_PORT to a free port\n');
    } finally {
      taken.close();
    }
  });

  it('refuses a bad configuration with exit 2', async () => {
    const run = await owp(['serve'], {
      cwd: tempDir(),
      env: { OWP_LEASE_TTL: '1', OWP_PORT: '0' },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^owp: bad configuration: OWP_LEASE_TTL: /);
  });
});

describe('owp backup', () => {
  it('copies the database of a running server beside it, checked, and says what it holds', async () => {
    const dir = tempDir();
    const server = await startTestServer(dir);
    try {
      const api = new HttpOwpApi({ baseUrl: server.base, adminToken: server.admin.token });
      await api.upsertRepo({ repo: 'acme/web' });
      await api.createTask({ repo: 'acme/web', title: 'Kept safe' });
      // OWP_DB_PATH as the server was given it; no --to: backups/ beside the database.
      const run = await owp(['backup'], { cwd: dir, env: { OWP_DB_PATH: 'owp.db' } });
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('owp: backing up owp.db…\n');
      expect(run.stdout).toMatch(
        /^backed up owp\.db to backups\/owp-\d{4}-\d\d-\d\dT\d{6}Z\.db: [\d.]+ (kB|MB) in (\d+ ms|\d+\.\d s), checked; 1 task, 0 workers, \d+ events \(schema \d+\)\n$/,
      );
      const [name] = readdirSync(join(dir, 'backups'));
      const json = await owp(['--json', 'backup', '--db', 'owp.db', '--to', `backups/${name}`], {
        cwd: dir,
      });
      expect(json).toMatchObject({
        code: 1,
        stderr: expect.stringContaining(`backups/${name} exists already (--force replaces it)`),
      });
      const forced = await owp(
        ['--json', 'backup', '--db', 'owp.db', '--to', `backups/${name}`, '--force'],
        { cwd: dir },
      );
      expect(JSON.parse(forced.stdout)).toMatchObject({ tasks: 1, workers: 0 });

      const missing = await owp(['backup', '--db', 'nope.db'], { cwd: dir });
      expect(missing).toMatchObject({ code: 1 });
      expect(missing.stderr).toContain(`owp: no database at ${join(dir, 'nope.db')}`);

      // From another machine: the server makes the copy, the command downloads and checks it.
      const elsewhere = tempDir();
      const env = { OWP_ADMIN_TOKEN: server.admin.token };
      const remote = await owp(['--url', server.base, 'admin', 'backup'], { cwd: elsewhere, env });
      expect(remote).toMatchObject({ code: 0 });
      expect(remote.stderr).toBe(`owp: downloading a backup from ${server.base}…\n`);
      const [file, ...others] = readdirSync(elsewhere);
      expect(others).toEqual([]);
      expect(file).toMatch(/^owp-\d{4}-\d\d-\d\dT\d{6}Z\.db$/);
      expect(statSync(join(elsewhere, file!)).mode & 0o777).toBe(0o600);
      expect(remote.stdout.startsWith(`backed up ${server.base} to ${file}: `)).toBe(true);
      expect(remote.stdout).toMatch(/checked; 1 task, 0 workers, \d+ events \(schema \d+\)\n$/);
      const again = await owp(['--url', server.base, 'admin', 'backup', '--to', file!], {
        cwd: elsewhere,
        env,
      });
      expect(again).toMatchObject({ code: 1 });
      expect(again.stderr).toContain(
        `${join(elsewhere, file!)} exists already (--force replaces it)`,
      );
      // A folder gets a reason, not a hint that --force would help.
      mkdirSync(join(elsewhere, 'kept'));
      const folder = await owp(
        ['--url', server.base, 'admin', 'backup', '--to', 'kept', '--force'],
        {
          cwd: elsewhere,
          env,
        },
      );
      expect(folder).toMatchObject({ code: 1 });
      expect(folder.stderr).toContain(`${join(elsewhere, 'kept')} is a folder; name the file`);
      rmSync(join(elsewhere, 'kept'), { recursive: true });
      const refused = await owp(['--url', server.base, 'admin', 'backup', '--to', 'x.db'], {
        cwd: elsewhere,
        env: { OWP_ADMIN_TOKEN: 'not-the-admin-token-at-all' },
      });
      expect(refused).toMatchObject({ code: 1 });
      expect(refused.stderr).toContain('(unauthorized)');
      expect(readdirSync(elsewhere)).toEqual([file]);
    } finally {
      await server.stop();
    }
  });
});

describe('the owp executable', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  const run = (args: string[], env: Record<string, string> = {}) =>
    execFileAsync(process.execPath, [join(REPO_ROOT, 'bin', 'owp.js'), ...args], {
      cwd: tempDir(),
      env: { PATH: process.env.PATH ?? '', HOME: tempDir(), ...env },
      timeout: 20_000,
    });

  it('prints its help', { timeout: 30_000 }, async () => {
    const { stdout } = await run(['--help']);
    expect(stdout).toMatch(/^Usage: owp \[options\] \[command\]/);
    expect(stdout).toContain('serve');
    expect(stdout).toContain('admin');
    expect(stdout).toContain('worker');
  });

  it(
    'runs an admin command over the network, and exits 1 with the message on failure',
    { timeout: 30_000 },
    async () => {
      const { stdout } = await run(['--url', server.base, '--json', 'admin', 'state'], {
        OWP_ADMIN_TOKEN: server.admin.token,
      });
      expect(JSON.parse(stdout)).toMatchObject({ workers_online: 0, tasks_ready: 0 });

      const failure = await run(['--url', server.base, 'admin', 'state'], {
        OWP_ADMIN_TOKEN: 'owpa_wrong-token-for-the-test',
      }).catch((error: { code: number; stderr: string }) => error);
      expect(failure).toMatchObject({
        code: 1,
        stderr: 'owp: The admin token is wrong. (unauthorized)\n',
      });
    },
  );
});
