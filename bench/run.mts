/**
 * `npm run bench`: every measure of issue 7 — load over the v0.1 wire against the server and a bare
 * Fastify baseline, the scaling series, the skill-sparse case, live events, and the embedded
 * figures — then docs/performance.md, its chart and docs/performance-results.json.
 *
 * The options: `npm run bench -- --help` (USAGE below).
 */
import type { ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { EmbeddedOptions, EmbeddedResults } from './embedded-bench.mts';
import {
  ROOT,
  ask,
  distIsFresh,
  forkBench,
  guardChildren,
  killAllChildren,
  startOwpServer,
  stopChild,
} from './lib/children.mts';
import { writeFormatted } from './lib/format.mts';
import { MachineSampler, machineInfo, rssMb } from './lib/proc-stats.mts';
import { runLoadScenario, type LoadSettings } from './load/run-load.mts';
import { runSseScenario } from './load/run-sse.mts';
import { renderChart, renderReport, targetRows } from './report.mts';
import { betterWindow, isQuietWindow, type BenchResults } from './results.mts';
import { GROUPS, LOAD_SCENARIOS, type LoadScenario } from './scenarios.mts';

/** RSS of a server idle for 3 s on an empty database: through tsx and, if built, the bundle. */
async function idleServerRss(): Promise<{ src: number; dist: number | null }> {
  const measure = async (how: 'src' | 'dist') => {
    const dir = mkdtempSync(join(tmpdir(), 'owp-bench-idle-'));
    try {
      const server = await startOwpServer(
        {
          OWP_DB_PATH: join(dir, 'owp.db'),
          OWP_ADMIN_TOKEN: `owpa_bench_idle_${process.pid}_token`,
          OWP_LOG_LEVEL: 'warn',
        },
        how,
        dir,
      );
      await new Promise((done) => setTimeout(done, 3000));
      const rss = rssMb(server.pid);
      await server.stop();
      return rss;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const hasDist = existsSync(join(ROOT, 'dist/server/main.js'));
  return { src: await measure('src'), dist: hasDist ? await measure('dist') : null };
}

const USAGE = `npm run bench [-- options]

  (none)                 everything (about 6–8 minutes on 2 cores); rewrites docs/performance.md
  --quick                a smoke (about 1 minute); writes no docs unless --write
  --only=LIST            groups (${GROUPS.join(', ')}) or scenario names (see --list);
                         other figures are kept from the last run
  --list                 the scenarios
  --warmup=S --measure=S --generators=N --connections=N --sse-clients=N
  --server=auto|src|dist --seed=auto|http|engine --profile --no-write --json=FILE
  --render-only          redraw the docs from docs/performance-results.json
`;

const { values: flags } = parseFlags({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    list: { type: 'boolean', default: false },
    warmup: { type: 'string' },
    measure: { type: 'string' },
    generators: { type: 'string' },
    connections: { type: 'string' },
    'sse-clients': { type: 'string' },
    server: { type: 'string', default: 'auto' },
    seed: { type: 'string', default: 'auto' },
    profile: { type: 'boolean', default: false },
    write: { type: 'boolean' },
    json: { type: 'string' },
    'render-only': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
  },
  allowPositionals: false,
});

/** The flags, or the usage and exit 2 for one it does not know (`--help`: the usage, exit 0). */
function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  if (process.argv.slice(2).some((arg) => arg === '--help' || arg === '-h')) {
    console.log(USAGE);
    process.exit(0);
  }
  try {
    return parseArgs(config);
  } catch (error) {
    console.error(`bench: ${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
}

const quick = flags.quick!;
const number = (flag: keyof typeof flags, fallback: number) => {
  const value = flags[flag] as string | undefined;
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed <= 0) {
    console.error(`bench: --${flag} takes a positive number, not "${value}"\n\n${USAGE}`);
    process.exit(2);
  }
  return parsed;
};
const log = (line: string) => console.log(line);

if (flags.list) {
  for (const s of LOAD_SCENARIOS) {
    console.log(
      `${s.name.padEnd(18)} ${s.group.padEnd(9)} ${s.label}${s.quick ? '  (quick)' : ''}`,
    );
  }
  console.log(`${'sse'.padEnd(18)} ${'sse'.padEnd(9)} live events, 500 clients`);
  console.log(
    `${'embedded'.padEnd(18)} ${'embedded'.padEnd(9)} sql.js persistence, engine, plugin start`,
  );
  process.exit(0);
}

if (flags['render-only']) {
  // Redraws docs/performance.md and the chart from docs/performance-results.json, measuring nothing.
  const saved = JSON.parse(
    readFileSync(join(ROOT, 'docs/performance-results.json'), 'utf8'),
  ) as BenchResults;
  saved.profiles = readdirSync(join(ROOT, 'docs'))
    .filter((f) => /^performance-profile-.+\.md$/.test(f))
    .sort();
  await writeFormatted(join(ROOT, 'docs/performance.md'), renderReport(saved));
  writeFileSync(join(ROOT, 'docs/performance-chart.svg'), renderChart(saved));
  console.log('redrew docs/performance.md and docs/performance-chart.svg from the saved results');
  process.exit(0);
}

const only = flags.only ? new Set(flags.only.split(',').map((s) => s.trim())) : null;
const known = new Set<string>([...GROUPS, ...LOAD_SCENARIOS.map((s) => s.name)]);
for (const name of only ?? []) {
  if (!known.has(name)) {
    console.error(`unknown --only entry: ${name} (see --list)`);
    process.exit(2);
  }
}
const selected = (group: string, name = group, inQuick = true) =>
  (only ? only.has(group) || only.has(name) : true) && (!quick || inQuick || only !== null);

const build: 'src' | 'dist' =
  flags.server === 'dist'
    ? 'dist'
    : flags.server === 'src'
      ? 'src'
      : distIsFresh()
        ? 'dist'
        : 'src';
if (flags.server === 'dist' && !existsSync(join(ROOT, 'dist/server/main.js'))) {
  console.error('--server=dist: run npm run build first');
  process.exit(2);
}
const settings: LoadSettings = {
  warmupSeconds: number('warmup', quick ? 1 : 3),
  measureSeconds: number('measure', quick ? 3 : 10),
  generators: number('generators', 2),
  connections: number('connections', 128),
  build,
  seed: flags.seed as LoadSettings['seed'],
  profileDir: flags.profile ? join(ROOT, 'docs') : null,
  log,
};
const sseClients = number('sse-clients', quick ? 100 : 500);
const write = flags['no-write'] ? false : (flags.write ?? !quick);

guardChildren();
// Everything is bounded in time: a hung child cannot hold the run (or CI) forever.
const watchdog = setTimeout(
  () => {
    console.error('bench: overall time limit reached; stopping every child');
    killAllChildren();
    process.exit(1);
  },
  (quick ? 5 : 30) * 60_000,
);
watchdog.unref();

// Other jobs on the machine take CPU from the server under test: measure, warn, record.
const background = new MachineSampler();
background.start();
await new Promise((done) => setTimeout(done, 2000));
const backgroundCpuPercent = background.stop().busyPercent;

const resultsFile = join(ROOT, 'docs/performance-results.json');
const previous: BenchResults | null =
  write && existsSync(resultsFile)
    ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as BenchResults)
    : null;
const results: BenchResults = {
  machine: machineInfo(),
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  settings: {
    warmupSeconds: settings.warmupSeconds,
    measureSeconds: settings.measureSeconds,
    generators: settings.generators,
    connections: settings.connections,
    build,
    backgroundCpuPercent,
  },
  measuredAt: { ...(previous?.measuredAt ?? {}) },
  load: { ...(previous?.load ?? {}) },
  sse: previous?.sse ?? null,
  ...(previous?.idleRss ? { idleRss: previous.idleRss } : {}),
  embedded: previous?.embedded ?? null,
  failures: {},
};
const today = new Date().toISOString().slice(0, 19).replace('T', ' ');

log(
  `OWP Pool bench — ${results.machine.cpus} CPUs (${results.machine.cpuModel}), node ${results.machine.node}`,
);
if (backgroundCpuPercent > 15) {
  log(
    `WARNING: the machine was already busy (${backgroundCpuPercent.toFixed(0)} % of one core) before the ` +
      'bench started; figures will be lower than the machine can do.',
  );
}
log(
  `server: ${build === 'dist' ? 'dist/server/main.js' : 'server/main.ts via tsx'}; warm-up ${settings.warmupSeconds} s, ` +
    `measure ${settings.measureSeconds} s, ${settings.generators} generators, ≤ ${settings.connections} connections`,
);

// The baseline pair is a ratio of two windows; other jobs on a shared machine can hit one window
// and not the other. Interleaved and repeated (bare, OWP, bare, OWP), the best quiet window of
// each counts (`betterWindow`); while either side has no quiet window yet, up to two more rounds.
const baselineRounds = quick ? 1 : 2;
const maxBaselineRounds = quick ? 1 : 4;
const runList = LOAD_SCENARIOS.filter((s) => selected(s.group, s.name, s.quick));
const baselinePair = runList.filter((s) => s.group === 'baseline');
const attempts = new Map<string, number>();

async function runScenario(scenario: LoadScenario): Promise<void> {
  const attempt = (attempts.get(scenario.name) ?? 0) + 1;
  attempts.set(scenario.name, attempt);
  log(`\n▶ ${scenario.name}: ${scenario.label}${attempt > 1 ? ` (round ${attempt})` : ''}`);
  try {
    const result = { ...(await runLoadScenario(scenario, settings)), attempts: attempt };
    const earlier = attempt > 1 ? results.load[scenario.name] : undefined;
    results.load[scenario.name] =
      !earlier || betterWindow(result, earlier) ? result : { ...earlier, attempts: attempt };
    results.measuredAt[scenario.name] = today;
    const work = result.calls.work;
    log(
      `  ${result.completedPerSecond.toFixed(0)} tasks/s, ${result.requestsPerSecond.toFixed(0)} req/s, ` +
        (work ? `work p50 ${work.p50.toFixed(1)} ms p99 ${work.p99.toFixed(1)} ms, ` : '') +
        `server CPU ${result.server.cpuPercent.toFixed(0)} %, RSS ${result.server.peakRssMb.toFixed(0)} MB, ` +
        `other CPU ${result.otherCpuPercent.toFixed(0)} %` +
        (result.mode === 'cycle'
          ? `, empty work ${result.emptyWork}, ready at end ${result.readyAtEnd}`
          : '') +
        (Object.keys(result.errors).length ? `, errors ${JSON.stringify(result.errors)}` : ''),
    );
  } catch (error) {
    results.failures[scenario.name] = (error as Error).message;
    log(`  FAILED: ${(error as Error).message}`);
  }
}

const baselineQuiet = () =>
  baselinePair.every((s) => {
    const kept = results.load[s.name];
    return kept !== undefined && isQuietWindow(kept);
  });
for (let round = 1; round <= maxBaselineRounds; round++) {
  if (round > baselineRounds) {
    if (baselineQuiet()) break;
    log('\n(the baseline windows so far shared the machine: another round)');
  }
  for (const scenario of baselinePair) await runScenario(scenario);
}
for (const scenario of runList.filter((s) => s.group !== 'baseline')) await runScenario(scenario);

if (selected('baseline')) {
  log(`\n▶ idle server RSS (tsx vs bundle)`);
  try {
    results.idleRss = await idleServerRss();
    results.measuredAt.idleRss = today;
    log(
      `  src via tsx ${results.idleRss.src.toFixed(0)} MB, dist ${results.idleRss.dist?.toFixed(0) ?? '–'} MB`,
    );
  } catch (error) {
    results.failures.idleRss = (error as Error).message;
    log(`  FAILED: ${(error as Error).message}`);
  }
}

if (selected('sse')) {
  log(`\n▶ sse: live events`);
  try {
    results.sse = await runSseScenario({
      clients: sseClients,
      processes: quick ? 2 : 4,
      ratePerSecond: quick ? 20 : 50,
      seconds: quick ? 3 : 10,
      build,
      log,
    });
    results.measuredAt.sse = today;
    const { latency, deliveries, expected } = results.sse;
    log(
      `  p50 ${latency.p50.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms, ${deliveries}/${expected} delivered`,
    );
  } catch (error) {
    results.failures.sse = (error as Error).message;
    log(`  FAILED: ${(error as Error).message}`);
  }
}

if (selected('embedded')) {
  log(`\n▶ embedded: sql.js persistence, engine in-process, plugin start`);
  let child: ChildProcess | null = null;
  try {
    child = forkBench('bench/embedded-bench.mts', 'embedded');
    const options: EmbeddedOptions = quick
      ? { persistenceTasks: [10_000], repeats: 3, engineScale: 0.25, pluginNotes: 2_000 }
      : { persistenceTasks: [10_000, 100_000], repeats: 7, engineScale: 1, pluginNotes: 10_000 };
    const reply = await ask<{ type: string; results: EmbeddedResults }>(
      child,
      { type: 'run', options },
      'embedded',
      15 * 60_000,
    );
    results.embedded = reply.results;
    results.measuredAt.embedded = today;
    for (const row of reply.results.persistence) {
      log(
        `  ${row.tasks} tasks: export ${row.exportMs.toFixed(1)} ms, save ${row.saveMs.toFixed(1)} ms`,
      );
    }
    for (const row of reply.results.engineCycles) {
      log(`  engine ${row.driver}: ${row.cyclesPerSecond} cycles/s`);
    }
    for (const row of reply.results.storageFloor ?? []) {
      log(`  storage floor ${row.driver}: ${row.cyclesPerSecond} cycles/s`);
    }
    const plugin = reply.results.pluginStart;
    log(
      plugin.status === 'measured'
        ? `  plugin ready with ${plugin.notes} notes: ${plugin.readyMs.toFixed(0)} ms; edit → scheduler ${plugin.editToSchedulerMs.toFixed(0)} ms`
        : `  plugin start: TODO (${plugin.reason})`,
    );
  } catch (error) {
    results.failures.embedded = (error as Error).message;
    log(`  FAILED: ${(error as Error).message}`);
  } finally {
    if (child) await stopChild(child);
  }
}

results.profiles = existsSync(join(ROOT, 'docs'))
  ? readdirSync(join(ROOT, 'docs'))
      .filter((f) => /^performance-profile-.+\.md$/.test(f))
      .sort()
  : [];
// Rendered even when not written, so the smoke proves the report code works too.
const report = renderReport(results);
const chart = renderChart(results);
log('\nTargets (issue 7):');
for (const row of targetRows(results)) {
  log(`  ${row.mark.padEnd(9)} ${row.measure} — target ${row.target}, measured ${row.measured}`);
}
if (flags.json) writeFileSync(flags.json, `${JSON.stringify(results, null, 2)}\n`);
if (write) {
  mkdirSync(join(ROOT, 'docs'), { recursive: true });
  await writeFormatted(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  await writeFormatted(join(ROOT, 'docs/performance.md'), report);
  writeFileSync(join(ROOT, 'docs/performance-chart.svg'), chart);
  log('\nwrote docs/performance.md, docs/performance-chart.svg, docs/performance-results.json');
} else {
  log('\n(no docs written: --quick or --no-write; pass --write to write them)');
}
const failed = Object.keys(results.failures);
if (failed.length > 0) log(`\nfailed: ${failed.join(', ')}`);
killAllChildren();
process.exit(failed.length > 0 ? 1 : 0);
