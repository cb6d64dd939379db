/**
 * Part 6 — embedded persistence. The plugin's database writer (engine on sql.js, saved by the
 * Persister to a real folder) runs in a child process and is killed with SIGKILL at random
 * moments, many times. Every reload must give a valid database holding every change the writer
 * reported saved.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../scheduler/clock.ts';
import { Scheduler } from '../../scheduler/engine.ts';
import { Persister } from '../../plugin/embedded/persister.ts';
import { SqlJsDriver } from '../../plugin/embedded/sqljs-driver.ts';
import { FolderBinaryStore } from '../../plugin/testing/folder-binary-store.ts';
import { FigureSheet, atLeast, measured, zero } from '../support/figures.ts';
import { ChildProcesses, REPO_ROOT } from '../support/processes.ts';
import { between, runSeed, seededRandom } from '../support/seeded-random.ts';

const KILLS = 32;
const children = new ChildProcesses();
const folder = mkdtempSync(join(tmpdir(), 'owp-embedded-kill-'));
afterAll(async () => {
  await children.killAll();
  rmSync(folder, { recursive: true, force: true });
});
const sheet = new FigureSheet(6, 'Embedded persistence');

interface Run {
  loaded: number;
  saved: { change: number; seq: number };
  saves: number;
  changes: Map<number, { task: string; version: number }>;
}

/** Runs the writer until it reported `minSaves` saves, waits `extraMs`, and kills it. */
function runAndKill(seed: number, minSaves: number, extraMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const run: Run = { loaded: -1, saved: { change: 0, seq: 0 }, saves: 0, changes: new Map() };
    let killing = false;
    let stderr = '';
    const writer = children.spawnTsx(
      join(REPO_ROOT, 'reliability/embedded/engine-writer.ts'),
      [folder, String(seed)],
      {},
      (line, stream) => {
        if (stream === 'stderr') {
          stderr += `${line}\n`;
          return;
        }
        const [word, a, b, c] = line.split(' ');
        if (word === 'loaded') run.loaded = Number(a);
        if (word === 'change') run.changes.set(Number(a), { task: b!, version: Number(c) });
        if (word === 'saved') {
          run.saved = { change: Number(a), seq: Number(b) };
          if (++run.saves >= minSaves && !killing) {
            killing = true;
            setTimeout(() => writer.kill('SIGKILL'), extraMs);
          }
        }
      },
    );
    const timer = setTimeout(() => writer.kill('SIGKILL'), 30_000);
    void children.exited(writer).then(({ signal }) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && killing) resolve(run);
      else
        reject(new Error(`writer ended without being killed (${signal}): ${stderr.slice(0, 500)}`));
    });
  });
}

/** Reloads the folder as the plugin would, and checks the database is whole. */
async function reload() {
  const persister = new Persister(new FolderBinaryStore(folder), {
    exportBytes: () => {
      throw new Error('read only');
    },
  });
  const bytes = await persister.load();
  const driver = await SqlJsDriver.open(bytes ?? undefined);
  const integrity = driver.get<{ integrity_check: string }>(
    'PRAGMA integrity_check',
  )?.integrity_check;
  const engine = new Scheduler({ driver, clock: systemClock });
  const tasks = new Map(
    engine.listTasks({ repo: 'embedded', limit: 500 }).tasks.map((task) => [task.task_id, task]),
  );
  const lastSeq = engine.state().last_event_seq;
  driver.close();
  return { integrity, tasks, lastSeq, skipped: persister.skippedOnLoad.length };
}

describe('embedded persistence: the writer killed with SIGKILL mid-save', () => {
  it(
    `reloads a valid database holding every saved change after ${KILLS} kills`,
    { timeout: 240_000 },
    async () => {
      const seed = runSeed();
      const random = seededRandom(seed + 6);
      /** Changes reported saved, with the version each left its task at. */
      const saved = new Map<number, { task: string; version: number }>();
      let savedUpTo = 0;
      let savedSeq = 0;
      let kills = 0;
      let validReloads = 0;
      let tornSkipped = 0;
      let changesChecked = 0;
      const lost: string[] = [];
      for (let round = 0; round < KILLS; round++) {
        const run = await runAndKill(seed + round, between(random, 1, 5), between(random, 0, 120));
        kills++;
        if (run.loaded < savedUpTo)
          lost.push(`run ${round} loaded change ${run.loaded}, ${savedUpTo} was saved`);
        // Changes past the last one saved were never promised; the next run numbers from what it loads.
        for (const [change, effect] of run.changes)
          if (change <= run.saved.change) saved.set(change, effect);
        savedUpTo = Math.max(savedUpTo, run.saved.change);
        savedSeq = Math.max(savedSeq, run.saved.seq);

        const reloaded = await reload();
        tornSkipped += reloaded.skipped > 0 ? 1 : 0;
        if (reloaded.integrity === 'ok') validReloads++;
        else lost.push(`reload ${round}: integrity_check says ${reloaded.integrity}`);
        if (reloaded.lastSeq < savedSeq)
          lost.push(`reload ${round}: events up to ${reloaded.lastSeq}, ${savedSeq} saved`);
        for (const [change, { task, version }] of saved) {
          if (change > savedUpTo) continue;
          changesChecked++;
          const found = reloaded.tasks.get(task);
          if (!found || found.version < version) {
            lost.push(
              `reload ${round}: change ${change} (${task} v${version}) missing, found v${found?.version ?? '-'}`,
            );
          }
        }
        // A change number can be reused by the next run once it is past what was saved.
        for (const change of [...saved.keys()]) if (change > savedUpTo) saved.delete(change);
      }
      sheet.add(
        atLeast('writer kills (SIGKILL at random moments)', kills, 30),
        atLeast('reloads giving a valid database', validReloads, kills),
        measured('reloads that passed over a torn save (kill landed mid-save)', tornSkipped),
        measured(
          'changes reported saved / checked across reloads',
          `${savedUpTo} / ${changesChecked}`,
        ),
        zero('saved changes lost', lost.length),
      );
      for (const line of lost.slice(0, 5)) sheet.note(line);
      expect(lost).toEqual([]);
      expect(validReloads).toBe(kills);
      expect(savedUpTo).toBeGreaterThan(KILLS);
    },
  );
});
