import type { OwpClient } from '../../protocol/client.ts';
import {
  createImportedTasks,
  ImportFileError,
  parseImportFile,
  type ImportItem,
} from '../../server/cli/task-import.ts';
import { describeError } from './error-text.ts';

/** One item of the file as the import preview lists it. */
export interface ImportRow {
  /** Counts from 1, as in the file. */
  item: number;
  line: number | null;
  title: string | null;
  /** Why the item cannot be imported; empty when it can. */
  problem: string | null;
  /** What happened when it was sent. */
  outcome:
    | { kind: 'pending' }
    | {
        kind: 'created';
        taskId: string;
        /** Made by an earlier import of the same item. */ earlier: boolean;
      }
    | { kind: 'failed'; code: string; message: string };
}

export interface ImportPreview {
  /** The file as a whole is unusable (not YAML, not a list); no rows then. */
  fileError: string | null;
  rows: ImportRow[];
  /** The valid items, in file order, each with its row's item number. */
  valid: Array<{ item: number; task: ImportItem }>;
}

/**
 * Reads a YAML import file with the same parser and the same `TaskImportItem` validation as
 * `owp admin import`, so the page and the CLI accept and refuse the same files.
 */
export function previewImport(text: string): ImportPreview {
  let parsed: ReturnType<typeof parseImportFile>;
  try {
    parsed = parseImportFile(text);
  } catch (error) {
    if (error instanceof ImportFileError) return { fileError: error.message, rows: [], valid: [] };
    throw error;
  }
  const problems = new Map(parsed.problems.map((p) => [p.item, p]));
  const total = parsed.items.length + parsed.problems.length;
  const rows: ImportRow[] = [];
  const valid: ImportPreview['valid'] = [];
  let next = 0;
  for (let item = 1; item <= total; item++) {
    const problem = problems.get(item);
    if (problem) {
      rows.push({
        item,
        line: problem.line,
        title: problem.title,
        problem: problem.message,
        outcome: { kind: 'pending' },
      });
      continue;
    }
    const task = parsed.items[next++]!;
    valid.push({ item, task });
    rows.push({
      item,
      line: null,
      title: task.title,
      problem: null,
      outcome: { kind: 'pending' },
    });
  }
  return { fileError: null, rows, valid };
}

export interface ImportRun {
  created: number;
  /** Of `created`, how many an earlier import of the same items had made (not made again). */
  earlier: number;
  failed: number;
  /** Why sending stopped early (server gone, cancelled), or null. */
  stopped: string | null;
}

/**
 * Creates the valid items one by one in file order, reporting each outcome on its row as it
 * happens (`onRow`) and the count sent so far (`onProgress`).
 */
export async function runImport(
  client: OwpClient,
  repo: string,
  preview: ImportPreview,
  handlers: {
    signal: AbortSignal;
    onProgress: (sent: number, total: number) => void;
    onRow: (item: number, outcome: ImportRow['outcome']) => void;
  },
): Promise<ImportRun> {
  const items = preview.valid.map((v) => v.task);
  const itemNumber = (index1: number) => preview.valid[index1 - 1]!.item;
  let reported = { created: 0, earlier: 0, failed: 0 };
  try {
    const result = await createImportedTasks(client, repo, items, {
      signal: handlers.signal,
      onProgress: (done, soFar) => {
        for (const c of soFar.created.slice(reported.created)) {
          handlers.onRow(itemNumber(c.item), {
            kind: 'created',
            taskId: c.task_id,
            earlier: c.earlier,
          });
        }
        for (const f of soFar.failed.slice(reported.failed)) {
          handlers.onRow(itemNumber(f.item), { kind: 'failed', code: f.code, message: f.message });
        }
        reported = {
          created: soFar.created.length,
          earlier: soFar.created.filter((c) => c.earlier).length,
          failed: soFar.failed.length,
        };
        handlers.onProgress(done, items.length);
      },
    });
    return {
      created: result.created.length,
      earlier: result.created.filter((c) => c.earlier).length,
      failed: result.failed.length,
      stopped: result.stopped,
    };
  } catch (error) {
    return { ...reported, stopped: describeError(error).message };
  }
}
