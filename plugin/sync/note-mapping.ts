import { RepoKey, TaskUpdateRequest, type Task, type TaskStatus } from '../../protocol/index.ts';

/**
 * Task ↔ note, as pure functions. A task's note keeps the task under plain Obsidian property names;
 * the note's body is the description, and the note's file name is the title (so renaming the note
 * renames the task — a `title` property would be a second place to edit the same thing, and the
 * two would drift).
 */

/** Every frontmatter key the plugin owns. It never writes any other. */
export const OWNED_KEYS = [
  'owp_id',
  'repo',
  'status',
  'priority',
  'points',
  'skills',
  'area',
  'tier',
  'depends_on',
  'assignee',
  'lease_expires',
  'pr_url',
  'owp_version',
] as const;
export type OwnedKey = (typeof OWNED_KEYS)[number];

/** Owned keys the user edits in the note; an edit goes to the scheduler. */
export const USER_KEYS = [
  'repo',
  'priority',
  'points',
  'skills',
  'area',
  'tier',
  'depends_on',
] as const;
export type UserKey = (typeof USER_KEYS)[number];

/** Owned keys only the scheduler sets; a user's edit to them is put back. */
export const SCHEDULER_KEYS = [
  'owp_id',
  'status',
  'assignee',
  'lease_expires',
  'pr_url',
  'owp_version',
] as const;
export type SchedulerKey = (typeof SCHEDULER_KEYS)[number];

/**
 * The owned frontmatter of a task's note. Empty text values are `null` (Obsidian's `key:`).
 * A type, not an interface, so it passes as the `Record<string, unknown>` a NoteStore takes.
 */
export type OwnedFrontmatter = {
  owp_id: string;
  repo: string;
  status: TaskStatus;
  priority: number;
  points: number;
  skills: string[];
  area: string | null;
  tier: number;
  /**
   * The ids (`owp_id`) of the tasks that must be merged first. Ids, not links: a note's name follows
   * its title and changes, an id does not; the panel above the note names them by title.
   */
  depends_on: string[];
  /** The worker's name when known, else its id. */
  assignee: string | null;
  /** ISO timestamp, or null when there is no running lease. */
  lease_expires: string | null;
  pr_url: string | null;
  owp_version: number;
};

export interface TaskNote {
  frontmatter: OwnedFrontmatter;
  body: string;
}

/** Worker id → name, for the `assignee` property. */
export type WorkerNames = ReadonlyMap<string, string>;

/** The note for a task: its owned frontmatter and its body. */
export function taskToNote(task: Task, names: WorkerNames = new Map()): TaskNote {
  return {
    frontmatter: {
      owp_id: task.task_id,
      repo: task.repo,
      status: task.status,
      priority: task.priority,
      points: task.estimate_points,
      skills: [...task.required_skills],
      area: task.area,
      tier: task.tier,
      depends_on: [...task.depends_on],
      assignee: task.assignee === null ? null : (names.get(task.assignee) ?? task.assignee),
      lease_expires: task.lease?.expires_at ?? null,
      pr_url: task.artifact?.pr_url ?? null,
      owp_version: task.version,
    },
    body: descriptionToBody(task.description),
  };
}

/** The body a description is written as: the text, ending in one newline. */
export function descriptionToBody(description: string): string {
  const text = canonicalDescription(description);
  return text === '' ? '' : `${text}\n`;
}

/**
 * A description as compared: without leading blank lines or trailing whitespace, which editors add
 * and remove on their own; comparing raw text would make every such save look like an edit.
 */
export function canonicalDescription(text: string): string {
  return text.replace(/^(?:[ \t]*\r?\n)+/, '').trimEnd();
}

/** The fields of a task a user sets from its note (title from the file name). */
export interface NoteTaskFields {
  title?: string;
  description?: string;
  repo?: string;
  priority?: number;
  estimate_points?: number;
  required_skills?: string[];
  area?: string | null;
  tier?: number;
  depends_on?: string[];
}

/** One property that could not be read, with a message fit for a Notice. */
export interface FieldError {
  key: OwnedKey | 'title' | 'description';
  message: string;
}

export interface ParsedNote {
  /** Valid fields only; a key absent from the note, or invalid, is left out. */
  fields: NoteTaskFields;
  errors: FieldError[];
}

