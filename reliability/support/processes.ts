import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The repository root: children run from here so `--import tsx` resolves. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A free TCP port on 127.0.0.1, found by letting the OS pick one and releasing it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * The child processes one test starts. Every child is spawned through here, so `killAll()` in the
 * test's teardown leaves nothing running, whatever the test did before it failed.
 */
export class ChildProcesses {
  private readonly children = new Set<ChildProcess>();
  private readonly exits = new WeakMap<ChildProcess, Promise<ExitStatus>>();

  /** Runs a TypeScript file with `node --import tsx`, from the repository root. */
  spawnTsx(
    script: string,
    args: string[] = [],
    env: Record<string, string> = {},
    onOutput?: (line: string, stream: 'stdout' | 'stderr') => void,
  ): ChildProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.add(child);
    this.exits.set(
      child,
      new Promise((resolve) => {
        child.once('exit', (code, signal) => {
          this.children.delete(child);
          resolve({ code, signal });
        });
      }),
    );
    for (const stream of ['stdout', 'stderr'] as const) {
      let buffer = '';
      child[stream]!.setEncoding('utf8');
      child[stream]!.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end + 1);
          onOutput?.(line, stream);
        }
      });
    }
    return child;
  }

  /** Resolves when the child has exited (at once if it already has). */
  exited(child: ChildProcess): Promise<ExitStatus> {
    return this.exits.get(child) ?? Promise.resolve({ code: child.exitCode, signal: null });
  }

  /** Sends SIGKILL and waits for the exit. */
  async kill(child: ChildProcess): Promise<ExitStatus> {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return this.exited(child);
  }

  /** Waits up to `timeoutMs` for a child to exit by itself, then kills it. */
  async waitOrKill(child: ChildProcess, timeoutMs: number): Promise<ExitStatus> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const result = await Promise.race([this.exited(child), timedOut]);
    clearTimeout(timer);
    return result === 'timeout' ? this.kill(child) : result;
  }

  /** Kills every child still running: for `afterAll`. */
  async killAll(): Promise<void> {
    await Promise.all([...this.children].map((child) => this.kill(child)));
  }
}

/** Polls `check` every `intervalMs` until it returns true, or throws after `timeoutMs`. */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 25,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
