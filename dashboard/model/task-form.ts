import { canonicalJson, newIdempotencyKey } from '../../protocol/common.ts';
import { OwpError } from '../../protocol/errors.ts';
import { TaskCreateRequest } from '../../protocol/tasks.ts';
import { fieldIssues } from './error-text.ts';
import {
  readNumbers,
  splitList,
  validateWith,
  type FieldErrors,
  type FormResult,
} from './form-values.ts';

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
  /** Task ids, comma-separated: typed, or added from the picker. */
  depends_on: string;
  /** Blank: the repo's limit. */
  max_attempts: string;
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
  depends_on: '',
  max_attempts: '',
});

/**
 * What the form should keep when it closes without creating: the values, if anything was typed
 * (the repo alone does not count), else null. Escape, the backdrop or Cancel close the dialog; a
 * half-written task comes back when it opens again instead of being lost.
 */
export function draftToKeep(values: TaskFormValues): TaskFormValues | null {
  const empty = emptyTaskForm(values.repo);
  const typed = (Object.keys(empty) as Array<keyof TaskFormValues>).some(
    (field) => field !== 'repo' && values[field].trim() !== empty[field],
  );
  return typed ? { ...values } : null;
}

/** The form to open on: a kept draft (its repo kept while that repo still exists), or an empty one. */
export function openingForm(
  draft: TaskFormValues | null,
  repos: readonly string[],
): TaskFormValues {
  const fallback = repos[0] ?? '';
  if (!draft) return emptyTaskForm(fallback);
  return { ...draft, repo: repos.includes(draft.repo) ? draft.repo : fallback };
}

const NUMERIC = [
  'estimate_points',
  'priority',
  'tier',
  'lease_ttl_seconds',
  'max_attempts',
] as const;

/** The request the form describes, or a message per field that is wrong. */
export function toTaskCreateRequest(values: TaskFormValues): FormResult<TaskCreateRequest> {
  const { numbers, notNumbers } = readNumbers(values, NUMERIC);
  const dependsOn = splitList(values.depends_on);
  const candidate = {
    repo: values.repo.trim(),
    title: values.title.trim(),
    description: values.description,
    required_skills: splitList(values.required_skills),
    area: values.area.trim() || null,
    ...numbers,
    ...(dependsOn.length > 0 ? { depends_on: dependsOn } : {}),
  };
  return validateWith(TaskCreateRequest, candidate, notNumbers);
}

/** The dependency field with `taskId` added at the end (once): `t_a` + `t_b` → `t_a, t_b`. */
export function addDependency(text: string, taskId: string): string {
  const ids = splitList(text);
  return (ids.includes(taskId) ? ids : [...ids, taskId]).join(', ');
}

/** The dependency field without `taskId`. */
export function removeDependency(text: string, taskId: string): string {
  return splitList(text)
    .filter((id) => id !== taskId)
    .join(', ');
}

/**
 * The server's refusal placed next to the field it is about: the schema's issues by field, and a
 * dependency that does not exist or would make a cycle under "Depends on", in the server's words.
 */
export function createRefusalFields(error: unknown): FieldErrors {
  if (
    error instanceof OwpError &&
    (error.code === 'dependency_unknown' || error.code === 'dependency_cycle')
  ) {
    return { depends_on: error.message };
  }
  return fieldIssues(error);
}

/** A creation sent: its request (as canonical JSON) and the `Idempotency-Key` it went with. */
export interface CreationAttempt {
  request: string;
  key: string;
}

/**
 * The attempt for sending `request`: the last attempt's key again when the request is the same —
 * Create pressed again after no answer came (a timeout, a dropped connection) is answered with the
 * task the first press made, if it made one — else a new key. Forgotten once a task is made.
 */
export function creationAttempt(
  last: CreationAttempt | null,
  request: TaskCreateRequest,
): CreationAttempt {
  const sent = canonicalJson(request);
  return last?.request === sent ? last : { request: sent, key: newIdempotencyKey('dashboard') };
}