/** The title a note's path gives: its file name without `.md`. */
export function titleFromPath(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return name.toLowerCase().endsWith('.md') ? name.slice(0, -3) : name;
}

const shape = TaskUpdateRequest.shape;

/**
 * The user-editable fields a note holds, validated and normalised. Never throws: a bad value is
 * reported in `errors` (to show in a Notice) and left out of `fields`. A missing or empty
 * property is left out too, so the task keeps its value.
 */
export function noteToTaskFields(
  frontmatter: Record<string, unknown>,
  body: string,
  path?: string,
): ParsedNote {
  const fields: NoteTaskFields = {};
  const errors: FieldError[] = [];
  const fail = (key: FieldError['key'], message: string) => errors.push({ key, message });

  if (path !== undefined) {
    const title = titleFromPath(path).trim();
    if (shape.title.safeParse(title).success) fields.title = title;
    else fail('title', `The note's name must be 1 to 300 characters to be a task title.`);
  }
  const description = canonicalDescription(body);
  if (shape.description.safeParse(description).success) fields.description = description;
  else fail('description', 'The note is too long to be a task description (100,000 characters).');

  const repo = readText(frontmatter.repo);
  if (repo !== undefined && repo !== null) {
    if (RepoKey.safeParse(repo).success) fields.repo = repo;
    else
      fail(
        'repo',
        `repo must be a name or owner/name, like "demo" or "acme/web"; "${repo}" is not.`,
      );
  }

  const whole = (key: 'priority' | 'points' | 'tier', min: number, max: number) => {
    const value = readWhole(frontmatter[key]);
    if (value === undefined) return undefined;
    if (value === null || value < min || value > max) {
      fail(
        key,
        `${key} must be a whole number from ${min} to ${max}; ${show(frontmatter[key])} is not.`,
      );
      return undefined;
    }
    return value;
  };
  const priority = whole('priority', 0, 1000);
  if (priority !== undefined) fields.priority = priority;
  const points = whole('points', 1, 100);
  if (points !== undefined) fields.estimate_points = points;
  const tier = whole('tier', 0, 3);
  if (tier !== undefined) fields.tier = tier;

  if (frontmatter.skills !== undefined) {
    const skills = readList(frontmatter.skills);
    if (skills && shape.required_skills.safeParse(skills).success) fields.required_skills = skills;
    else fail('skills', 'skills must be a list of names of at most 64 characters (50 at most).');
  }

  if (frontmatter.area !== undefined) {
    const area = readText(frontmatter.area);
    if (area === undefined) fail('area', `area must be text; ${show(frontmatter.area)} is not.`);
    else if (area !== null && !shape.area.safeParse(area).success) {
      fail('area', 'area must be at most 100 characters.');
    } else fields.area = area;
  }

  if (frontmatter.depends_on !== undefined) {
    const ids = readIds(frontmatter.depends_on);
    if (ids && shape.depends_on.safeParse(ids).success) fields.depends_on = ids;
    else
      fail(
        'depends_on',
        'depends_on must be a list of task ids (the owp_id of other task notes), 50 at most.',
      );
  }
  return { fields, errors };
}

/** Text as typed: trimmed, empty → null; undefined when the value is not text at all. */
function readText(value: unknown): string | null | undefined {
  if (value === null || value === undefined) return value === null ? null : undefined;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  return text === '' ? null : text;
}

/** A whole number, also when typed as text; undefined when empty, null when not a whole number. */
function readWhole(value: unknown): number | null | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && value.trim() === '') return undefined;
  const n = typeof value === 'string' ? Number(value.trim()) : value;
  return typeof n === 'number' && Number.isInteger(n) ? n : null;
}

/** A list, also when typed as comma-separated text: trimmed, lower-case, unique, sorted. */
function readList(value: unknown): string[] | null {
  if (value === null) return [];
  const items = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : null;
  if (!items) return null;
  const out = new Set<string>();
  for (const item of items) {
    if (item === null || item === undefined) continue;
    if (typeof item !== 'string' && typeof item !== 'number') return null;
    const skill = String(item).trim().toLowerCase();
    if (skill !== '') out.add(skill);
  }
  return [...out].sort();
}

