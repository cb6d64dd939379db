import { TaskCreateRequest } from '../../protocol/tasks.ts';
import { readNumbers, splitList, validateWith, type FormResult } from './form-values.ts';

/** The "new task" form as typed: every field a string until submitted. */
export interface TaskFormValues {
  repo: string;
  title: string;
  description: string;
  estimate_points: string;
  priority: string;
  required_skills: string;
  area: string;
  tier: string;
  lease_ttl_seconds: string;
}

export const emptyTaskForm = (repo = ''): TaskFormValues => ({
  repo,
  title: '',
  description: '',
  estimate_points: '1',
  priority: '10',
  required_skills: '',
  area: '',
  tier: '0',
  lease_ttl_seconds: '',
});

const NUMERIC = ['estimate_points', 'priority', 'tier', 'lease_ttl_seconds'] as const;

/** The request the form describes, or a message per field that is wrong. */
export function toTaskCreateRequest(values: TaskFormValues): FormResult<TaskCreateRequest> {
  const { numbers, notNumbers } = readNumbers(values, NUMERIC);
  const candidate = {
    repo: values.repo.trim(),
    title: values.title.trim(),
    description: values.description,
    required_skills: splitList(values.required_skills),
    area: values.area.trim() || null,
    ...numbers,
  };
  return validateWith(TaskCreateRequest, candidate, notNumbers);
}
