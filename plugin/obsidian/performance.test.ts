// @vitest-environment happy-dom
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import type { OwpEvent } from '../../protocol/index.ts';
import { EmbeddedBackend } from '../backend/embedded-backend.ts';
import { fileNameForTitle, taskToNote } from '../sync/note-mapping.ts';
import { FolderBinaryStore } from '../testing/folder-binary-store.ts';
import { stringifyYaml } from '../testing/obsidian-fake/index.ts';
import OwpPoolPlugin from '../main.ts';
import {
  PLUGIN_DIR,
  startPlugin,
  stopPlugin,
  type StartedPlugin,
} from './testing/plugin-harness.ts';

vi.mock('./sql-wasm.ts', async () => {
  const { readFileSync: read } = await import('node:fs');
  return { sqlWasmBinary: new Uint8Array(read('node_modules/sql.js/dist/sql-wasm.wasm')) };
});

const TASKS = 5000;
const vault = mkdtempSync(join(tmpdir(), 'owp-perf-vault-'));
let started: StartedPlugin | null = null;

afterAll(async () => {
  if (started) await stopPlugin(started);
  rmSync(vault, { recursive: true, force: true });
});

/**
 * A vault as a user of a while has it: 5,000 tasks in the embedded pool, each with its note on
 * disk, in agreement. Written straight to disk (the engine's own API for the pool, plain files for
 * the notes), so the measurement below is the plugin's start, not this set-up.
 */
async function seedVault(): Promise<void> {
  const backend = new EmbeddedBackend({
    store: new FolderBinaryStore(join(vault, PLUGIN_DIR, 'db')),
    credentials: { admin: true },
    wasmBinary: new Uint8Array(readFileSync('node_modules/sql.js/dist/sql-wasm.wasm')),
  });
  await backend.start();
  await backend.api.upsertRepo({ repo: 'default' });
  mkdirSync(join(vault, 'Tasks'), { recursive: true });
  for (let i = 0; i < TASKS; i++) {
    const task = await backend.api.createTask({
      repo: 'default',
      title: `Task number ${i}`,
      estimate_points: 1 + (i % 8),
      required_skills: i % 3 === 0 ? ['typescript'] : [],
      description: `What task ${i} is about.`,
    });
    const note = taskToNote(task);
    writeFileSync(
      join(vault, 'Tasks', `${fileNameForTitle(task.title)}.md`),
      `---\n${stringifyYaml(note.frontmatter)}---\n${note.body}`,
    );
  }
  await backend.stop();
}

it(`measures: ready after layout-ready with ${TASKS} task notes; one edit reaching the scheduler`, async () => {
  await seedVault();
  started = await startPlugin(OwpPoolPlugin, { vaultPath: vault, layoutReady: false });
  const { app, plugin } = started;

  let boardMs = 0;
  const t0 = performance.now();
  const unsubscribe = plugin.controller.pool.subscribe((snapshot) => {
    if (snapshot.phase === 'ready' && boardMs === 0) boardMs = performance.now() - t0;
  });
  await app.workspace.setLayoutReady();
  const report = await plugin.ready;
  const readyMs = performance.now() - t0;
  unsubscribe();
  expect(report).toMatchObject({ tasks: TASKS, notes: TASKS, notesCreated: 0, tasksCreated: 0 });

  // One edit: the user raises a task's priority in its note's properties.
  const session = plugin.controller.running!;
  const path = 'Tasks/Task number 42.md';
  const taskId = session.sync!.taskIdOf(path)!;
  const arrived = new Promise<number>((resolve) => {
    const subscription = session.backend.subscribe(
      session.store.snapshot.lastSeq ?? 0,
      (event: OwpEvent) => {
        if (event.type === 'task.updated' && event.task_id === taskId) {
          subscription.close();
          resolve(performance.now());
        }
      },
    );
  });
  const t1 = performance.now();
  await app.fileManager.processFrontMatter(app.vault.getFileByPath(path)!, (frontmatter) => {
    frontmatter.priority = 99;
  });
  const editMs = (await arrived) - t1;
  expect((await session.api.getTask(taskId)).priority).toBe(99);
  // The bodies of the notes found in agreement are checked after the start, in the background.
  await session.sync!.flush();
  const checkedMs = performance.now() - t0;

  console.log(
    `[figures] ${TASKS} task notes: views ready ${boardMs.toFixed(0)} ms after layout-ready, ` +
      `notes reconciled ${readyMs.toFixed(0)} ms after, their bodies checked ${checkedMs.toFixed(0)} ms after; ` +
      `one note edit (made during that check) reached the scheduler in ${editMs.toFixed(0)} ms ` +
      '(fake vault on disk, embedded backend)',
  );
}, 300_000);
