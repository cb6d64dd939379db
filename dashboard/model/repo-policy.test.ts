import { describe, expect, it } from 'vitest';
import { repoPolicy } from './repo-policy.ts';
import { aRepo } from './testing/builders.ts';

describe('a repo policy in the repos panel', () => {
  it('says a lease repo hands out leases, with its attempt limit and no contract', () => {
    expect(repoPolicy(aRepo('demo'))).toEqual({
      assignment: 'leases',
      offers: false,
      attempts: '3 attempts',
      contract: null,
    });
  });

  it('shows offers with the time to answer, and names the contract fields given', () => {
    const repo = aRepo('acme/web', {
      assignment: 'offer',
      offer_ttl_seconds: 5400,
      max_attempts: 1,
      contract: {
        setup: 'npm ci',
        test: null,
        lint: '  ',
        branch_naming: 'owp/*',
        pr_template: 'x',
      },
    });
    expect(repoPolicy(repo)).toEqual({
      assignment: 'offers · 1 h 30 min to answer',
      offers: true,
      attempts: '1 attempt',
      contract: 'Contract sent with every lease and offer: setup, branch naming, PR template',
    });
  });

  it('shows no contract indicator for a contract with every field blank', () => {
    expect(repoPolicy(aRepo('demo', { contract: { test: ' ' } })).contract).toBeNull();
  });
});
