import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineConfig } from '../../../scheduler/context.ts';
import { Scheduler } from '../../../scheduler/engine.ts';
import { sequentialIds } from '../../../scheduler/ids.ts';
import { ManualClock } from '../../../scheduler/testing/manual-clock.ts';
import { buildApp, type OwpApp } from '../../app.ts';
import { BetterSqlite3Driver } from '../../better-sqlite3-driver.ts';
import type { CliIo } from '../io.ts';
import { runCli } from '../main.ts';

export const CLI_ADMIN_TOKEN = 'admin-secret-for-cli-tests-0123456789';

class Capture {
  text = '';
  write(chunk: string) {
    this.text += chunk;
    return true;
  }
}

/**
 * A real server on 127.0.0.1 over an engine whose clock the test drives, so what the CLI prints
 * (times, durations) is exact; and `owp` run in-process against it with the admin token.
 */
export interface CliServer {
  engine: Scheduler;
  clock: ManualClock;
  /** The server's base URL. */
  url: string;
  /** A temporary working directory for the command (files it writes land here). */
  cwd: string;
  owp(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

export async function startCliServer(config: Partial<EngineConfig> = {}): Promise<CliServer> {
  const clock = new ManualClock();
  const engine = new Scheduler({
    driver: new BetterSqlite3Driver({ path: ':memory:' }),
    clock,
    ids: sequentialIds(),
    config,
  });
  const app: OwpApp = buildApp({ engine, adminToken: CLI_ADMIN_TOKEN });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  const cwd = mkdtempSync(join(tmpdir(), 'owp-cli-insights-'));
  return {
    engine,
    clock,
    url,
    cwd,
    async owp(args) {
      const stdout = new Capture();
      const stderr = new Capture();
      const io: CliIo = {
        stdout,
        stderr,
        env: { OWP_ADMIN_TOKEN: CLI_ADMIN_TOKEN },
        homeDir: cwd,
        cwd,
        signal: new AbortController().signal,
      };
      const code = await runCli(['--url', url, ...args], io);
      return { code, stdout: stdout.text, stderr: stderr.text };
    },
    async close() {
      await app.close();
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}
