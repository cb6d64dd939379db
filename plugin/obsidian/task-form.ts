import { RepoKey, TaskCreateRequest } from '../../protocol/index.ts';
import { parseSkills } from './settings.ts';

/** What the "create task" dialog collects, as typed. */
export interface TaskFormValues {
  title: string;
  repo: string;
  points: string;
  skills: string;
  area: string;
}

export type TaskFormResult =
  { ok: true; request: TaskCreateRequest } | { ok: false; problem: string };

/** The create request the form describes, or the first thing to fix, in words. */
export function taskFormRequest(values: TaskFormValues): TaskFormResult {
  const title = values.title.trim();
  if (!title) return { ok: false, problem: 'Give the task a title.' };
  const repo = values.repo.trim();
  if (!RepoKey.safeParse(repo).success) {
    return { ok: false, problem: 'The repo should be a name like “app” or “owner/app”.' };
  }
  const points = values.points.trim() === '' ? 1 : Number(values.points);
  if (!Number.isInteger(points) || points < 1 || points > 100) {
    return { ok: false, problem: 'Points should be a whole number from 1 to 100.' };
  }
  const area = values.area.trim();
  const parsed = TaskCreateRequest.safeParse({
    repo,
    title,
    estimate_points: points,
    required_skills: parseSkills(values.skills),
    area: area === '' ? null : area,
  });
  if (!parsed.success) return { ok: false, problem: parsed.error.issues[0]!.message };
  return { ok: true, request: parsed.data };
}
