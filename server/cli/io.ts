import { homedir } from 'node:os';

/** Where the CLI writes: a stream-like sink, so tests can capture output in memory. */
export interface OutputSink {
  write(chunk: string): unknown;
  /** True when a person is watching (a terminal): progress bars only go there. */
  isTTY?: boolean;
  columns?: number;
}

/**
 * Everything the CLI touches outside itself. `main()` wires the real process; tests pass buffers,
 * a temporary home directory and their own abort signal, and run the program in-process.
 */
export interface CliIo {
  stdout: OutputSink;
  stderr: OutputSink;
  env: Record<string, string | undefined>;
  homeDir: string;
  cwd: string;
  /** Aborted on SIGINT/SIGTERM: long-running commands (`serve`, `worker run`) stop when it fires. */
  signal: AbortSignal;
  /** Where a secret is read from rather than the command line (`owp worker token`). */
  stdin?: TextInput;
}

/** A readable like `process.stdin`: a terminal (`isTTY`) can stop echoing what is typed. */
export type TextInput = AsyncIterable<string | Uint8Array> & {
  isTTY?: boolean;
  setRawMode?: (raw: boolean) => unknown;
};

/** The real process: its streams, environment and signals. */
export function processIo(): CliIo {
  const interrupt = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => interrupt.abort(signal));
  }
  // `owp admin tasks | head`: the reader left, so there is nobody to write to; stop quietly.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(0);
      throw error;
    });
  }
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    homeDir: homedir(),
    cwd: process.cwd(),
    signal: interrupt.signal,
    stdin: process.stdin,
  };
}
