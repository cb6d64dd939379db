import type {
  OfferRejectRequest,
  OwpApi,
  StatusUpdateRequest,
  TaskStatus,
  TrustTierRequest,
} from '../../protocol/index.ts';
import { boardDropCause } from '../state/board.ts';
import type { MyWorkItem, WorkAction } from '../state/my-work.ts';

/** Whether an admin may move a card from `from` to `to` on the board: requeue, merge or cancel. */
export function boardMoveAllowed(from: TaskStatus, to: TaskStatus): boolean {
  return boardDropCause(from, to) !== null;
}

/** The columns a card in `from` may be moved to, in lifecycle order. */
export function boardMoveTargets(from: TaskStatus): TaskStatus[] {
  return (['ready', 'merged', 'cancelled'] as const).filter((to) => boardMoveAllowed(from, to));
}

/**
 * The words for a card's move: a failed task is requeued (with a fresh count of attempts), other
 * work goes back to the queue.
 */
export function boardMoveLabel(from: TaskStatus, to: TaskStatus): string {
  if (to === 'ready') return from === 'failed' ? 'Requeue' : 'Back to the queue';
  if (to === 'merged') return 'Mark merged';
  if (to === 'cancelled') return 'Cancel task';
  return to;
}

/** A pull request link as a card shows it: `#418` for a GitHub or GitLab link, else `PR`. */
export function prLabel(url: string): string {
  const number = /\/(?:pull|merge_requests)\/(\d+)/.exec(url)?.[1];
  return number ? `PR #${number}` : 'PR';
}

/** Why `url` cannot be a PR link, or null when it can. */
export function prUrlProblem(url: string): string | null {
  const trimmed = url.trim();
  if (trimmed === '') return 'Paste the link to the pull request.';
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    return 'That is not a link; it should start with https://';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return 'The link should start with https://';
  }
  return null;
}

/**
 * The pool operations behind the views' buttons, over any `OwpApi`: the same in Obsidian and in
 * the browser harness. Worker writes name the lease and its epoch, so a write made after the lease
 * moved on is refused rather than applied to someone else's work.
 */
export class PoolActions {
  constructor(private readonly api: () => OwpApi) {}

  async moveTask(taskId: string, from: TaskStatus, to: TaskStatus): Promise<void> {
    const cause = boardDropCause(from, to);
    if (cause === 'requeue') await this.api().requeueTask(taskId);
    else if (cause === 'merge') await this.api().mergeTask(taskId);
    else if (cause === 'cancel') await this.api().cancelTask(taskId);
    else throw new Error(`A task cannot be moved from ${from} to ${to} on the board.`);
  }

  async pauseWorker(workerId: string): Promise<void> {
    await this.api().pauseWorker(workerId);
  }

  async resumeWorker(workerId: string): Promise<void> {
    await this.api().resumeWorker(workerId);
  }

  /** A new token for the worker (its old one is refused from now on); returns it (admin). */
  async replaceWorkerToken(workerId: string): Promise<string> {
    return (await this.api().replaceWorkerToken(workerId)).token;
  }

  /** Sets a worker's trust tier; the reason goes to the audit log with it (admin). */
  async setTrustTier(workerId: string, request: TrustTierRequest): Promise<void> {
    await this.api().setTrustTier(workerId, request);
  }

  /** Takes an offered task: the lease starts now, and the task is the worker's like any other. */
  async acceptOffer(offerId: string): Promise<void> {
    await this.api().acceptOffer(offerId);
  }

  /** Turns an offer down with a reason; the task goes back to the queue for someone else. */
  async rejectOffer(offerId: string, request: OfferRejectRequest): Promise<void> {
    await this.api().rejectOffer(offerId, request);
  }

  async runWorkAction(item: MyWorkItem, action: WorkAction, prUrl?: string): Promise<void> {
    const api = this.api();
    if (action.kind === 'release') {
      if (!item.leaseId) throw new Error('This task holds no lease to release.');
      await api.releaseLease(item.leaseId);
      return;
    }
    const request: StatusUpdateRequest = {
      status: action.target as StatusUpdateRequest['status'],
      ...(item.leaseId ? { lease_id: item.leaseId } : {}),
      ...(item.epoch !== null ? { epoch: item.epoch } : {}),
    };
    if (action.needsUrl) {
      const problem = prUrlProblem(prUrl ?? '');
      if (problem) throw new Error(problem);
      request.artifact = { pr_url: prUrl!.trim() };
    }
    await api.updateStatus(item.taskId, request);
  }
}
