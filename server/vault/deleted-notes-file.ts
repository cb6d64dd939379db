import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import {
  readPendingCreates,
  withEntries,
  withTaskIds,
  type NoteRecord,
} from '../../plugin/sync/note-record.ts';
import type { DeletedNotes } from '../../plugin/sync/note-sync.ts';
import { writeJsonFile } from '../json-file.ts';

/**
 * Where `owp vault-sync` remembers the tasks whose note was deleted, so the next run does not
 * write them again: `.owp/vault-sync.json` in the vault, beside the notes, as the plugin keeps it in
 * its data file in `.obsidian` (dot-folders are not notes to either). Kept per pool — one server
 * URL or one database file — since a vault may be synced with more than one. Beside them, the
 * tasks that have a note (`notedTasks`): one of those without a note at the next run was deleted
 * while vault-sync was not running, and is not written again either (`NoteRecord`). And per task,
 * a fingerprint of what its note held when last synced (`syncedNotes`), with the tasks folder
 * (`notesFolder`), so a run can tell what the user changed while vault-sync was not running. And
 * the task creations of new notes not answered yet (`creatingNotes`), sent again with their keys.
 */
const STATE_FILE = join('.owp', 'vault-sync.json');

const TaskIdsByPool = z.record(z.string(), z.array(z.string()));
// The keys after `deletedNotes` are optional: a file written before them reads, as not known.
const State = z.object({
  deletedNotes: TaskIdsByPool,
  notedTasks: TaskIdsByPool.optional(),
  syncedNotes: z.record(z.string(), z.record(z.string(), z.string())).optional(),
  notesFolder: z.record(z.string(), z.string()).optional(),
  // Each pool's entries read by `readPendingCreates`, which drops what does not read.
  creatingNotes: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});
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
      const synced = state.syncedNotes?.[pool];
      const folder = state.notesFolder?.[pool];
      const creating = readPendingCreates(state.creatingNotes?.[pool]);
      return {
        deleted: state.deletedNotes[pool] ?? [],
        noted: state.notedTasks?.[pool] ?? [],
        ...(synced ? { synced } : {}),
        ...(folder !== undefined ? { folder } : {}),
        ...(Object.keys(creating).length > 0 ? { creating } : {}),
      };
    },
    save: (record) => {
      const before = read(path, () => {});
      const noted = withTaskIds(before.notedTasks ?? {}, pool, record.noted);
      const synced = withEntries(before.syncedNotes ?? {}, pool, record.synced ?? {});
      const creating = withEntries<unknown>(
        before.creatingNotes ?? {},
        pool,
        record.creating ?? {},
      );
      const folders = { ...before.notesFolder };
      if (record.folder === undefined) delete folders[pool];
      else folders[pool] = record.folder;
      const state: State = {
        // Always there: a vault-sync from before `notedTasks` reads only files that have it.
        deletedNotes: withTaskIds(before.deletedNotes, pool, record.deleted),
        ...(Object.keys(noted).length > 0 ? { notedTasks: noted } : {}),
        ...(Object.keys(synced).length > 0 ? { syncedNotes: synced } : {}),
        ...(Object.keys(folders).length > 0 ? { notesFolder: folders } : {}),
        ...(Object.keys(creating).length > 0 ? { creatingNotes: creating } : {}),
      };
      if (JSON.stringify(state) === JSON.stringify(before)) return;
      writeJsonFile(path, state);
    },
  };
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
