import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { DeletedNotes, NoteRecord } from '../../plugin/sync/note-sync.ts';
import { writeJsonFile } from '../json-file.ts';

/**
 * Where `owp vault-sync` remembers the tasks whose note was deleted, so the next run does not
 * write them again: `.owp/vault-sync.json` in the vault, beside the notes, as the plugin keeps it in
 * its data file in `.obsidian` (dot-folders are not notes to either). Kept per pool — one server
 * URL or one database file — since a vault may be synced with more than one. Beside them, the
 * tasks that have a note (`notedTasks`): one of those without a note at the next run was deleted
 * while vault-sync was not running, and is not written again either (`NoteRecord`).
 */
const STATE_FILE = join('.owp', 'vault-sync.json');

const TaskIdsByPool = z.record(z.string(), z.array(z.string()));
// `notedTasks` is optional: a file written before it existed reads, as nothing noted yet.
const State = z.object({ deletedNotes: TaskIdsByPool, notedTasks: TaskIdsByPool.optional() });
type State = z.infer<typeof State>;

export function deletedNotesFile(
  vaultRoot: string,
  pool: string,
  warn: (message: string) => void,
): DeletedNotes {
  const path = join(vaultRoot, STATE_FILE);
  return {
    load: (): NoteRecord => {
      const state = read(path, warn);
      return { deleted: state.deletedNotes[pool] ?? [], noted: state.notedTasks?.[pool] ?? [] };
    },
    save: (record) => {
      const before = read(path, () => {});
      const noted = withTaskIds(before.notedTasks ?? {}, pool, record.noted);
      const state: State = {
        // Always there: a vault-sync from before `notedTasks` reads only files that have it.
        deletedNotes: withTaskIds(before.deletedNotes, pool, record.deleted),
        ...(Object.keys(noted).length > 0 ? { notedTasks: noted } : {}),
      };
      if (JSON.stringify(state) === JSON.stringify(before)) return;
      writeJsonFile(path, state);
    },
  };
}

/** `byPool` with `pool`'s ids replaced (none: the pool's entry goes). */
function withTaskIds(
  byPool: Record<string, string[]>,
  pool: string,
  taskIds: readonly string[],
): Record<string, string[]> {
  const next = { ...byPool };
  if (taskIds.length > 0) next[pool] = [...taskIds];
  else delete next[pool];
  return next;
}

function read(path: string, warn: (message: string) => void): State {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      warn(`cannot read ${path} (${(error as Error).message}): deleted notes come back`);
    }
    return { deletedNotes: {} };
  }
  const parsed = State.safeParse(parseJson(text));
  if (parsed.success) return parsed.data;
  warn(`${path} is not vault-sync's state (replaced at the next save): deleted notes come back`);
  return { deletedNotes: {} };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
