/**
 * Part 1 — crash and recover. A real server process under load from real worker processes is
 * killed with SIGKILL at random moments and restarted on the same database; one worker process
 * is killed for good mid-run. Afterwards the client histories are checked against the database.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readDbFacts } from '../support/db-facts.ts';
import { FigureSheet, atLeast, measured, zero } from '../support/figures.ts';
import { ChildProcesses, REPO_ROOT, freePort, sleep, waitUntil } from '../support/processes.ts';
import { between, runSeed, seededRandom } from '../support/seeded-random.ts';
import { readHistory, type CallRecord } from './call-history.ts';
import { checkCrashRun } from './crash-checker.ts';

const KILLS = 22;
const FLOW_WORKERS = 8;
const LEASE_TTL_S = 10;
const HEARTBEAT_TTL_S = 5;
/** The server caps the heartbeat coalescing window at a tenth of the TTL; this is that cap. */
const HEARTBEAT_COALESCE_MS = 500;
/** server/main.ts sweeps expired leases once a second. */
const SWEEP_INTERVAL_MS = 1000;
/** After this many restarts the holding worker is killed for good. */
const KILL_HOLDER_AFTER = 4;

const children = new ChildProcesses();
const dir = mkdtempSync(join(tmpdir(), 'owp-crash-'));
afterAll(async () => {
  await children.killAll();
  rmSync(dir, { recursive: true, force: true });
});

const sheet = new FigureSheet(1, 'Crash and recover');

