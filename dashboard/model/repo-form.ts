import type { Repo, RepoUpsertRequest } from '../../protocol/repos.ts';
import { RepoUpsertRequest as RepoUpsertSchema } from '../../protocol/repos.ts';
import { readNumbers, validateWith, type FormResult } from './form-values.ts';

/** The repo form as typed. A blank lease TTL means "the server's default". */
export interface RepoFormValues {
  repo: string;
  max_open_prs: string;
  area_locks_enabled: boolean;
  lease_ttl_seconds: string;
}

/** The form for a new repo, or filled from an existing one to edit it. */
export function repoFormFrom(repo?: Repo): RepoFormValues {
  return {
    repo: repo?.repo ?? '',
    max_open_prs: String(repo?.max_open_prs ?? 3),
    area_locks_enabled: repo?.area_locks_enabled ?? true,
    lease_ttl_seconds: repo?.lease_ttl_seconds == null ? '' : String(repo.lease_ttl_seconds),
  };
}

export function toRepoUpsertRequest(values: RepoFormValues): FormResult<RepoUpsertRequest> {
  const { numbers, notNumbers } = readNumbers(values, ['max_open_prs', 'lease_ttl_seconds']);
  const candidate = {
    repo: values.repo.trim(),
    area_locks_enabled: values.area_locks_enabled,
    max_open_prs: numbers.max_open_prs,
    lease_ttl_seconds: numbers.lease_ttl_seconds ?? null,
  };
  if (candidate.max_open_prs === undefined && !notNumbers.includes('max_open_prs')) {
    return {
      ok: false,
      errors: { max_open_prs: 'give the number of open PRs allowed (0 pauses the repo)' },
    };
  }
  return validateWith(RepoUpsertSchema, candidate, notNumbers);
}
