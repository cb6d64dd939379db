import { OFFER_REJECT_REASONS, OfferRejectRequest, type TaskStatus } from '../../protocol/index.ts';
import { allowedTargets } from '../../scheduler/lifecycle.ts';
import { STATUS_LABELS } from './board.ts';
import { contractLines, type ContractLine } from './contract.ts';
import type { PoolSnapshot } from './pool-snapshot.ts';
import { countdownText, isPast } from './time-text.ts';

/** What a worker can do with a task it holds; each is one API call. */
export type WorkActionKind = 'start' | 'block' | 'open_pr' | 'merge' | 'release';

export interface WorkAction {
  kind: WorkActionKind;
  /** The button's text (sentence case). */
  label: string;
  /** The status the task moves to. */
  target: TaskStatus;
  /** Opening a PR asks for its URL first. */
  needsUrl: boolean;
}

export interface MyWorkItem {
  taskId: string;
  title: string;
  repo: string;
  status: TaskStatus;
  statusLabel: string;
  points: number;
  area: string | null;
  /** The lease every write names, so a stale write is refused rather than applied. */
  leaseId: string | null;
  epoch: number | null;
  leaseCountdown: string | null;
  leaseExpired: boolean;
  prUrl: string | null;
  actions: WorkAction[];
}

/** The worker's moves, by the status they lead to (`ready` is a release). */
const ACTIONS: Partial<Record<TaskStatus, Omit<WorkAction, 'target'>>> = {
  in_progress: { kind: 'start', label: 'Start', needsUrl: false },
  blocked: { kind: 'block', label: 'Blocked', needsUrl: false },
  pr_opened: { kind: 'open_pr', label: 'PR opened', needsUrl: true },
  merged: { kind: 'merge', label: 'Merged', needsUrl: false },
  ready: { kind: 'release', label: 'Release', needsUrl: false },
};
const ACTION_ORDER: WorkActionKind[] = ['start', 'block', 'open_pr', 'merge', 'release'];
const MINE: readonly TaskStatus[] = ['leased', 'in_progress', 'blocked', 'pr_opened'];

/**
 * "My work": the tasks `workerId` holds or has a PR open for, the lease soonest to expire first,
 * each with the moves the lifecycle allows a worker from its status.
 */
export function myWork(snapshot: PoolSnapshot, workerId: string | null, now: number): MyWorkItem[] {
  if (!workerId) return [];
  const mine = [...snapshot.tasks.values()].filter(
    (t) => t.assignee === workerId && MINE.includes(t.status),
  );
  const expiry = (iso: string | null | undefined) => (iso ? Date.parse(iso) : Infinity);
  mine.sort(
    (a, b) =>
      expiry(a.lease?.expires_at) - expiry(b.lease?.expires_at) ||
      a.created_at.localeCompare(b.created_at),
  );
  return mine.map((task) => {
    const expiresAt = task.lease?.expires_at ?? null;
    return {
      taskId: task.task_id,
      title: task.title,
      repo: task.repo,
      status: task.status,
      statusLabel: STATUS_LABELS[task.status],
      points: task.estimate_points,
      area: task.area,
      leaseId: task.lease?.lease_id ?? null,
      epoch: task.lease?.epoch ?? null,
      leaseCountdown: countdownText(expiresAt, now),
      leaseExpired: isPast(expiresAt, now),
      prUrl: task.artifact?.pr_url ?? null,
      actions: workerActions(task.status),
    };
  });
}

/** The moves a worker may make from `status`, in a steady order. */
export function workerActions(status: TaskStatus): WorkAction[] {
  return allowedTargets(status, 'worker')
    .flatMap((target) => {
      const action = ACTIONS[target];
      return action ? [{ ...action, target }] : [];
    })
    .sort((a, b) => ACTION_ORDER.indexOf(a.kind) - ACTION_ORDER.indexOf(b.kind));
}

/** An offer as "my work" lists it: the task, how long the offer waits, and the repo's contract. */
export interface MyOfferItem {
  offerId: string;
  taskId: string;
  title: string;
  repo: string;
  points: number;
  priority: number;
  area: string | null;
  skills: string[];
  /** The risk tier (0–3) the worker was trusted with. */
  tier: number;
  /** `12m left`: how long the task stays reserved for the worker. */
  expiresIn: string;
  contract: ContractLine[];
}

/**
 * The local worker's open offers, the one soonest to run out first. An offer whose time is up is
 * left out before the pool's sweep says so: it can no longer be accepted.
 */
export function myOffers(snapshot: PoolSnapshot, now: number): MyOfferItem[] {
  return snapshot.offers
    .filter((offer) => !isPast(offer.expires_at, now))
    .sort(
      (a, b) =>
        Date.parse(a.expires_at) - Date.parse(b.expires_at) || a.offer_id.localeCompare(b.offer_id),
    )
    .map((offer) => ({
      offerId: offer.offer_id,
      taskId: offer.task_id,
      title: offer.title,
      repo: offer.repo,
      points: offer.estimate_points,
      priority: offer.priority,
      area: offer.area,
      skills: offer.required_skills,
      tier: offer.tier,
      expiresIn: countdownText(offer.expires_at, now)!,
      contract: contractLines(offer.contract),
    }));
}

export type OfferRejectReason = (typeof OFFER_REJECT_REASONS)[number];

/** The reasons a worker may give for turning an offer down, as the picker shows them. */
export const REJECT_REASON_LABELS: Record<OfferRejectReason, string> = {
  insufficient_time: 'Not enough time',
  unclear_requirements: 'The requirements are unclear',
  skill_mismatch: 'Not my skills',
  other: 'Another reason',
};

/** The picker's choices, in the protocol's order. */
export const REJECT_REASONS: { value: OfferRejectReason; label: string }[] =
  OFFER_REJECT_REASONS.map((value) => ({ value, label: REJECT_REASON_LABELS[value] }));

/**
 * The rejection a form describes, or what is wrong with it: a reason is required (the pool counts
 * them), the message is optional; blank means none.
 */
export function offerRejection(
  reason: string | null,
  message: string,
): { ok: true; request: OfferRejectRequest } | { ok: false; problem: string } {
  if (!reason || !(OFFER_REJECT_REASONS as readonly string[]).includes(reason)) {
    return { ok: false, problem: 'Pick a reason for turning the offer down.' };
  }
  const text = message.trim();
  const parsed = OfferRejectRequest.safeParse({ reason, message: text === '' ? null : text });
  if (!parsed.success) {
    return { ok: false, problem: 'Keep the message to 1,000 characters or fewer.' };
  }
  return { ok: true, request: parsed.data };
}
