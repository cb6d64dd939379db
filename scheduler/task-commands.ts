import type { z } from 'zod';
import {
  OwpError,
  type Task,
  type TaskCreateRequest,
  type TaskListQuery,
  type TaskPage,
  type TaskUpdateRequest,
} from '../protocol/index.ts';
import type { EngineContext } from './context.ts';
import { setDependencies } from './dependencies.ts';
import { normalizeSkills } from './eligibility.ts';
import { edgeFor, isReserving } from './lifecycle.ts';
import { TASK_COLUMNS, TASK_FROM, type TaskRow, toTask } from './rows.ts';
import { skillSetId } from './skill-sets.ts';
import { GivenFilters } from './given-filters.ts';
import { findRepo, findWorker, isAreaHeld, requireTask } from './task-store.ts';
import { applyTransition } from './transitions.ts';
import { updateWorkerLoad } from './worker-load.ts';

/** Creates a ready task; returns its id. */
export function createTask(ctx: EngineContext, req: z.output<typeof TaskCreateRequest>): string {
  if (!findRepo(ctx.driver, req.repo)) {
    throw new OwpError(
      'unknown_repo',
      `Repo ${req.repo} does not exist; create it with POST /v1/admin/repos first.`,
      { repo: req.repo },
    );
  }
  const now = ctx.clock.now();
  const id = ctx.ids.taskId();
  ctx.driver.run(
    `INSERT INTO tasks (id, repo, title, description, estimate_points, priority, skill_set_id,
                        area, tier, status, ttl_override_ms, max_attempts, created_at, updated_at)
     VALUES ($id, $repo, $title, $description, $estimate_points, $priority, $skill_set_id,
             $area, $tier, 'ready', $ttl, $max_attempts, $now, $now)`,
    {
      id,
      repo: req.repo,
      title: req.title,
      description: req.description,
      estimate_points: req.estimate_points,
      priority: req.priority,
      skill_set_id: skillSetId(ctx.driver, normalizeSkills(req.required_skills)),
      area: req.area,
      tier: req.tier,
      ttl: req.lease_ttl_seconds ? req.lease_ttl_seconds * 1000 : null,
      max_attempts: req.max_attempts ?? null,
      now,
    },
  );
  if (req.depends_on.length > 0) setDependencies(ctx, id, req.depends_on, { creating: true });
  ctx.record(
    'task.created',
    { repo: req.repo, task_id: id },
    { title: req.title, priority: req.priority },
  );
  return id;
}

export function getTask(ctx: EngineContext, id: string): Task {
  return toTask(requireTask(ctx.driver, id));
}

/**
 * Tasks by creation order, filtered, a page at a time; `next_cursor` continues the listing.
 *
 * The WHERE clause holds only the filters given (`GivenFilters`): written as `$x IS NULL OR …`,
 * every filtered listing walked the tasks from the first ever created. A status listing reads
 * `tasks_by_status` from the cursor on, and the tasks one task blocks come through
 * `task_dependents`; the cursor is a row-value range, which an index can start from.
 */
export function listTasks(ctx: EngineContext, query: z.output<typeof TaskListQuery>): TaskPage {
  const newest = query.order === 'newest';
  const after = query.cursor ? decodeCursor(query.cursor, newest) : null;
  const filters = new GivenFilters({ limit: query.limit + 1 })
    .add('t.repo = $repo', 'repo', query.repo)
    .add('t.status = $status', 'status', query.status)
    .add('t.assignee = $assignee', 'assignee', query.assignee)
    .add('t.area = $area', 'area', query.area)
    .add(
      't.skill_set_id IN (SELECT set_id FROM skill_set_members WHERE skill = $skill)',
      'skill',
      query.skill?.toLowerCase(),
    )
    .add(
      't.id IN (SELECT task_id FROM task_dependencies WHERE depends_on = $depends_on)',
      'depends_on',
      query.depends_on,
    );
  if (after) {
    filters.always(`(t.created_at, t.id) ${newest ? '<' : '>'} ($after_at, $after_id)`);
    filters.params.after_at = after.created_at;
    filters.params.after_id = after.id;
  }
  // Either way along the same indexes, which all end in (created_at, id).
  const rows = ctx.driver.all<TaskRow>(
    `SELECT ${TASK_COLUMNS} FROM ${TASK_FROM} ${filters.where}
      ORDER BY ${newest ? 't.created_at DESC, t.id DESC' : 't.created_at, t.id'} LIMIT $limit`,
    filters.params,
  );
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    tasks: page.map(toTask),
    next_cursor: rows.length > query.limit && last ? encodeCursor(last, newest) : null,
  };
}

/**
 * Admin edit. With `expected_version`, the edit applies only if the task is still at that
 * version (409 `stale_version` otherwise), so an edit made from a stale note loses nothing.
 */
