import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository root (bench/lib/ → ../..). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** tsx's loader by absolute URL, so a child can run TypeScript from any working directory. */
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

/**
 * Every child this run started, so none outlives it: they are killed by pid on normal exit, on
 * errors, on timeouts and on Ctrl-C — never by name, which could hit someone else's processes.
 */
const children = new Set<ChildProcess>();

function track<C extends ChildProcess>(child: C): C {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Kills every child still running (SIGKILL: a benchmark child holds nothing worth saving). */
export function killAllChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.clear();
}

let guarded = false;
/** Installs the exit hooks once: whatever ends this process ends its children too. */
export function guardChildren(): void {
  if (guarded) return;
  guarded = true;
  process.on('exit', killAllChildren);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllChildren();
      process.exit(130);
    });
  }
}

/** A message from a bench child: `{ type, ...payload }`. */
export interface ChildMessage {
  type: string;
  [key: string]: unknown;
}

/** Starts a bench script (TypeScript, through tsx) as a child with an IPC channel. */
export function forkBench(script: string, label: string): ChildProcess {
  const child = fork(join(ROOT, script), [], {
    cwd: ROOT,
    execArgv: ['--import', TSX],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, OWP_BENCH_CHILD: label },
  });
  return track(child);
}

/**
 * Resolves with the next message of `type` from `child`; rejects when the child reports an error,
 * exits, or nothing came within `timeoutMs`.
 */
export function nextMessage<M extends { type: string } = ChildMessage>(
  child: ChildProcess,
  type: string,
  timeoutMs: number,
): Promise<M> {
  return new Promise<M>((resolvePromise, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: ChildMessage) => {
      if (message.type === type) {
        cleanup();
        resolvePromise(message as M);
      } else if (message.type === 'error') {
        cleanup();
        reject(new Error(`child ${child.pid}: ${String(message.message)}`));
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`child ${child.pid} exited (${code ?? signal}) while waiting for ${type}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`child ${child.pid}: no '${type}' within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Sends `message` and waits for the reply of `replyType`. */
export function ask<M extends { type: string } = ChildMessage>(
  child: ChildProcess,
  message: ChildMessage,
  replyType: string,
  timeoutMs: number,
): Promise<M> {
  const reply = nextMessage<M>(child, replyType, timeoutMs);
  child.send(message);
  return reply;
}

/** Asks a child to stop, then kills it if it has not exited within `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  try {
    if (child.connected) child.send({ type: 'stop' });
    else child.kill('SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** A running server child: where it listens and how to stop it. */
export interface ServerChild {
  pid: number;
  port: number;
  /** Which build runs: the TypeScript sources through tsx, or the bundle in dist/. */
  build: 'src' | 'dist';
  stop(): Promise<void>;
}

/**
 * Whether dist/server/main.js is newer than every source file it is built from; a stale bundle
 * would measure code the lead has since changed.
 */
export function distIsFresh(): boolean {
  const bundle = join(ROOT, 'dist/server/main.js');
  if (!existsSync(bundle)) return false;
  const built = statSync(bundle).mtimeMs;
  const newest = (folder: string): number => {
    let latest = 0;
    for (const entry of readdirSync(join(ROOT, folder), { withFileTypes: true, recursive: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
    }
    return latest;
  };
  return ['server', 'scheduler', 'protocol'].every((folder) => newest(folder) < built);
}

/** The flags `npm run start:prod` (and the container) give node: the bench starts the server so. */
export function productionNodeFlags(): string[] {
  const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts as Record<
    string,
    string
  >;
  return scripts['start:prod']!.split(/\s+/).filter((arg) => arg.startsWith('--'));
}

/**
 * Starts the OWP server as a child process in `cwd`, configured only through OWP_* variables, on a
 * free port of 127.0.0.1, and resolves once it printed where it listens. Node gets the production
 * flags, then `nodeArgs` (e.g. `--cpu-prof`).
 */
export async function startOwpServer(
  env: Record<string, string>,
  build: 'src' | 'dist',
  cwd: string,
  nodeArgs: string[] = [],
  timeoutMs = 60_000,
): Promise<ServerChild> {
  const args = [
    ...productionNodeFlags(),
    ...nodeArgs,
    ...(build === 'dist'
      ? [join(ROOT, 'dist/server/main.js')]
      : ['--import', TSX, join(ROOT, 'server/main.ts')]),
  ];
  const child = track(
    spawn(process.execPath, args, {
      // A scratch working directory and only the basics plus OWP_*: a developer's own OWP_*
      // variables or .env (main.ts reads .env from its working directory) must not leak in.
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        ...env,
        OWP_HOST: '127.0.0.1',
        OWP_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let output = '';
  const remember = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stderr!.on('data', remember);
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`server did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      remember(chunk);
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolvePort(Number(match[1]));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
  return {
    pid: child.pid!,
    port,
    build,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
