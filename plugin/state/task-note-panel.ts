import type { TaskStatus } from '../../protocol/index.ts';
import { STATUS_LABELS, dependencyPicture, failureText } from './board.ts';
import { contractLines, type ContractLine } from './contract.ts';
import type { DependencyLink } from './dependencies.ts';
import type { PoolSnapshot } from './pool-snapshot.ts';

/**
 * What a task's note shows above its text: the pool's read-only facts about the task that are not
 * frontmatter — the repo's contract, what the task waits on and what it blocks, and why it failed.
 * Rendered by the plugin, never written into the note, so the body stays the description.
 */
export interface TaskNotePanelModel {
  taskId: string;
  repo: string;
  status: TaskStatus;
  statusLabel: string;
  /** Dependencies not merged yet (the scheduler's count). */
  waitingOn: number;
  dependsOn: DependencyLink[];
  blocks: DependencyLink[];
  contract: ContractLine[];
  /** Whether the repo is in the snapshot: without it, nothing can be said about a contract. */
  repoKnown: boolean;
  /** `2 of 5`, or the count alone when no limit is known. */
  attempts: string;
  failure: string | null;
  /** The panel's one line while folded, e.g. `Ready · waiting on 1 · blocks 2 · contract`. */
  summary: string;
}

/** The panel of a task's note, or null when the snapshot does not hold the task. */
export function taskNotePanel(snapshot: PoolSnapshot, taskId: string): TaskNotePanelModel | null {
  const task = snapshot.tasks.get(taskId);
  if (!task) return null;
  const repo = snapshot.repos.get(task.repo);
  const { dependsOn, blocks } = dependencyPicture(task, snapshot.tasks);
  const contract = contractLines(repo?.contract);
  const limit = task.max_attempts ?? repo?.max_attempts ?? null;
  const summary = [
    STATUS_LABELS[task.status],
    task.dependencies_pending > 0
      ? `waiting on ${task.dependencies_pending}`
      : dependsOn.length > 0
        ? `depends on ${dependsOn.length}`
        : '',
    blocks.length > 0 ? `blocks ${blocks.length}` : '',
    contract.length > 0 ? 'contract' : '',
  ].filter(Boolean);
  return {
    taskId,
    repo: task.repo,
    status: task.status,
    statusLabel: STATUS_LABELS[task.status],
    waitingOn: task.dependencies_pending,
    dependsOn,
    blocks,
    contract,
    repoKnown: repo !== undefined,
    attempts: limit === null ? String(task.attempts) : `${task.attempts} of ${limit}`,
    failure: task.status === 'failed' ? failureText(task, repo) : null,
    summary: summary.join(' · '),
  };
}
