/**
 * Runs one load scenario end to end: seed, start the server (a child process), bring the workers
 * online, let the generators loop while the admin refills, warm up, measure a fixed window, and
 * tear everything down — children always killed, the scratch folder always removed.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeSnapshots, type HistogramSnapshot } from '../lib/histogram.mts';
import {
  ROOT,
  ask,
  forkBench,
  nextMessage,
  startOwpServer,
  stopChild,
  type ServerChild,
} from '../lib/children.mts';
import { MachineSampler, ProcessSampler } from '../lib/proc-stats.mts';
import { summarizeCpuProfile } from '../lib/cpu-profile.mts';
import { metricsWindow, scrapeMetrics, type MetricsScrape } from '../lib/server-metrics.mts';
import type { LatencySummary, LoadResult } from '../results.mts';
import type { LoadScenario } from '../scenarios.mts';
import type { AdminReport } from './admin.mts';
import type { GeneratorConfig, GeneratorReport } from './generator.mts';

export interface LoadSettings {
  warmupSeconds: number;
  measureSeconds: number;
  generators: number;
  /** Upper bound on lanes (keep-alive connections) over all generators. */
  connections: number;
  build: 'src' | 'dist';
  seed: 'auto' | 'http' | 'engine';
  /** Folder for a server CPU profile summary, or null. */
  profileDir: string | null;
  log: (line: string) => void;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
/**
 * The admin's connections. A merged task took five worker calls and its replacement takes one
 * admin call; with fewer than a fifth of the workers' lanes the admin falls behind (each lane
 * gets about the same share of the server) and the queue drains. A quarter, for margin.
 */
const adminLanes = (workerLanes: number) => Math.max(4, Math.ceil(workerLanes / 4));
const REQUEST_TIMEOUT_MS = 30_000;

export function summarize(
  snapshot: HistogramSnapshot | undefined,
  seconds: number,
): LatencySummary {
  const h = mergeSnapshots([snapshot]);
  return {
    count: h.count,
    perSecond: h.count / seconds,
    p50: h.percentile(50),
    p90: h.percentile(90),
    p99: h.percentile(99),
    max: h.maxMs,
    mean: h.meanMs,
  };
}

/** Whether the server reads OWP_REGISTRATIONS_PER_MINUTE (needed to register workers over HTTP). */
function serverReadsRegistrationRate(build: 'src' | 'dist'): boolean {
  const file = build === 'dist' ? 'dist/server/main.js' : 'server/config.ts';
  try {
    return readFileSync(join(ROOT, file), 'utf8').includes('OWP_REGISTRATIONS_PER_MINUTE');
  } catch {
    return false;
  }
}

/** HTTP seeding for small pools (it is what a real admin does); the engine for large ones. */
function seedMode(scenario: LoadScenario, settings: LoadSettings): 'engine' | 'http' {
  if (settings.seed !== 'auto') return settings.seed;
  const small = scenario.workers <= 1000 && scenario.ready <= 10_000;
  return small && serverReadsRegistrationRate(settings.build) ? 'http' : 'engine';
}

/** Splits `items` round-robin into `n` shares. */
function shares<T>(items: T[], n: number): T[][] {
  const out: T[][] = Array.from({ length: n }, () => []);
  items.forEach((item, i) => out[i % n]!.push(item));
  return out;
}

async function startGenerators(
  host: string,
  port: number,
  tokens: string[],
  mode: 'cycle' | 'heartbeat',
  settings: LoadSettings,
): Promise<{ children: ChildProcess[]; lanes: number }> {
  const count = Math.max(1, Math.min(settings.generators, tokens.length));
  const lanes = Math.min(tokens.length, settings.connections);
  const tokenShares = shares(tokens, count);
  const children: ChildProcess[] = [];
  for (let g = 0; g < count; g++) children.push(forkBench('bench/load/generator.mts', `gen${g}`));
  await Promise.all(
    children.map((child, g) => {
      const config: GeneratorConfig = {
        host,
        port,
        mode,
        tokens: tokenShares[g]!,
        lanes: Math.max(1, Math.floor(lanes / count) + (g < lanes % count ? 1 : 0)),
        timeoutMs: REQUEST_TIMEOUT_MS,
      };
      return ask(child, { type: 'config', config }, 'ready', 30_000);
    }),
  );
  return { children, lanes };
}

