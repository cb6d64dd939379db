import { isSeq, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import type { OwpClient } from '../../protocol/client.ts';
import { importKeys } from '../../protocol/import-keys.ts';
import { OwpError } from '../../protocol/errors.ts';
import { plainIssueWithPath } from '../../protocol/issue-text.ts';
import { TaskImportItem } from '../../protocol/tasks.ts';

export type ImportItem = z.output<typeof TaskImportItem>;

/** Something wrong with one item of the file; `item` counts from 1, as a person would. */
export interface ImportProblem {
  item: number;
  line: number | null;
  title: string | null;
  message: string;
}

export interface ParsedImport {
  items: ImportItem[];
  /** Items refused, each with everything wrong with it — a key the protocol does not know too. */
  problems: ImportProblem[];
}

/** The file as a whole is unusable: not YAML, or not a list. */
export class ImportFileError extends Error {
  override readonly name = 'ImportFileError';
}

const KNOWN_KEYS = new Set(Object.keys(TaskImportItem.shape));

/**
 * Reads a task import file and validates every item against the protocol's `TaskImportItem`,
 * collecting all the problems at once (with the item's line) rather than stopping at the first:
 * the person fixing the file should see everything wrong in one go.
 */
export function parseImportFile(text: string): ParsedImport {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true });
  if (document.errors.length > 0) {
    throw new ImportFileError(`not valid YAML: ${document.errors[0]!.message}`);
  }
  const value: unknown = document.toJS();
  if (value === null || value === undefined) {
    throw new ImportFileError('the file holds no tasks; expected a YAML list of tasks');
  }
  if (!Array.isArray(value) || !isSeq(document.contents)) {
    throw new ImportFileError('expected a YAML list of tasks at the top level');
  }
  if (value.length === 0) throw new ImportFileError('the file holds no tasks: its list is empty');
  const nodes = document.contents.items;
  const items: ImportItem[] = [];
  const problems: ImportProblem[] = [];
  value.forEach((raw: unknown, index) => {
    const node = nodes[index] as { range?: [number, number, number] } | undefined;
    const offset = node?.range?.[0];
    const where = {
      item: index + 1,
      line: offset === undefined ? null : lineCounter.linePos(offset).line,
      title: titleOf(raw),
    };
    const result = TaskImportItem.safeParse(raw);
    // A key the protocol does not know is a typo (`priorty`) or a field in the wrong place
    // (`repo`): dropped, it would make a task quietly unlike the one the file describes.
    const unknown =
      raw !== null && typeof raw === 'object' && !Array.isArray(raw)
        ? Object.keys(raw).filter((key) => !KNOWN_KEYS.has(key))
        : [];
    const messages = [
      ...(result.success ? [] : result.error.issues.map((issue) => plainIssueWithPath(issue, raw))),
      ...unknown.map(unknownKeyMessage),
    ];
    if (messages.length > 0) {
      problems.push({ ...where, message: messages.join('; ') });
      return;
    }
    items.push(result.data!);
  });
  return { items, problems };
}

function unknownKeyMessage(key: string): string {
  if (key === 'repo')
    return 'repo: not an item field; every item goes to the repo the import names';
  const near = [...KNOWN_KEYS].find((known) => editDistance(key, known) <= 2);
  return `${key}: not a task field${near ? ` (did you mean ${near}?)` : ''}`;
}

/** Levenshtein distance, for suggesting the field a typo meant. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

function titleOf(raw: unknown): string | null {
  const title = (raw as { title?: unknown } | null)?.title;
  return typeof title === 'string' ? title : null;
}

export interface ImportResult {
  /** `earlier`: made by an earlier run of the same import (its answer replayed), not by this one. */
  created: Array<{ item: number; task_id: string; title: string; earlier: boolean }>;
  failed: Array<{ item: number; title: string; code: string; message: string }>;
  /**
   * Why the run stopped before every item was sent (interrupt, network), or null. It stopped at
   * the item after those created and failed; that one may have been created all the same (a
   * connection lost after the request went out).
   */
  stopped: string | null;
}

/**
 * Creates the tasks one by one, in file order, so that a failure names its item and the tasks
 * before it stay created. (One batch call was rejected: v0.1 servers have no batch endpoint.)
 * Each goes with its key (`importKeys`; by default those of `items` alone).
 */
export async function createImportedTasks(
  client: OwpClient,
  repo: string,
  items: readonly ImportItem[],
  options: {
    signal: AbortSignal;
    onProgress: (done: number, result: ImportResult) => void;
    /** The file's number for `items[0]`, when a run resumes part-way through a file (default 1). */
    firstItem?: number;
    /** The key of each of `items`: for a run from part-way, those of the whole file, sliced. */
    keys?: readonly string[];
  },
): Promise<ImportResult> {
  const result: ImportResult = { created: [], failed: [], stopped: null };
  const firstItem = options.firstItem ?? 1;
  const keys = options.keys ?? importKeys(repo, items);
  for (const [index, item] of items.entries()) {
    if (options.signal.aborted) {
      result.stopped = 'interrupted';
      break;
    }
    try {
      const { answer, replayed } = await client.exchange('createTask', {
        body: { ...item, repo },
        idempotencyKey: keys[index]!,
      });
      result.created.push({
        item: firstItem + index,
        task_id: answer.task_id,
        title: item.title,
        earlier: replayed,
      });
    } catch (error) {
      if (!(error instanceof OwpError)) {
        // The server is gone or we were interrupted: later items would fail the same way.
        result.stopped = error instanceof Error ? error.message : String(error);
        break;
      }
      result.failed.push({
        item: firstItem + index,
        title: item.title,
        code: error.code,
        message: error.message,
      });
    }
    options.onProgress(index + 1, result);
  }
  return result;
}
