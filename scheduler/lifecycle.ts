import { OwpError } from '../protocol/errors.ts';
import type { TaskStatus, TransitionCause } from '../protocol/index.ts';

/** Who asks for a transition. `system` is the engine itself: grants and expiry. */
export type Actor = 'worker' | 'admin' | 'system';

export interface LifecycleEdge {
  cause: TransitionCause;
  from: readonly TaskStatus[];
  to: TaskStatus;
  actors: readonly Actor[];
  /**
   * Where the edge leads instead when it uses the task's last attempt (expiries and releases
   * count one): the task stops being retried and waits for an admin.
   */
  whenOutOfAttempts?: TaskStatus;
}

/** Statuses in which a worker holds a live lease: renewed by heartbeats, expired by the sweep. */
export const HOLDING_STATUSES = [
  'leased',
  'in_progress',
  'blocked',
] as const satisfies TaskStatus[];
/**
 * Statuses that reserve a worker: a live lease, or an offer waiting for its answer. They count
 * against the worker's capacity and lock the task's area.
 */
export const RESERVING_STATUSES = ['offered', ...HOLDING_STATUSES] as const satisfies TaskStatus[];
/** Statuses that may end as a PR for a maintainer to review: they count against the review budget. */
export const BUDGET_STATUSES = [...RESERVING_STATUSES, 'pr_opened'] as const satisfies TaskStatus[];
/**
 * `(status = 'a' OR status = 'b' …)`: a status test in the form the partial indexes use. An
 * `IN (…)` list costs a lookup table on every row write when it is an index's WHERE (migration
 * 0009), and a query finds a partial index only when its WHERE holds the index's test as written.
 */
export function statusIsOneOf(statuses: readonly TaskStatus[], column = 'status'): string {
  return `(${statuses.map((status) => `${column} = '${status}'`).join(' OR ')})`;
}

/** What a worker may give back: its leased work, or a PR it closed. */
const RELEASABLE = [...HOLDING_STATUSES, 'pr_opened'] as const;
export const TERMINAL_STATUSES = ['merged', 'cancelled'] as const satisfies TaskStatus[];

const NON_TERMINAL = ['ready', ...BUDGET_STATUSES, 'failed'] as const;

/**
 * The task lifecycle, as data. Every status change goes through `edgeFor`, so this table is the
 * whole truth about what may happen to a task:
 *
 *   ready ──grant──▶ leased ──▶ in_progress ──▶ pr_opened ──▶ merged
 *     ▲  │             ▲  │  │          │  │            │
 *     │  └─offer─▶ offered │  └─▶ blocked ◀┘  │            └─▶ ready (PR closed unmerged)
 *     │    (accept ──┘, decline / offer_expire ──▶ ready)
 *     └──── expire / release / requeue ◀──┘
 *   expire / release with the attempts used up ──▶ failed ──requeue (admin)──▶ ready
 *   cancelled: admin, from any non-terminal state
 */
export const LIFECYCLE: readonly LifecycleEdge[] = [
  { cause: 'grant', from: ['ready'], to: 'leased', actors: ['system'] },
  { cause: 'offer', from: ['ready'], to: 'offered', actors: ['system'] },
  { cause: 'accept', from: ['offered'], to: 'leased', actors: ['worker'] },
  { cause: 'decline', from: ['offered'], to: 'ready', actors: ['worker'] },
  { cause: 'offer_expire', from: ['offered'], to: 'ready', actors: ['system'] },
  { cause: 'start', from: ['leased', 'blocked'], to: 'in_progress', actors: ['worker'] },
  { cause: 'block', from: ['leased', 'in_progress'], to: 'blocked', actors: ['worker'] },
  { cause: 'open_pr', from: ['in_progress'], to: 'pr_opened', actors: ['worker'] },
  { cause: 'merge', from: ['pr_opened'], to: 'merged', actors: ['worker', 'admin'] },
  {
    cause: 'expire',
    from: HOLDING_STATUSES,
    to: 'ready',
    actors: ['system'],
    whenOutOfAttempts: 'failed',
  },
  {
    cause: 'release',
    from: RELEASABLE,
    to: 'ready',
    actors: ['worker'],
    whenOutOfAttempts: 'failed',
  },
  { cause: 'requeue', from: [...RELEASABLE, 'failed'], to: 'ready', actors: ['admin'] },
  { cause: 'cancel', from: NON_TERMINAL, to: 'cancelled', actors: ['admin'] },
];

export const isHolding = (status: TaskStatus): boolean =>
  (HOLDING_STATUSES as readonly TaskStatus[]).includes(status);
export const isReserving = (status: TaskStatus): boolean =>
  (RESERVING_STATUSES as readonly TaskStatus[]).includes(status);
export const countsAgainstBudget = (status: TaskStatus): boolean =>
  (BUDGET_STATUSES as readonly TaskStatus[]).includes(status);
export const isTerminal = (status: TaskStatus): boolean =>
  (TERMINAL_STATUSES as readonly TaskStatus[]).includes(status);

/** The statuses `actor` may move a task to from `from`. */
export function allowedTargets(from: TaskStatus, actor: Actor): TaskStatus[] {
  const targets = LIFECYCLE.filter((e) => e.from.includes(from) && e.actors.includes(actor)).map(
    (e) => e.to,
  );
  return [...new Set(targets)];
}

/**
 * Moves a worker makes by another call than a status write: named with it, so an error that lists
 * `ready` does not send the worker to the status endpoint, which refuses it.
 */
const MOVE_BY_CALL: Partial<Record<TransitionCause, string>> = {
  release: 'by releasing the lease',
  accept: 'by accepting the offer',
  decline: 'by rejecting the offer',
};

/** The statuses `actor` may move a task to from `from`, each with the call that does it. */
function movesFrom(from: TaskStatus, actor: Actor): string[] {
  const moves = LIFECYCLE.filter((e) => e.from.includes(from) && e.actors.includes(actor)).map(
    (e) => {
      const how = actor === 'worker' ? MOVE_BY_CALL[e.cause] : undefined;
      return how ? `${e.to} (${how})` : e.to;
    },
  );
  return [...new Set(moves)];
}

/**
 * The edge that takes a task from `from` by `cause` (or to `to`) for `actor`, or a 409
 * `invalid_transition` naming the moves that are allowed from here.
 */
export function edgeFor(
  from: TaskStatus,
  actor: Actor,
  wanted: { cause: TransitionCause } | { to: TaskStatus },
): LifecycleEdge {
  const edge = LIFECYCLE.find(
    (e) =>
      e.from.includes(from) &&
      e.actors.includes(actor) &&
      ('cause' in wanted ? e.cause === wanted.cause : e.to === wanted.to),
  );
  if (edge) return edge;
  const allowed = allowedTargets(from, actor);
  const what = 'cause' in wanted ? wanted.cause : `move to ${wanted.to}`;
  throw new OwpError(
    'invalid_transition',
    `A task that is ${from} cannot ${what}; ${
      allowed.length
        ? `from ${from} the ${actor} may move it to: ${movesFrom(from, actor).join(', ')}`
        : isTerminal(from)
          ? `${from} is final`
          : `the ${actor} has no move from ${from}`
    }.`,
    { from, ...wanted, allowed },
  );
}