/** Runs one scenario; always cleans up, even when it fails. */
export async function runLoadScenario(
  scenario: LoadScenario,
  settings: LoadSettings,
): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'owp-bench-'));
  const children: ChildProcess[] = [];
  // Set inside run(); read by the cleanup whether run() finished or threw.
  const running: { server: ServerChild | null; bare: ChildProcess | null } = {
    server: null,
    bare: null,
  };
  try {
    return await run();
  } finally {
    await Promise.all(children.map((child) => stopChild(child)));
    if (running.bare) await stopChild(running.bare);
    if (running.server) await running.server.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  async function run(): Promise<LoadResult> {
    const { log } = settings;
    const adminToken = `owpa_bench_${randomBytes(16).toString('hex')}`;
    const host = '127.0.0.1';
    let port: number;
    let pid: number;
    let tokens: string[] = [];
    let seed: LoadResult['seed'] = 'none';
    let seedSeconds = 0;
    let admin: ChildProcess | null = null;
    // Ready tasks plus one per worker: each worker takes one when it comes online.
    const seedTasks =
      scenario.mode === 'cycle' ? scenario.ready + scenario.workers : scenario.ready;

    if (scenario.target === 'bare') {
      const bare = (running.bare = forkBench('bench/load/bare-server.mts', 'bare'));
      port = (await nextMessage<{ type: string; port: number }>(bare, 'listening', 30_000)).port;
      pid = bare.pid!;
      tokens = Array.from({ length: scenario.workers }, (_, i) => `bare-token-${i}`);
    } else {
      const mode = seedMode(scenario, settings);
      const dbPath = join(dir, 'owp.db');
      if (mode === 'engine') {
        const seeder = forkBench('bench/load/seed.mts', 'seed');
        children.push(seeder);
        const seeded = await ask<{ type: string; tokens: string[]; elapsedMs: number }>(
          seeder,
          {
            type: 'seed',
            config: { dbPath, tasks: seedTasks, workers: scenario.workers, mix: scenario.mix },
          },
          'seeded',
          300_000,
        );
        tokens = seeded.tokens;
        seedSeconds = seeded.elapsedMs / 1000;
      }
      const env: Record<string, string> = {
        OWP_DB_PATH: dbPath,
        OWP_ADMIN_TOKEN: adminToken,
        OWP_LOG_LEVEL: 'warn',
        // Registration is rate-limited per address (20/min); every bench worker comes from
        // 127.0.0.1.
        OWP_REGISTRATIONS_PER_MINUTE: '1000000',
        // Each of 10,000 workers heartbeats once per loop; a slow run must not turn them offline.
        OWP_HEARTBEAT_TTL: '600',
      };
      const nodeArgs = settings.profileDir
        ? ['--cpu-prof', `--cpu-prof-dir=${join(dir, 'prof')}`]
        : [];
      const server = (running.server = await startOwpServer(env, settings.build, dir, nodeArgs));
      port = server.port;
      pid = server.pid;
      admin = forkBench('bench/load/admin.mts', 'admin');
      children.push(admin);
      await ask(
        admin,
        {
          type: 'config',
          config: {
            host,
            port,
            adminToken,
            lanes: adminLanes(Math.min(scenario.workers, settings.connections)),
            timeoutMs: REQUEST_TIMEOUT_MS,
            workers: scenario.workers,
          },
        },
        'ready',
        30_000,
      );
      if (mode === 'http') {
        const started = performance.now();
        await ask(admin, { type: 'setup' }, 'setup-done', 30_000);
        await ask(
          admin,
          { type: 'seed-tasks', count: seedTasks, mix: scenario.mix },
          'seeded-tasks',
          300_000,
        );
        const registered = await ask<{ type: string; tokens: string[] }>(
          admin,
          { type: 'register', count: scenario.workers, mix: scenario.mix },
          'registered',
          300_000,
        );
        tokens = registered.tokens;
        seedSeconds = (performance.now() - started) / 1000;
      }
      seed = mode;
    }

    const generators = await startGenerators(host, port, tokens, scenario.mode, settings);
    children.push(...generators.children);

    let onlineSeconds = 0;
    if (scenario.target === 'owp') {
      const started = performance.now();
      const online = await Promise.all(
        generators.children.map((child) =>
          ask<{ type: string; failed: number; errors: Record<string, number> }>(
            child,
            { type: 'online' },
            'online-done',
            600_000,
          ),
        ),
      );
      onlineSeconds = (performance.now() - started) / 1000;
      const failed = online.reduce((n, o) => n + o.failed, 0);
      const seen = online.map((o) => JSON.stringify(o.errors)).join(' ');
      if (failed > 0) {
        throw new Error(`${failed} workers failed their first heartbeat (3 tries): ${seen}`);
      }
      if (online.some((o) => Object.keys(o.errors).length > 0)) {
        log(`    first heartbeats needed retries: ${seen}`);
      }
    }

    if (admin && scenario.mode === 'cycle') {
      await ask(admin, { type: 'start-refill' }, 'refilling', 10_000);
      const { state } = await ask<{ type: string; state: { tasks_ready: number } }>(
        admin,
        { type: 'state' },
        'state',
        30_000,
      );
      if (state.tasks_ready < scenario.ready) {
        admin.send({ type: 'create', count: scenario.ready - state.tasks_ready });
      }
      // Each merged task is replaced by a new one: the queue stays at its depth.
      for (const child of generators.children) {
        child.on('message', (message: { type: string; merged?: number }) => {
          if (message.type === 'progress') admin!.send({ type: 'create', count: message.merged });
        });
      }
    }

    await Promise.all(
      generators.children.map((child) => ask(child, { type: 'run' }, 'running', 10_000)),
    );
    log(`    warm-up ${settings.warmupSeconds} s …`);
    await sleep(settings.warmupSeconds * 1000);

    const marks = generators.children.map((child) =>
      ask(child, { type: 'mark' }, 'marked', 10_000),
    );
    if (admin) marks.push(ask(admin, { type: 'mark' }, 'marked', 10_000));
    await Promise.all(marks);
    const base = `http://${host}:${port}`;
    const metricsBefore: MetricsScrape | null =
      scenario.target === 'owp' ? await scrapeMetrics(base) : null;
    const metricsStart = performance.now();
    const serverUse = new ProcessSampler(pid);
    const generatorUse = generators.children.map((child) => new ProcessSampler(child.pid!));
    const adminUse = admin ? new ProcessSampler(admin.pid!) : null;
    const machineUse = new MachineSampler();
    for (const sampler of [serverUse, ...generatorUse, adminUse, machineUse]) sampler?.start();
    log(`    measuring ${settings.measureSeconds} s …`);
    await sleep(settings.measureSeconds * 1000);

    const reports = await Promise.all(
      generators.children.map((child) =>
        ask<GeneratorReport & { type: string }>(child, { type: 'report' }, 'report', 30_000),
      ),
    );
    const adminReport = admin
      ? await ask<AdminReport>(admin, { type: 'report' }, 'report', 30_000)
      : null;
    const server_ = serverUse.stop();
    const metricsAfter = metricsBefore ? await scrapeMetrics(base) : null;
    const serverMetrics = metricsWindow(
      metricsBefore,
      metricsAfter,
      (performance.now() - metricsStart) / 1000,
    );
    const generatorsCpu = generatorUse.reduce((sum, s) => sum + s.stop().cpuPercent, 0);
    const adminCpu = adminUse ? adminUse.stop().cpuPercent : 0;
    const machine = machineUse.stop();

    let readyAtEnd: number | null = null;
    if (admin) {
      const { state } = await ask<{ type: string; state: { tasks_ready: number } }>(
        admin,
        { type: 'state' },
        'state',
        30_000,
      );
      readyAtEnd = state.tasks_ready;
    }

    // Each generator's own window (mark to report), so message latency does not skew rates.
    const windowSeconds = reports.reduce((sum, r) => sum + r.elapsedMs, 0) / reports.length / 1000;
    const callTypes = [...new Set(reports.flatMap((r) => Object.keys(r.calls)))];
    const calls: Record<string, LatencySummary> = {};
    for (const type of callTypes) {
      const merged = mergeSnapshots(reports.map((r) => r.calls[type as keyof typeof r.calls]));
      calls[type] = summarize(merged.snapshot(), windowSeconds);
    }
    const errors: Record<string, number> = { ...(adminReport?.errors ?? {}) };
    for (const report of reports) {
      for (const [key, n] of Object.entries(report.errors)) errors[key] = (errors[key] ?? 0) + n;
    }
    const merged = reports.reduce((sum, r) => sum + r.merged, 0);
    const requests = Object.values(calls).reduce((sum, c) => sum + c.count, 0);
    const cycle = mergeSnapshots(reports.map((r) => r.cycle));

    let profile: string | undefined;
    if (settings.profileDir && running.server) {
      await running.server.stop();
      const profDir = join(dir, 'prof');
      const file = existsSync(profDir)
        ? readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))
        : undefined;
      if (file) {
        profile = await summarizeCpuProfile(
          join(profDir, file),
          join(settings.profileDir, `performance-profile-${scenario.name}.md`),
          scenario.label,
        );
      }
    }

    return {
      name: scenario.name,
      label: scenario.label,
      group: scenario.group,
      target: scenario.target,
      mode: scenario.mode,
      workers: scenario.workers,
      readyTarget: scenario.ready,
      rareTaskFraction: scenario.mix.rareTaskFraction,
      rareWorkerFraction: scenario.mix.rareWorkerFraction,
      lanes: generators.lanes,
      generators: generators.children.length,
      seed,
      seedSeconds,
      onlineSeconds,
      build: scenario.target === 'bare' ? 'bare' : settings.build,
      windowSeconds,
      completedPerSecond: reports.reduce((sum, r) => sum + r.merged / (r.elapsedMs / 1000), 0),
      requestsPerSecond: requests / windowSeconds,
      calls,
      cycle: merged > 0 ? summarize(cycle.snapshot(), windowSeconds) : null,
      createTask: adminReport
        ? summarize(adminReport.createTask, adminReport.elapsedMs / 1000)
        : null,
      emptyWork: reports.reduce((sum, r) => sum + r.emptyWork, 0),
      errors,
      server: server_,
      serverMetrics,
      generatorsCpuPercent: generatorsCpu,
      adminCpuPercent: adminCpu,
      otherCpuPercent: Math.max(
        0,
        machine.busyPercent - server_.cpuPercent - generatorsCpu - adminCpu,
      ),
      iowaitPercent: machine.iowaitPercent,
      readyAtEnd,
      ...(profile ? { profile } : {}),
    };
  }
}