export function updateTask(
  ctx: EngineContext,
  id: string,
  req: z.output<typeof TaskUpdateRequest>,
): string {
  const task = requireTask(ctx.driver, id);
  if (req.expected_version !== undefined && req.expected_version !== task.version) {
    throw new OwpError(
      'stale_version',
      `Task ${id} is at version ${task.version}, not ${req.expected_version}; reload and retry.`,
      { task_id: id, version: task.version, expected_version: req.expected_version },
    );
  }
  const fields = Object.keys(req).filter((k) => k !== 'expected_version');
  if (fields.length === 0) return id;
  const next = {
    title: req.title ?? task.title,
    description: req.description ?? task.description,
    estimate_points: req.estimate_points ?? task.estimate_points,
    priority: req.priority ?? task.priority,
    skill_set_id:
      req.required_skills === undefined
        ? task.skill_set_id
        : skillSetId(ctx.driver, normalizeSkills(req.required_skills)),
    area: req.area === undefined ? task.area : req.area,
    tier: req.tier ?? task.tier,
    ttl_override_ms:
      req.lease_ttl_seconds === undefined
        ? task.ttl_override_ms
        : req.lease_ttl_seconds === null
          ? null
          : req.lease_ttl_seconds * 1000,
    max_attempts: req.max_attempts === undefined ? task.max_attempts : req.max_attempts,
  };
  if (isReserving(task.status)) refuseWhatTheHolderCannotKeep(ctx, task, next);
  if (req.depends_on !== undefined) setDependencies(ctx, id, req.depends_on);
  const changed = ctx.driver.get<{ version: number }>(
    `UPDATE tasks SET title = $title, description = $description,
            estimate_points = $estimate_points, priority = $priority,
            skill_set_id = $skill_set_id, area = $area, tier = $tier,
            ttl_override_ms = $ttl_override_ms, max_attempts = $max_attempts,
            version = version + 1, updated_at = $now
      WHERE id = $id AND version = $version RETURNING version`,
    { ...next, id, version: task.version, now: ctx.clock.now() },
  );
  if (!changed) {
    throw new OwpError('stale_version', `Task ${id} changed during the edit; retry.`, {
      task_id: id,
    });
  }
  updateWorkerLoad(ctx.driver, task, { ...task, estimate_points: next.estimate_points });
  ctx.record(
    'task.updated',
    { repo: task.repo, task_id: id, worker_id: task.assignee },
    { fields, version: changed.version },
  );
  return id;
}

/**
 * An edit of a task someone holds (a lease, or an offer) may not break what the grant was checked
 * against: moving it into an area another task holds would put two in one locked area, and a
 * larger estimate than the holder has room for would overrun its capacity. Requeue it first (the
 * holder loses it) or edit it once it is back in the queue. Its skills and tier may change: they
 * decide who may take a task, and this one is taken.
 */
function refuseWhatTheHolderCannotKeep(
  ctx: EngineContext,
  task: TaskRow,
  next: { area: string | null; estimate_points: number },
): void {
  if (next.area !== null && next.area !== task.area) {
    const repo = findRepo(ctx.driver, task.repo);
    if (repo?.area_locks_enabled === 1 && isAreaHeld(ctx.driver, task.repo, next.area)) {
      throw new OwpError(
        'area_locked',
        `Task ${task.id} is ${task.status}, and area ${next.area} of ${task.repo} is held by another task; requeue this one first.`,
        { task_id: task.id, repo: task.repo, area: next.area },
      );
    }
  }
  const holder = task.assignee === null ? undefined : findWorker(ctx.driver, task.assignee);
  const room = holder && holder.capacity_points - holder.points_in_use + task.estimate_points;
  if (
    room !== undefined &&
    next.estimate_points > task.estimate_points &&
    next.estimate_points > room
  ) {
    throw new OwpError(
      'over_capacity',
      `Task ${task.id} is ${task.status} by ${holder!.id}, who has room for ${room} points, not ${next.estimate_points}; requeue it first.`,
      { task_id: task.id, worker_id: holder!.id, room, estimate_points: next.estimate_points },
    );
  }
}

/** An admin's move of a task: cancel, requeue, or record its merge. */
export function adminTransition(
  ctx: EngineContext,
  id: string,
  cause: 'cancel' | 'requeue' | 'merge',
): string {
  const task = requireTask(ctx.driver, id);
  applyTransition(ctx, task, edgeFor(task.status, 'admin', { cause }), {
    epoch: task.lease_epoch,
    message: `admin ${cause}`,
  });
  return id;
}

/** Where a page ended; a newest-first listing's cursor starts with `n`, so it cannot be mixed up. */
const encodeCursor = (row: TaskRow, newest: boolean): string =>
  btoa(`${newest ? 'n' : ''}${row.created_at}:${row.id}`).replace(/=+$/, '');

function decodeCursor(cursor: string, newest: boolean): { created_at: number; id: string } {
  let text = '';
  try {
    text = atob(cursor);
  } catch {
    // Not base64: not one of ours, refused below.
  }
  const [, mark, at = '', id = ''] = /^(n?)(\d+):(.+)$/s.exec(text) ?? [];
  const created_at = Number(at);
  if (!Number.isSafeInteger(created_at) || id === '') {
    throw new OwpError('validation_failed', 'The cursor is not one this server issued.', {
      cursor,
    });
  }
  if ((mark === 'n') !== newest) {
    throw new OwpError(
      'validation_failed',
      `The cursor is from a listing ${newest ? 'oldest' : 'newest'} first; ask in that order.`,
      { cursor },
    );
  }
  return { created_at, id };
}
