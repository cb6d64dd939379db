import type { z } from 'zod';
import { OwpError, type Repo, type RepoUpsertRequest, type TaskStatus } from '../protocol/index.ts';
import type { EngineContext } from './context.ts';
import { type RepoDefaults, type RepoRow, toRepo } from './rows.ts';
import { updateTask } from './task-commands.ts';
import { findRepo, heldAreas, openPrs } from './task-store.ts';

/** A setting the request may give (a new value), clear (null) or leave out (keep the old one). */
function setting<T, S>(given: T | null | undefined, current: S | null, store: (value: T) => S) {
  if (given === undefined) return current;
  return given === null ? null : store(given);
}

/** The engine's defaults for what a repo leaves unset. */
export const repoDefaults = (ctx: EngineContext): RepoDefaults => ({
  maxAttempts: ctx.config.defaultMaxAttempts,
  trustRules: ctx.config.defaultTrustRules,
  offerTtlMs: ctx.config.offerTtlMs,
});

/** Creates a repo or updates the fields given; new repos default to 3 open PRs and area locks. */
export function upsertRepo(ctx: EngineContext, req: z.output<typeof RepoUpsertRequest>): string {
  const existing = findRepo(ctx.driver, req.repo);
  const row = {
    key: req.repo,
    max_open_prs: req.max_open_prs ?? existing?.max_open_prs ?? 3,
    area_locks_enabled: Number(
      req.area_locks_enabled ?? (existing ? existing.area_locks_enabled === 1 : true),
    ),
    lease_ttl_ms:
      req.lease_ttl_seconds === undefined
        ? (existing?.lease_ttl_ms ?? null)
        : req.lease_ttl_seconds === null
          ? null
          : req.lease_ttl_seconds * 1000,
    max_attempts: setting(req.max_attempts, existing?.max_attempts ?? null, (n) => n),
    trust_rules: setting(req.trust_rules, existing?.trust_rules ?? null, JSON.stringify),
    contract: setting(req.contract, existing?.contract ?? null, (contract) =>
      // Blank fields say nothing: they are dropped rather than delivered as empty instructions.
      JSON.stringify(
        Object.fromEntries(Object.entries(contract).filter(([, v]) => v != null && v.trim())),
      ),
    ),
    assignment: req.assignment ?? existing?.assignment ?? 'lease',
    offer_ttl_ms: setting(req.offer_ttl_seconds, existing?.offer_ttl_ms ?? null, (s) => s * 1000),
    now: ctx.clock.now(),
  };
  ctx.driver.run(
    `INSERT INTO repos (key, max_open_prs, area_locks_enabled, lease_ttl_ms, max_attempts,
                        trust_rules, contract, assignment, offer_ttl_ms, created_at, updated_at)
     VALUES ($key, $max_open_prs, $area_locks_enabled, $lease_ttl_ms, $max_attempts,
             $trust_rules, $contract, $assignment, $offer_ttl_ms, $now, $now)
     ON CONFLICT (key) DO UPDATE SET max_open_prs = excluded.max_open_prs,
       area_locks_enabled = excluded.area_locks_enabled, lease_ttl_ms = excluded.lease_ttl_ms,
       max_attempts = excluded.max_attempts, trust_rules = excluded.trust_rules,
       contract = excluded.contract, assignment = excluded.assignment,
       offer_ttl_ms = excluded.offer_ttl_ms, updated_at = excluded.updated_at`,
    row,
  );
  ctx.record(
    'repo.upserted',
    { repo: req.repo },
    { max_open_prs: row.max_open_prs, area_locks_enabled: row.area_locks_enabled === 1 },
  );
  return req.repo;
}

/** Deletes a repo whose tasks are all finished (merged or cancelled), and those tasks' rows. */
export function deleteRepo(ctx: EngineContext, key: string): void {
  getRepo(ctx, key);
  const open = ctx.driver.get<{ n: number }>(
    `SELECT COUNT(*) AS n FROM tasks WHERE repo = $key AND status NOT IN ('merged', 'cancelled')`,
    { key },
  )!.n;
  if (open > 0) {
    throw new OwpError(
      'repo_in_use',
      `Repo ${key} has ${open} open task(s); cancel or finish them first.`,
      { repo: key, open_tasks: open },
    );
  }
  const deleted = ctx.driver.all<{ status: TaskStatus; n: number }>(
    'SELECT status, COUNT(*) AS n FROM tasks WHERE repo = $key GROUP BY status ORDER BY status',
    { key },
  );
  const ofRepo = 'IN (SELECT id FROM tasks WHERE repo = $key)';
  // Other repos' tasks that named these in `depends_on` are edited to name them no more, as an
  // admin would: a cancelled one among them was never to be merged, and its dependent waited on
  // a task that is now gone (was: for ever, its count of dependencies pending never lowered).
  const edges = ctx.driver.all<{ task_id: string; depends_on: string; shown: string }>(
    `SELECT d.task_id, d.depends_on, t.depends_on AS shown
       FROM task_dependencies d JOIN tasks t ON t.id = d.task_id
      WHERE d.depends_on ${ofRepo} AND t.repo <> $key ORDER BY d.task_id`,
    { key },
  );
  const goneFrom = new Map<string, { shown: string[]; gone: Set<string> }>();
  for (const edge of edges) {
    const entry = goneFrom.get(edge.task_id) ?? {
      shown: JSON.parse(edge.shown) as string[],
      gone: new Set<string>(),
    };
    entry.gone.add(edge.depends_on);
    goneFrom.set(edge.task_id, entry);
  }
  for (const [id, { shown, gone }] of goneFrom) {
    updateTask(ctx, id, { depends_on: shown.filter((dependency) => !gone.has(dependency)) });
  }
  ctx.driver.run(`DELETE FROM leases WHERE task_id ${ofRepo}`, { key });
  ctx.driver.run(`DELETE FROM offers WHERE task_id ${ofRepo}`, { key });
  // Edges both ways: its tasks' own, and other repos' tasks that waited on them (all finished).
  ctx.driver.run(`DELETE FROM task_dependencies WHERE task_id ${ofRepo} OR depends_on ${ofRepo}`, {
    key,
  });
  ctx.driver.run('DELETE FROM tasks WHERE repo = $key', { key });
  ctx.driver.run('DELETE FROM repos WHERE key = $key', { key });
  ctx.record(
    'repo.deleted',
    { repo: key },
    { tasks_deleted: Object.fromEntries(deleted.map((row) => [row.status, row.n])) },
  );
}

export function getRepo(ctx: EngineContext, key: string): Repo {
  const row = findRepo(ctx.driver, key);
  if (!row) throw new OwpError('repo_not_found', `No repo ${key}.`, { repo: key });
  return repoView(ctx, row);
}

export function listRepos(ctx: EngineContext): Repo[] {
  return ctx.driver
    .all<RepoRow>('SELECT * FROM repos ORDER BY key')
    .map((row) => repoView(ctx, row));
}

function repoView(ctx: EngineContext, row: RepoRow): Repo {
  return toRepo(
    row,
    {
      budget_used: row.budget_used,
      open_prs: openPrs(ctx.driver, row.key),
      locked_areas: row.area_locks_enabled ? heldAreas(ctx.driver, row.key) : [],
    },
    repoDefaults(ctx),
  );
}
