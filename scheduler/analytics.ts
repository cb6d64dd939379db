import { DEFAULT_ANALYTICS_PERIOD_MS } from '../protocol/analytics.ts';
import { OwpError } from '../protocol/errors.ts';
import type {
  AnalyticsFilter,
  OwpEventType,
  RepoAnalytics,
  TaskStatus,
} from '../protocol/index.ts';
import { toIso } from './clock.ts';
import { keyedEvents } from './event-blocks.ts';
import { countsAgainstBudget, isHolding } from './lifecycle.ts';
import { type PagedRead, readAtOnce, readPaced } from './paced.ts';
import type { SqlDriver } from './storage-port.ts';

/** A span of time in epoch milliseconds: `from` inclusive, `to` exclusive. */
export interface Period {
  from: number;
  to: number;
}

/** One event of a repo's history, as analytics needs it. */
export interface HistoryEvent {
  at: number;
  /** A protocol event type, or one the pool does not record yet (`offer.accepted`, …). */
  type: OwpEventType | `offer.${string}`;
  task_id: string | null;
  worker_id: string | null;
  data: Record<string, unknown>;
}

/** A worker coming online or going offline. */
export interface PresenceChange {
  worker_id: string;
  at: number;
  online: boolean;
}

/** Everything the figures are computed from: plain values, no storage. */
export interface RepoHistory {
  /** The repo's events since it was last created, oldest first, none at or after the period's end. */
  events: readonly HistoryEvent[];
  /** Every worker's comings and goings, oldest first, none at or after the period's end. */
  presence: readonly PresenceChange[];
  /** Points capacity by worker. */
  capacity: ReadonlyMap<string, number>;
  /** Estimate points by task of the repo. */
  points: ReadonlyMap<string, number>;
}

/** The figures of `RepoAnalytics`, without the repo and the period they describe. */
export type RepoFigures = Omit<RepoAnalytics, 'repo' | 'since' | 'until'>;

/** Event types offers will record once the pool makes them (issue 8); counted if present. */
const OFFER_TYPES = ['offer.accepted', 'offer.rejected', 'offer.expired'] as const;
const HISTORY_TYPES = ['repo.upserted', 'task.created', 'task.status_changed', ...OFFER_TYPES];

/**
 * The period a query asks for: up to `until`, from `since` (default 30 days before `until`).
 * Without `until` the period ends just after now, so what happened this very millisecond counts.
 */
export function analyticsPeriod(query: AnalyticsFilter, now: number): Period {
  const to = query.until === undefined ? now + 1 : Date.parse(query.until);
  // Nothing is older than 1970 (times are milliseconds since then), and a period reaching further
  // back would be reported with a negative year, which no ISO 8601 reader takes.
  const from = Math.max(
    0,
    query.since === undefined ? to - DEFAULT_ANALYTICS_PERIOD_MS : Date.parse(query.since),
  );
  if (from >= to) {
    throw new OwpError('validation_failed', 'since must be before until.', {
      issues: [{ path: 'since', message: 'must be before until' }],
    });
  }
  return { from, to };
}

/**
 * Analytics of one repo over `period`: reads the repo's history through the storage port, then
 * computes the figures with `analyzeRepoHistory`, a pure function. `now` bounds what is known:
 * a lease still held is counted as held until now, not until the end of a period in the future.
 */
export function repoAnalytics(
  driver: SqlDriver,
  repo: string,
  period: Period,
  now: number,
): RepoAnalytics {
  requireRepo(driver, repo);
  return analyticsReport(repo, loadRepoHistory(driver, repo, period.to), period, now);
}

/** The report of `period` from a history read up to at least its end. */
export function analyticsReport(
  repo: string,
  history: RepoHistory,
  period: Period,
  now: number,
): RepoAnalytics {
  return {
    repo,
    since: toIso(period.from),
    until: toIso(period.to),
    ...analyzeRepoHistory(historyBefore(history, period.to), period, now),
  };
}

export function requireRepo(driver: SqlDriver, repo: string): void {
  if (!driver.get('SELECT 1 AS found FROM repos WHERE key = $repo', { repo })) {
    throw new OwpError('repo_not_found', `No repo ${repo}.`, { repo });
  }
}

/** Reads what the figures need, in one go. */
export function loadRepoHistory(driver: SqlDriver, repo: string, before: number): RepoHistory {
  return readAtOnce(repoHistoryPages(driver, repo, before));
}