describe('crash and recover: SIGKILL the server under load, restart it on the same database', () => {
  it(
    `loses, duplicates and double-grants nothing across ${KILLS} kills`,
    { timeout: 300_000 },
    async () => {
      const seed = runSeed();
      const random = seededRandom(seed);
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const dbPath = join(dir, 'owp.db');
      const stopFile = join(dir, 'stop');
      const adminToken = `owpa_reliability_${seed}_0123456789abcdef`;
      const serverEnv = {
        OWP_HOST: '127.0.0.1',
        OWP_PORT: String(port),
        OWP_DB_PATH: dbPath,
        OWP_ADMIN_TOKEN: adminToken,
        OWP_LEASE_TTL: String(LEASE_TTL_S),
        OWP_HEARTBEAT_TTL: String(HEARTBEAT_TTL_S),
        OWP_HEARTBEAT_COALESCE_MS: String(HEARTBEAT_COALESCE_MS),
        OWP_LOG_LEVEL: 'warn',
      };
      const serverErrors: string[] = [];
      const downtime: Array<[number, number]> = [];
      const restartMs: number[] = [];

      const healthy = async () => {
        try {
          return (await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) })).ok;
        } catch {
          return false;
        }
      };
      const startServerProcess = async (): Promise<ChildProcess> => {
        const server = children.spawnTsx(
          join(REPO_ROOT, 'server/main.ts'),
          [],
          serverEnv,
          (line, stream) => {
            if (stream === 'stderr' || /"level":(50|60)/.test(line)) serverErrors.push(line);
          },
        );
        await waitUntil('the server to answer /healthz', healthy, 20_000);
        return server;
      };

      // Start the server, then the admin and the workers.
      let server = await startServerProcess();
      const history = (name: string) => join(dir, `${name}.jsonl`);
      const maxMs = 240_000;
      children.spawnTsx(join(REPO_ROOT, 'reliability/crash/admin-process.ts'), [
        JSON.stringify({
          base,
          history: history('admin'),
          adminToken,
          repo: 'crash',
          stopFile,
          seed,
          maxMs,
          intervalMs: 70,
          holdEvery: 8,
          maxReady: 60,
        }),
      ]);
      const worker = (
        name: string,
        mode: 'flow' | 'hold',
        workerSeed: number,
        skills: string[] = [],
      ) =>
        children.spawnTsx(join(REPO_ROOT, 'reliability/crash/worker-process.ts'), [
          JSON.stringify({
            base,
            history: history(name),
            name,
            mode,
            skills,
            stopFile,
            seed: workerSeed,
            maxMs,
          }),
        ]);
      const flowWorkers = Array.from({ length: FLOW_WORKERS }, (_, i) =>
        worker(`flow-${i + 1}`, 'flow', seed + i + 1),
      );
      const holder = worker('holder', 'hold', seed + 100, ['hold']);

      /** Tasks the holding worker has started (and so holds until it dies). */
      const holderStarted = () =>
        new Set(
          readHistory(history('holder'))
            .filter((c) => c.op === 'status' && c.http === 200)
            .map((c) => c.path),
        ).size;
      let holderDiedAt: number | undefined;

      // Kill the server at random moments, restarting it each time on the same database.
      const startedAt = Date.now();
      let kills = 0;
      for (let round = 1; round <= KILLS; round++) {
        const upFor = between(random, 300, 2500);
        if (
          holderDiedAt === undefined &&
          round > KILL_HOLDER_AFTER &&
          (holderStarted() >= 2 || (round > KILL_HOLDER_AFTER + 6 && holderStarted() >= 1))
        ) {
          await sleep(Math.floor(upFor / 2));
          await children.kill(holder);
          holderDiedAt = Date.now();
          await sleep(Math.ceil(upFor / 2));
        } else {
          await sleep(upFor);
        }
        await children.kill(server);
        const killedAt = Date.now();
        kills++;
        await sleep(between(random, 0, 400));
        const restartAt = Date.now();
        server = await startServerProcess();
        restartMs.push(Date.now() - restartAt);
        downtime.push([killedAt, Date.now()]);
      }
      // Let the dead worker's last leases run out (TTL + sweep) before winding down.
      const settleUntil = (holderDiedAt ?? Date.now()) + LEASE_TTL_S * 1000 + 3 * SWEEP_INTERVAL_MS;
      await sleep(Math.max(2000, settleUntil - Date.now()));

      // Wind down: clients stop, the server is killed once more, and the database is read cold.
      writeFileSync(stopFile, 'stop');
      const windDownAt = Date.now();
      await Promise.all([...flowWorkers].map((child) => children.waitOrKill(child, 15_000)));
      await children.kill(server);
      kills++;
      sheet.note(`wind-down took ${Date.now() - windDownAt} ms`);
      const runMs = Date.now() - startedAt;

      const calls: CallRecord[] = [
        'admin',
        'holder',
        ...flowWorkers.map((_, i) => `flow-${i + 1}`),
      ].flatMap((name) => readHistory(history(name)));
      const holderId = readHistory(history('holder')).find(
        (c) => c.op === 'register' && c.http === 200,
      )?.response as { worker_id: string } | undefined;
      const db = readDbFacts(dbPath);
      const report = checkCrashRun({
        calls,
        db,
        deadWorker:
          holderId && holderDiedAt
            ? { worker_id: holderId.worker_id, diedAt: holderDiedAt }
            : undefined,
        downtime,
        leaseTtlMs: LEASE_TTL_S * 1000,
        sweepIntervalMs: SWEEP_INTERVAL_MS,
        slackMs: 500,
        heartbeatCoalesceMs: HEARTBEAT_COALESCE_MS,
      });

      const audit = report.leaseAudit;
      const lost = report.lost.length + report.regressed.length;
      const networkRetries = calls.filter((c) => c.attempts > 1).length;
      sheet.add(
        atLeast('kills survived (SIGKILL, restart on the same DB)', kills, 20),
        atLeast('acknowledged writes checked', report.acknowledged.total, 1000),
        measured(
          '… of which creations / status / releases / heartbeats / registrations',
          [
            report.acknowledged.creations,
            report.acknowledged.statusUpdates,
            report.acknowledged.releases,
            report.acknowledged.heartbeats,
            report.acknowledged.registrations,
          ].join(' / '),
        ),
        measured('calls answered only after a retry across a kill', networkRetries),
        measured(
          'creations cut off by a kill but applied (allowed)',
          report.unacknowledgedButApplied,
        ),
        zero('lost writes', lost),
        zero('duplicated tasks', report.duplicated.length + report.phantom.length),
        zero('double grants (overlapping leases)', audit.doubleGrants.length),
        zero(
          'writes outside their lease / epoch errors',
          audit.writesOutsideLease.length + audit.epochErrors.length + report.misattributed.length,
        ),
        atLeast("dead worker's leases checked", report.deadWorker.leases, 2),
        zero(
          'dead-worker leases not requeued within TTL + sweep + downtime',
          report.deadWorker.notRequeued.length + report.deadWorker.late.length,
        ),
        measured(
          'dead worker: slowest requeue after death / worst margin to the bound',
          report.deadWorker.slowestRequeueMs === null
            ? 'n/a'
            : `${report.deadWorker.slowestRequeueMs} ms / ${report.deadWorker.worstMarginMs} ms`,
        ),
        zero('5xx answers', report.serverErrors.length),
        measured(
          'server restart time, mean / max',
          `${Math.round(restartMs.reduce((a, b) => a + b, 0) / restartMs.length)} / ${Math.max(...restartMs)} ms`,
        ),
        measured(
          'run time',
          `${Math.round(runMs / 1000)} s, ${db.leases.length} leases, ${db.tasks.length} tasks`,
        ),
      );
      if (db.integrity !== 'ok') sheet.note(`integrity_check: ${db.integrity}`);
      sheet.note(`crash run seed ${seed}`);

      expect(db.integrity).toBe('ok');
      expect(report.lost).toEqual([]);
      expect(report.regressed).toEqual([]);
      expect(report.duplicated).toEqual([]);
      expect(report.phantom).toEqual([]);
      expect(report.misattributed).toEqual([]);
      expect(audit.doubleGrants).toEqual([]);
      expect(audit.epochErrors).toEqual([]);
      expect(audit.writesOutsideLease).toEqual([]);
      expect(report.serverErrors).toEqual([]);
      expect(holderDiedAt, 'the holding worker was killed').toBeDefined();
      expect(report.deadWorker.leases).toBeGreaterThanOrEqual(2);
      expect(report.deadWorker.notRequeued).toEqual([]);
      expect(report.deadWorker.late).toEqual([]);
      expect(report.acknowledged.total).toBeGreaterThanOrEqual(1000);
      expect(kills).toBeGreaterThanOrEqual(20);
      expect(serverErrors.filter((line) => !line.includes('ExperimentalWarning'))).toEqual([]);
    },
  );
});
