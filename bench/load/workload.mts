/**
 * The shape of the benchmark pool, shared by the engine seeder and the admin process so a task
 * seeded in-process and one created over HTTP are the same task.
 */

export const REVIEW_BUDGET = 100;

/**
 * The repos of a pool with `workers` workers. The review budget counts every task a worker holds
 * (leased, in progress, blocked) as well as open PRs, and v0.1 caps a repo's budget at 100; with
 * every worker holding one task, a pool needs more than workers ÷ 100 repos or the budget, not the
 * server, sets the pace. A quarter more than that, and never fewer than four.
 */
export function benchRepos(workers: number): string[] {
  const count = Math.max(4, Math.ceil((workers * 1.25) / REVIEW_BUDGET));
  return Array.from({ length: count }, (_, i) => `bench/repo-${i + 1}`);
}

/** The skill most tasks need in the skill-sparse case, held by few workers. */
export const RARE_SKILL = 'rare-skill';

export interface SkillMix {
  /** Share of seeded ready tasks that need RARE_SKILL (0 = the dense case). */
  rareTaskFraction: number;
  /** Share of workers who hold RARE_SKILL. */
  rareWorkerFraction: number;
}

export const DENSE: SkillMix = { rareTaskFraction: 0, rareWorkerFraction: 0 };

const everyNth = (fraction: number) => (fraction <= 0 ? Infinity : Math.round(1 / fraction));

/** Whether worker `i` holds the rare skill. */
export function isRareWorker(i: number, mix: SkillMix): boolean {
  return i % everyNth(mix.rareWorkerFraction) === 0;
}

/** Whether seeded task `i` needs the rare skill (every task but each 1/(1−f)-th one). */
export function isRareTask(i: number, mix: SkillMix): boolean {
  if (mix.rareTaskFraction <= 0) return false;
  return i % everyNth(1 - mix.rareTaskFraction) !== 0;
}

export function workerRequest(i: number, mix: SkillMix) {
  return {
    name: `bench worker ${i}`,
    github_handle: null,
    skills: isRareWorker(i, mix) ? ['typescript', RARE_SKILL] : ['typescript'],
    capacity_points: 5,
    max_concurrent_tasks: 1,
  };
}

const DESCRIPTION =
  'Benchmark task. Add the missing input validation to the endpoint and a test that proves a ' +
  'bad request gets a 400 with a JSON error envelope rather than a 500.';

/**
 * Task `i`. Rare tasks outrank every common one (priority 50 against 0–39): a scheduler that
 * scanned the queue in priority order would have to walk past all of them for a common worker.
 */
export function taskRequest(
  repos: readonly string[],
  i: number,
  rare: boolean,
  title = `Bench task ${i}`,
) {
  return {
    repo: repos[i % repos.length]!,
    title,
    description: DESCRIPTION,
    estimate_points: 1 + (i % 3),
    priority: rare ? 50 : i % 40,
    required_skills: rare ? [RARE_SKILL] : i % 2 === 0 ? ['typescript'] : [],
    area: null,
    tier: 0,
  };
}

export function repoRequest(repo: string) {
  return { repo, max_open_prs: REVIEW_BUDGET, area_locks_enabled: false };
}
