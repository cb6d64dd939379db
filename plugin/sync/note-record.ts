import { hash53, IdempotencyKey, TaskCreateRequest } from '../../protocol/index.ts';
import {
  canonicalDescription,
  canonicalValue,
  fileNameForTitle,
  titleFromPath,
  type OwnedKey,
} from './note-mapping.ts';

/** What the sync keeps of a vault's task notes across starts, to tell a deleted note from a new task. */
export interface NoteRecord {
  /** Open tasks whose note the user deleted (or moved out of the folders): not written again. */
  deleted: readonly string[];
  /**
   * Open tasks that had a note at the last save. One with no note at the next start lost it while
   * the sync was not running: that is a deletion too. A task in neither list never had a note, and
   * gets one; with no record yet (a first start, an upgrade) that is every task without a note.
   */
  noted: readonly string[];
  /**
   * By task id (of `noted`): a fingerprint of what its note held when it last agreed with its task
   * (`fingerprintOf`), so a start can tell a value the user changed from one the note only still
   * holds. Absent in a record from before it existed: the start then cannot tell (see NoteSync).
   */
  synced?: Readonly<Record<string, string>>;
  /**
   * The tasks folder at the save: a task of `noted` missing from another folder was not deleted,
   * the folder changed. Absent in a record from before it existed, read as "may have changed".
   */
  folder?: string;
  /**
   * By note path: task creations sent for new notes and not yet answered (`PendingCreate`). Sent
   * again with the same key after a failure, at the next start too, they make the task once.
   */
  creating?: Readonly<Record<string, PendingCreate>>;
  /**
   * Paths of the notes without `owp_id` that were in the tasks folder when the sync first ran over
   * it (a first start, a folder set anew): left as plain notes, and so at every start after, until
   * the user makes them tasks on purpose. Absent in a record from before it existed: none.
   */
  leftAlone?: readonly string[];
}

/**
 * A new note's task creation, kept from before it is sent until its answer is had: the request as
 * first sent, and the idempotency key that makes the pool answer a repeat with the task it made.
 */
export interface PendingCreate {
  key: string;
  request: TaskCreateRequest;
}

/** The pending creations of a stored record that still read as such; others are dropped. */
export function readPendingCreates(value: unknown): Record<string, PendingCreate> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const read: Record<string, PendingCreate> = {};
  for (const [path, entry] of Object.entries(value as Record<string, unknown>)) {
    const { key, request } = (entry ?? {}) as { key?: unknown; request?: unknown };
    const parsed = TaskCreateRequest.safeParse(request);
    if (typeof key === 'string' && IdempotencyKey.safeParse(key).success && parsed.success) {
      // As read: the request is sent again as it was first sent, not as the schema fills it in.
      read[path] = { key, request: request as TaskCreateRequest };
    }
  }
  return read;
}

/** The values a fingerprint covers: what the user edits in a note. */
export interface FingerprintedValues {
  title: string;
  /** Canonical (`canonicalDescription`). */
  description: string;
  owned: Readonly<Record<OwnedKey, unknown>>;
}

/**
 * The short fields a fingerprint covers, in its order. Not `repo`: a note cannot change it. A new
 * key goes at the end (a fingerprint of another length reads as none, the fields all unknown).
 */
export const FINGERPRINT_KEYS = [
  'priority',
  'points',
  'skills',
  'area',
  'tier',
  'depends_on',
] as const satisfies readonly OwnedKey[];

/**
 * How many characters each part takes: the description, whose loss costs most, the most; the
 * short fields two each (1 in 4,096 that a changed value reads as unchanged — then the pool's value
 * wins unsaid, as before fingerprints). 20 characters a note: 200 KB at 10,000 notes, where whole
 * values or full hashes would be several times that, in a file written at every change of a note.
 */
const TITLE_CHARS = 3;
const DESCRIPTION_CHARS = 5;
const FIELD_CHARS = 2;
const FINGERPRINT_LENGTH = TITLE_CHARS + DESCRIPTION_CHARS + FIELD_CHARS * FINGERPRINT_KEYS.length;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A compact fingerprint of a note's title, description and short fields (see `NoteRecord.synced`). */
export function fingerprintOf(values: FingerprintedValues): string {
  return (
    shortHash(fileNameForTitle(values.title), TITLE_CHARS) +
    shortHash(values.description, DESCRIPTION_CHARS) +
    FINGERPRINT_KEYS.map((key) => shortHash(fieldText(key, values.owned[key]), FIELD_CHARS)).join(
      '',
    )
  );
}

/** What a fingerprint says of one field of a note: whether the note still holds what was synced. */
export type FingerprintField = 'title' | 'description' | (typeof FINGERPRINT_KEYS)[number];

/**
 * Whether a note changed a field since the fingerprint was taken: true, false, or null when the
 * fingerprint cannot say (none, or of another format). The title is the note's file name.
 */
export function changedSince(
  fingerprint: string | undefined,
  field: FingerprintField | OwnedKey,
  note: { path: string; frontmatter: Record<string, unknown>; body: string },
): boolean | null {
  if (fingerprint === undefined || fingerprint.length !== FINGERPRINT_LENGTH) return null;
  if (field === 'title') {
    const kept = fingerprint.slice(0, TITLE_CHARS);
    const fileName = titleFromPath(note.path);
    // The sync's own " (2)" suffix is no change of title.
    const bare = fileName.replace(/ \((?:[2-9]|[1-9]\d{1,2})\)$/, '');
    return shortHash(fileName, TITLE_CHARS) !== kept && shortHash(bare, TITLE_CHARS) !== kept;
  }
  if (field === 'description') {
    const kept = fingerprint.slice(TITLE_CHARS, TITLE_CHARS + DESCRIPTION_CHARS);
    return shortHash(canonicalDescription(note.body), DESCRIPTION_CHARS) !== kept;
  }
  const index = (FINGERPRINT_KEYS as readonly string[]).indexOf(field);
  if (index < 0) return null;
  const at = TITLE_CHARS + DESCRIPTION_CHARS + index * FIELD_CHARS;
  const kept = fingerprint.slice(at, at + FIELD_CHARS);
  return shortHash(fieldText(field, note.frontmatter[field]), FIELD_CHARS) !== kept;
}

/** `byPool` with `pool`'s ids replaced (none: the pool's entry goes). */
export function withTaskIds(
  byPool: Record<string, string[]>,
  pool: string,
  taskIds: readonly string[],
): Record<string, string[]> {
  const next = { ...byPool };
  if (taskIds.length > 0) next[pool] = [...taskIds];
  else delete next[pool];
  return next;
}

/** `byPool` with `pool`'s entries (fingerprints, pending creations) replaced (none: it goes). */
export function withEntries<V>(
  byPool: Record<string, Record<string, V>>,
  pool: string,
  entries: Readonly<Record<string, V>>,
): Record<string, Record<string, V>> {
  const next = { ...byPool };
  if (Object.keys(entries).length > 0) next[pool] = { ...entries };
  else delete next[pool];
  return next;
}

function fieldText(key: OwnedKey, value: unknown): string {
  return JSON.stringify(canonicalValue(key, value)) ?? 'null';
}

/** `chars` characters of a 53-bit hash of `text` (`hash53`). */
function shortHash(text: string, chars: number): string {
  let hash = hash53(text);
  let out = '';
  for (let i = 0; i < chars; i++) {
    out += ALPHABET[hash % 64];
    hash = Math.floor(hash / 64);
  }
  return out;
}
