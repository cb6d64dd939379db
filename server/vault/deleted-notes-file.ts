import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { DeletedNotes } from '../../plugin/sync/note-sync.ts';
import { writeJsonFile } from '../json-file.ts';

/**
 * Where `owp vault-sync` remembers the tasks whose note was deleted, so the next run does not
 * write them again: `.owp/vault-sync.json` in the vault, beside the notes, as the plugin keeps it in
 * its data file in `.obsidian` (dot-folders are not notes to either). Kept per pool — one server
 * URL or one database file — since a vault may be synced with more than one.
 */
const STATE_FILE = join('.owp', 'vault-sync.json');

const State = z.object({ deletedNotes: z.record(z.string(), z.array(z.string())) });
type State = z.infer<typeof State>;

export function deletedNotesFile(
  vaultRoot: string,
  pool: string,
  warn: (message: string) => void,
): DeletedNotes {
  const path = join(vaultRoot, STATE_FILE);
  return {
    load: () => read(path, warn).deletedNotes[pool] ?? [],
    save: (taskIds) => {
      const state = read(path, () => {});
      if (taskIds.length > 0) state.deletedNotes[pool] = [...taskIds];
      else if (pool in state.deletedNotes) delete state.deletedNotes[pool];
      else return;
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
  warn(
    `${path} is not vault-sync's state (replaced on the next deletion): deleted notes come back`,
  );
  return { deletedNotes: {} };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
