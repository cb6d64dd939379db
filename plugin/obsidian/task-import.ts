import { TaskImportItem, type TaskCreateRequest } from '../../protocol/index.ts';

/** One item of an import file that cannot become a task, counted from 1 as a person would. */
export interface ImportProblem {
  item: number;
  title: string | null;
  message: string;
}

export interface TaskImport {
  /** The tasks to create, in file order, each in `repo`. */
  requests: TaskCreateRequest[];
  problems: ImportProblem[];
}

/** The file as a whole cannot be read as a task list. */
export class ImportFileError extends Error {
  override readonly name = 'ImportFileError';
}

/**
 * Reads a YAML task list — the same format as `owp admin import`: a list of tasks without a repo,
 * each checked against the protocol's `TaskImportItem` — into create requests for `repo`. Every
 * bad item is reported, not only the first, so one look at the notice is enough to fix the file.
 * `parseYaml` is injected: the glue passes Obsidian's, tests the `yaml` package's.
 */
export function readTaskImport(
  text: string,
  repo: string,
  parseYaml: (text: string) => unknown,
): TaskImport {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new ImportFileError(`The file is not valid YAML: ${messageOf(error)}`);
  }
  if (value === null || value === undefined) throw new ImportFileError('The file holds no tasks.');
  if (!Array.isArray(value)) {
    throw new ImportFileError('The file should be a YAML list of tasks (each line starting “- ”).');
  }
  const requests: TaskCreateRequest[] = [];
  const problems: ImportProblem[] = [];
  value.forEach((raw: unknown, index) => {
    const result = TaskImportItem.safeParse(raw);
    if (result.success) {
      requests.push({ ...result.data, repo });
      return;
    }
    problems.push({
      item: index + 1,
      title: titleOf(raw),
      message: result.error.issues
        .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ` : '') + issue.message)
        .join('; '),
    });
  });
  return { requests, problems };
}

/** `Item 3 (“Fix login”): title: …` */
export function describeProblem(problem: ImportProblem): string {
  return `Item ${problem.item}${problem.title ? ` (“${problem.title}”)` : ''}: ${problem.message}`;
}

function titleOf(raw: unknown): string | null {
  const title = (raw as { title?: unknown } | null)?.title;
  return typeof title === 'string' ? title : null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