/**
 * Task ids, also when typed as comma-separated text: trimmed, each once, in the order given (ids
 * are case-sensitive, so unlike skills they are not lower-cased).
 */
function readIds(value: unknown): string[] | null {
  if (value === null) return [];
  const items = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : null;
  if (!items) return null;
  const out = new Set<string>();
  for (const item of items) {
    if (item === null || item === undefined) continue;
    if (typeof item !== 'string') return null;
    const id = item.trim();
    if (id !== '') out.add(id);
  }
  return [...out];
}

function show(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : (JSON.stringify(value) ?? String(value));
}

/**
 * A value as the sync compares it: `"5"` and `5` are the same priority, `[B, a]` and `a, b` the
 * same skills, `""` and `null` the same empty text. Anything unreadable compares as itself.
 */
export function canonicalValue(key: OwnedKey, value: unknown): unknown {
  switch (key) {
    case 'priority':
    case 'points':
    case 'tier':
    case 'owp_version': {
      const n = readWhole(value);
      return n === null ? value : (n ?? null);
    }
    case 'skills':
      return value === undefined ? null : (readList(value)?.join('\n') ?? value);
    case 'depends_on':
      // Absent is no dependency, like an empty list: notes made before the key existed need no
      // write to agree with their task. Order does not matter to the pool.
      return value === undefined ? '' : (readIds(value)?.sort().join('\n') ?? value);
    default: {
      const text = readText(value);
      return text === undefined ? (value ?? null) : text;
    }
  }
}

/** The owned keys whose values differ (as the sync compares them) between two frontmatters. */
export function ownedChanges(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): OwnedKey[] {
  return OWNED_KEYS.filter(
    (key) => !sameValue(canonicalValue(key, before[key]), canonicalValue(key, after[key])),
  );
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

// ── file names ──────────────────────────────────────────────────────────────────────────────────

/** Characters Obsidian refuses in a file name (or that break links to it), and control codes. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is stripped.
const FORBIDDEN = /[\\/:*?"<>|#^[\]\u0000-\u001f\u007f]/g;
/** File systems cap a name at 255 bytes; leave room for " (99)" and ".md". */
const MAX_NAME_BYTES = 200;
const FALLBACK_NAME = 'Untitled task';

/**
 * A note's file name (without `.md`) for a title: forbidden characters become spaces, and the
 * text is composed (Unicode NFC), as Obsidian's `normalizePath` composes every path it writes.
 * Otherwise a title in decomposed form (`Cafe\u0301`, as macOS may type it) gives a path the
 * note is not at: the sync followed that one while the vault wrote the composed one, so the
 * note's edits were not sent and it was taken for a second note of its own task.
 */
export function fileNameForTitle(title: string): string {
  const cleaned = title
    .normalize('NFC')
    .replace(FORBIDDEN, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^\.+/, '');
  return truncateBytes(cleaned, MAX_NAME_BYTES).trim() || FALLBACK_NAME;
}

function truncateBytes(text: string, maxBytes: number): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).length <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  for (const char of text) {
    bytes += encoder.encode(char).length;
    if (bytes > maxBytes) break;
    out += char;
  }
  return out;
}

/**
 * The path for a task's note in `folder`: the title's file name, with " (2)", " (3)", … added
 * when `exists` says a path is taken.
 */
export function notePathForTitle(
  folder: string,
  title: string,
  exists: (path: string) => boolean,
): string {
  const base = fileNameForTitle(title);
  const prefix = folder === '' ? '' : `${folder}/`;
  for (let n = 1; ; n++) {
    const path = `${prefix}${n === 1 ? base : `${base} (${n})`}.md`;
    if (!exists(path)) return path;
  }
}

/**
 * Whether a note's file name still stands for `title`: the name the sync would give it, possibly
 * with a " (n)" suffix. Then a rename is not a new title (e.g. "Fix: crash" lives in "Fix crash.md").
 */
export function fileNameMatchesTitle(fileName: string, title: string): boolean {
  const expected = fileNameForTitle(title);
  // The sync's own suffixes count up from (2); a year or a version in brackets is part of a title.
  return fileName === expected || fileName.replace(/ \((?:[2-9]|[1-9]\d{1,2})\)$/, '') === expected;
}