/**
 * The same, a page of events at a time, awaiting `pause` between pages: a long history (hundreds
 * of thousands of events take about a second to read) then never holds the thread that reads it
 * for more than a page — the server's other requests, or Obsidian, run in between. The log is
 * read up to the event that was last when reading began, so every page belongs to one history.
 */
export function loadRepoHistoryPaced(
  driver: SqlDriver,
  repo: string,
  before: number,
  pause: () => Promise<void>,
  pageSize = HISTORY_PAGE,
): Promise<RepoHistory> {
  return readPaced(repoHistoryPages(driver, repo, before, pageSize), pause);
}

/** Events read per statement: ~15 ms of a busy server's thread. */
const HISTORY_PAGE = 5_000;

interface EventRowOfHistory {
  seq: number;
  at: number;
  type: HistoryEvent['type'];
  task_id: string | null;
  worker_id: string | null;
  data: string;
}

const HISTORY_TYPES_SQL = HISTORY_TYPES.map((type) => `'${type}'`).join(', ');
const HISTORY_COLUMNS = 'seq, at, type, task_id, worker_id, data';
const IN_HISTORY = `type IN (${HISTORY_TYPES_SQL}) AND at < $before`;
const REPO_TASKS_PAGE = `SELECT id, estimate_points, created_at FROM tasks
  WHERE repo = $repo AND (created_at, id) > ($after_at, $after_id)
  ORDER BY created_at, id LIMIT $limit`;

interface PresenceRow {
  seq: number;
  worker_id: string;
  at: number;
}

/**
 * Reads what the figures need, yielding after each page. The repo's own events come through its
 * blocks (`keyedEvents`), starting after its last deletion (deleting a repo deletes its tasks; a
 * repo created again under the same key starts afresh); worker presence, one kind at a time,
 * through the blocks of its event type. Lease renewals and edits, the bulk of a busy log, are not
 * read at all.
 */
function* repoHistoryPages(
  driver: SqlDriver,
  repo: string,
  before: number,
  limit = HISTORY_PAGE,
): PagedRead<RepoHistory> {
  const last = driver.get<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM events')?.seq ?? 0;
  // Read first, like the log's end: what the workers and tasks were when the history was.
  const capacity = new Map(
    driver
      .all<{ id: string; capacity_points: number }>('SELECT id, capacity_points FROM workers')
      .map((row) => [row.id, row.capacity_points]),
  );
  const points = new Map<string, number>();
  yield* eachRowByPages<{ id: string; estimate_points: number; created_at: number }>(
    limit,
    (previous) =>
      driver.all(REPO_TASKS_PAGE, {
        repo,
        limit,
        after_at: previous?.created_at ?? Number.MIN_SAFE_INTEGER,
        after_id: previous?.id ?? '',
      }),
    (row) => points.set(row.id, row.estimate_points),
  );
  const deleted = keyedEvents<{ seq: number }>(
    driver,
    'seq',
    { column: 'type', value: 'repo.deleted' },
    { after: 0, through: last },
    Number.MAX_SAFE_INTEGER,
    'repo = $repo',
    { repo },
  ).at(-1)?.seq;
  const events: HistoryEvent[] = [];
  yield* eachRowByPages<EventRowOfHistory>(
    limit,
    (previous) =>
      keyedEvents(
        driver,
        HISTORY_COLUMNS,
        { column: 'repo', value: repo },
        { after: previous?.seq ?? deleted ?? 0, through: last },
        limit,
        IN_HISTORY,
        { before },
      ),
    (row) =>
      events.push({
        at: row.at,
        type: row.type,
        task_id: row.task_id,
        worker_id: row.worker_id,
        data: JSON.parse(row.data) as Record<string, unknown>,
      }),
  );
  // The workers' comings and goings, by pages too: a year of a pool's laptops going to sleep and
  // waking is hundreds of thousands of them (200,000 read at once held the thread ~390 ms).
  const changes = { online: [] as PresenceRow[], offline: [] as PresenceRow[] };
  for (const kind of ['online', 'offline'] as const) {
    yield* eachRowByPages<PresenceRow>(
      limit,
      (previous) =>
        keyedEvents(
          driver,
          'seq, worker_id, at',
          { column: 'type', value: `worker.${kind}` },
          { after: previous?.seq ?? 0, through: last },
          limit,
          'worker_id IS NOT NULL AND at < $before',
          { before },
        ),
      (row) => changes[kind].push(row),
    );
  }
  return { events, presence: mergePresence(changes.online, changes.offline), capacity, points };
}

