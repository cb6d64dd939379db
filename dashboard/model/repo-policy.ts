import type { Repo } from '../../protocol/repos.ts';
import { CONTRACT_FIELDS, type ContractField } from './repo-form.ts';
import { formatSpan } from './time-format.ts';

/** How a repo hands out work and what it asks of workers, as the repos panel shows it. */
export interface RepoPolicy {
  /** `leases`, or `offers · 15 min to answer`. */
  assignment: string;
  /** True for offer assignment, which the panel marks. */
  offers: boolean;
  /** `3 attempts`: the limit before a task goes to failed. */
  attempts: string;
  /** The contract indicator's tooltip naming the fields given, or null without a contract. */
  contract: string | null;
}

/** The contract's fields inside a sentence. */
const CONTRACT_NOUNS: Record<ContractField, string> = {
  setup: 'setup',
  test: 'test',
  lint: 'lint',
  branch_naming: 'branch naming',
  pr_template: 'PR template',
};

export function repoPolicy(repo: Repo): RepoPolicy {
  const given = CONTRACT_FIELDS.filter((field) => (repo.contract?.[field] ?? '').trim() !== '');
  return {
    assignment:
      repo.assignment === 'offer'
        ? `offers · ${formatSpan(repo.offer_ttl_seconds * 1000)} to answer`
        : 'leases',
    offers: repo.assignment === 'offer',
    attempts: `${repo.max_attempts} attempt${repo.max_attempts === 1 ? '' : 's'}`,
    contract:
      given.length > 0
        ? `Contract sent with every lease and offer: ${given.map((f) => CONTRACT_NOUNS[f]).join(', ')}`
        : null,
  };
}
