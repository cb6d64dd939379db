/**
 * Live events: N event-stream clients spread over a few processes, an admin writing probe tasks at
 * a fixed rate, and the time from each write to its event's arrival at every client.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ask, forkBench, startOwpServer, stopChild, type ServerChild } from '../lib/children.mts';
import { mergeSnapshots } from '../lib/histogram.mts';
import { MachineSampler, ProcessSampler, cpuSeconds } from '../lib/proc-stats.mts';
import type { SseResult } from '../results.mts';
import type { SseConfig, SseReport } from './sse-clients.mts';
import { summarize } from './run-load.mts';

export interface SseSettings {
  clients: number;
  processes: number;
  ratePerSecond: number;
  seconds: number;
  build: 'src' | 'dist';
  log: (line: string) => void;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export async function runSseScenario(settings: SseSettings): Promise<SseResult> {
  const dir = mkdtempSync(join(tmpdir(), 'owp-bench-sse-'));
  const children: ChildProcess[] = [];
  let server: ServerChild | null = null;
  try {
    const adminToken = `owpa_bench_${randomBytes(16).toString('hex')}`;
    server = await startOwpServer(
      {
        OWP_DB_PATH: join(dir, 'owp.db'),
        OWP_ADMIN_TOKEN: adminToken,
        OWP_LOG_LEVEL: 'warn',
      },
      settings.build,
      dir,
    );
    const host = '127.0.0.1';
    const admin = forkBench('bench/load/admin.mts', 'admin');
    children.push(admin);
    await ask(
      admin,
      {
        type: 'config',
        config: { host, port: server.port, adminToken, lanes: 1, timeoutMs: 30_000, workers: 0 },
      },
      'ready',
      30_000,
    );
    await ask(admin, { type: 'setup' }, 'setup-done', 30_000);

    const processes = Math.max(1, Math.min(settings.processes, settings.clients));
    const streams: ChildProcess[] = [];
    for (let p = 0; p < processes; p++)
      streams.push(forkBench('bench/load/sse-clients.mts', `sse${p}`));
    children.push(...streams);
    settings.log(`    opening ${settings.clients} event streams …`);
    await Promise.all(
      streams.map((child, p) => {
        const config: SseConfig = {
          host,
          port: server!.port,
          adminToken,
          clients:
            Math.floor(settings.clients / processes) + (p < settings.clients % processes ? 1 : 0),
        };
        return ask(child, { type: 'config', config }, 'connected', 120_000);
      }),
    );
    await sleep(500);
    await Promise.all(streams.map((child) => ask(child, { type: 'mark' }, 'marked', 10_000)));
    const serverUse = new ProcessSampler(server.pid);
    const machineUse = new MachineSampler();
    const ours = () => [server!.pid, ...children.map((c) => c.pid!)];
    const oursBefore = ours().reduce((sum, pid) => sum + (cpuSeconds(pid) || 0), 0);
    const windowStart = performance.now();
    serverUse.start();
    machineUse.start();
    settings.log(`    probing ${settings.ratePerSecond}/s for ${settings.seconds} s …`);
    const { sent } = await ask<{ type: string; sent: number }>(
      admin,
      { type: 'probe', ratePerSecond: settings.ratePerSecond, durationMs: settings.seconds * 1000 },
      'probe-done',
      settings.seconds * 1000 + 60_000,
    );
    await sleep(1500); // the last probes' deliveries
    const use = serverUse.stop();
    const machine = machineUse.stop();
    const oursPercent =
      (100 * (ours().reduce((sum, pid) => sum + (cpuSeconds(pid) || 0), 0) - oursBefore)) /
      ((performance.now() - windowStart) / 1000);
    const reports = await Promise.all(
      streams.map((child) => ask<SseReport>(child, { type: 'report' }, 'report', 30_000)),
    );
    const latency = mergeSnapshots(reports.map((r) => r.latency));
    return {
      clients: settings.clients,
      processes,
      probesSent: sent,
      ratePerSecond: settings.ratePerSecond,
      deliveries: reports.reduce((sum, r) => sum + r.deliveries, 0),
      expected: sent * settings.clients,
      dropped: reports.reduce((sum, r) => sum + r.dropped, 0),
      latency: summarize(latency.snapshot(), settings.seconds),
      server: use,
      otherCpuPercent: Math.max(0, machine.busyPercent - oursPercent),
    };
  } finally {
    await Promise.all(children.map((child) => stopChild(child)));
    if (server) await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