/** Two runs of presence changes, each in log order, as one in log order. */
function mergePresence(
  online: readonly PresenceRow[],
  offline: readonly PresenceRow[],
): PresenceChange[] {
  const merged: PresenceChange[] = [];
  let i = 0;
  let j = 0;
  while (i < online.length || j < offline.length) {
    const isOnline = j >= offline.length || (i < online.length && online[i]!.seq < offline[j]!.seq);
    const row = isOnline ? online[i++]! : offline[j++]!;
    merged.push({ worker_id: row.worker_id, at: row.at, online: isOnline });
  }
  return merged;
}

/**
 * Hands each row of a keyset-paged read to `use`, yielding between pages: `readPage` reads the
 * page after `previous`, the last row of the page before (none for the first).
 */
function* eachRowByPages<Row>(
  limit: number,
  readPage: (previous: Row | undefined) => Row[],
  use: (row: Row) => void,
): Generator<void, void> {
  for (let page = readPage(undefined); ; page = readPage(page.at(-1))) {
    for (const row of page) use(row);
    if (page.length < limit) return;
    yield;
  }
}

/** What of a history happened before `end`: a history read further serves an earlier period. */
export function historyBefore(history: RepoHistory, end: number): RepoHistory {
  return {
    ...history,
    events: history.events.filter((event) => event.at < end),
    presence: history.presence.filter((change) => change.at < end),
  };
}

/** A task held by a worker from `from` to `to`, weighing `points`. */
interface Holding extends Period {
  worker: string;
  points: number;
}

/**
 * The figures, from a repo's history replayed in order. Definitions (README, "Analytics"):
 *
 * - tasks completed: merges in the period;
 * - lead time: created → merged, median over the tasks merged in the period;
 * - cycle time: lease granted → PR opened under that lease, median over PRs opened in the period;
 * - requeue rate: (expired + released + requeued by an admin) ÷ grants, all in the period;
 * - offer acceptance: accepted ÷ (accepted + rejected + expired) offers in the period;
 * - worker utilization: point-time this repo's tasks were held by online workers ÷ point-time of
 *   capacity of the workers online, both within the period;
 * - review budget saturation: time the repo's budget use (leased, in progress, blocked and PR
 *   opened, as assignment counts it) was at or over `max_open_prs` ÷ time the repo existed.
 */
export function analyzeRepoHistory(history: RepoHistory, period: Period, now: number): RepoFigures {
  const end = Math.min(period.to, now);
  const inPeriod = (at: number) => at >= period.from && at < period.to;
  const within = (from: number, to: number) =>
    Math.max(0, Math.min(to, end) - Math.max(from, period.from));

  let completed = 0;
  const leadTimes: number[] = [];
  const cycleTimes: number[] = [];
  const handedBack = { grants: 0, expired: 0, released: 0, requeued: 0 };
  const offers = { accepted: 0, rejected: 0, expired: 0 };
  const createdAt = new Map<string, number>();
  const grantedAt = new Map<string, number>();
  const heldSince = new Map<string, { worker: string; at: number }>();
  const holdings: Holding[] = [];

  // Review budget: the state between two events is constant, so time is added a span at a time.
  let maxOpen: number | null = null;
  let budgetUsed = 0;
  let spanStart = -Infinity;
  let saturated = 0;
  let observed = 0;
  const closeSpan = (at: number) => {
    if (maxOpen !== null) {
      const length = within(spanStart, at);
      observed += length;
      if (budgetUsed >= maxOpen) saturated += length;
    }
    spanStart = Math.max(spanStart, at);
  };

  for (const event of history.events) {
    closeSpan(event.at);
    const task = event.task_id;
    switch (event.type) {
      case 'repo.upserted':
        maxOpen = event.data.max_open_prs as number;
        break;
      case 'task.created':
        if (task) createdAt.set(task, event.at);
        break;
      case 'task.status_changed': {
        const from = event.data.from as TaskStatus;
        const to = event.data.to as TaskStatus;
        const leaseId = event.data.lease_id as string | null;
        budgetUsed += Number(countsAgainstBudget(to)) - Number(countsAgainstBudget(from));
        if (task && !isHolding(from) && isHolding(to) && event.worker_id) {
          heldSince.set(task, { worker: event.worker_id, at: event.at });
        } else if (task && isHolding(from) && !isHolding(to)) {
          const held = heldSince.get(task);
          heldSince.delete(task);
          if (held) holdings.push(holding(history, task, held, event.at));
        }
        switch (event.data.cause) {
          // A lease comes from a grant, or (v1 offers) from a worker accepting an offer.
          case 'grant':
          case 'accept':
            if (leaseId) grantedAt.set(leaseId, event.at);
            if (inPeriod(event.at)) handedBack.grants++;
            break;
          case 'open_pr': {
            const granted = leaseId ? grantedAt.get(leaseId) : undefined;
            if (inPeriod(event.at) && granted !== undefined) cycleTimes.push(event.at - granted);
            break;
          }
          case 'merge': {
            const created = task ? createdAt.get(task) : undefined;
            if (!inPeriod(event.at)) break;
            completed++;
            if (created !== undefined) leadTimes.push(event.at - created);
            break;
          }
          case 'expire':
          case 'release':
          case 'requeue':
            if (inPeriod(event.at)) handedBack[PAST_TENSE[event.data.cause]]++;
            break;
        }
        break;
      }
      case 'offer.accepted':
      case 'offer.rejected':
      case 'offer.expired':
        if (inPeriod(event.at)) offers[event.type.slice('offer.'.length) as keyof typeof offers]++;
        break;
    }
  }
  closeSpan(end);
  for (const [task, held] of heldSince) holdings.push(holding(history, task, held, end));

  const online = onlineSpans(history.presence, end);
  let capacityPointMs = 0;
  for (const [worker, spans] of online) {
    const capacity = history.capacity.get(worker) ?? 0;
    for (const span of spans) capacityPointMs += capacity * within(span.from, span.to);
  }
  let heldPointMs = 0;
  for (const held of holdings) {
    for (const span of online.get(held.worker) ?? []) {
      heldPointMs +=
        held.points * within(Math.max(held.from, span.from), Math.min(held.to, span.to));
    }
  }

  const answered = offers.accepted + offers.rejected + offers.expired;
  const requeues = handedBack.expired + handedBack.released + handedBack.requeued;
  return {
    tasks_completed: completed,
    lead_time: { median_ms: median(leadTimes), samples: leadTimes.length },
    cycle_time: { median_ms: median(cycleTimes), samples: cycleTimes.length },
    requeue_rate: { rate: ratio(requeues, handedBack.grants), ...handedBack },
    offer_acceptance_rate: { rate: ratio(offers.accepted, answered), ...offers },
    worker_utilization: {
      rate: ratio(heldPointMs, capacityPointMs),
      held_point_ms: heldPointMs,
      capacity_point_ms: capacityPointMs,
    },
    review_budget_saturation: {
      rate: ratio(saturated, observed),
      saturated_ms: saturated,
      observed_ms: observed,
    },
  };
}

const PAST_TENSE = { expire: 'expired', release: 'released', requeue: 'requeued' } as const;

function holding(
  history: RepoHistory,
  task: string,
  held: { worker: string; at: number },
  to: number,
): Holding {
  // Estimates are not in the events, so a task weighs what it weighs now (1 if it is gone).
  return { worker: held.worker, from: held.at, to, points: history.points.get(task) ?? 1 };
}

/**
 * When each worker was online: from a `worker.online` event to the next `worker.offline`, which
 * the sweep records about one heartbeat TTL after the last heartbeat — so a worker's last TTL
 * online counts as online. A worker still online is online until `end`.
 */
function onlineSpans(presence: readonly PresenceChange[], end: number): Map<string, Period[]> {
  const spans = new Map<string, Period[]>();
  const since = new Map<string, number>();
  for (const change of presence) {
    const start = since.get(change.worker_id);
    if (change.online) {
      if (start === undefined) since.set(change.worker_id, change.at);
    } else if (start !== undefined) {
      since.delete(change.worker_id);
      spans.set(change.worker_id, [
        ...(spans.get(change.worker_id) ?? []),
        { from: start, to: change.at },
      ]);
    }
  }
  for (const [worker, start] of since) {
    spans.set(worker, [...(spans.get(worker) ?? []), { from: start, to: end }]);
  }
  return spans;
}

/** The middle sample, or the mean of the two middle ones rounded to the millisecond. */
export function median(samples: readonly number[]): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[middle]!
    : Math.round((sorted[middle - 1]! + sorted[middle]!) / 2);
}

function ratio(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}
