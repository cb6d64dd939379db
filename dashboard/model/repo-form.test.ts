import { describe, expect, it } from 'vitest';
import {
  readContract,
  readTrustRules,
  repoFormFrom,
  takenRepoKeyError,
  toRepoUpsertRequest,
} from './repo-form.ts';
import { aRepo } from './testing/builders.ts';

const existing = aRepo('owner/app', {
  max_open_prs: 4,
  area_locks_enabled: false,
  lease_ttl_seconds: 600,
  max_attempts: 5,
  // Keys in another order than the form's: still "unchanged".
  trust_rules: { maintainer: 3, trusted: 2, basic: 1, untrusted: 0 },
  contract: { test: 'npm test', lint: null, pr_template: '## What\n' },
  budget_used: 1,
  open_prs: 1,
});

const rules = (untrusted: string, basic: string, trusted: string, maintainer: string) => ({
  untrusted,
  basic,
  trusted,
  maintainer,
});

describe('the repo form', () => {
  it('starts from the repo being edited, and sends only its key when nothing changed', () => {
    const values = repoFormFrom(existing);
    expect(values).toMatchObject({
      max_attempts: '5',
      assignment: 'lease',
      offer_ttl_seconds: '900',
      trust_rules: rules('0', '1', '2', '3'),
      contract: {
        setup: '',
        test: 'npm test',
        lint: '',
        branch_naming: '',
        pr_template: '## What\n',
      },
    });
    expect(toRepoUpsertRequest(values, existing)).toEqual({
      ok: true,
      value: { repo: 'owner/app' },
    });
  });

  it('leaves alone what changed elsewhere while the dialog was open: it sends only its own change', () => {
    // Opened at a budget of 4; someone sets 6 from the CLI; here only area locks are switched on.
    const values = { ...repoFormFrom(existing), area_locks_enabled: true };
    expect(toRepoUpsertRequest(values, existing)).toEqual({
      ok: true,
      value: { repo: 'owner/app', area_locks_enabled: true },
    });
    const budget = { ...repoFormFrom(existing), max_open_prs: '2', lease_ttl_seconds: '' };
    expect(toRepoUpsertRequest(budget, existing)).toEqual({
      ok: true,
      value: { repo: 'owner/app', max_open_prs: 2, lease_ttl_seconds: null },
    });
  });

  it('sends a new repo with blank settings as "use the defaults"', () => {
    const values = { ...repoFormFrom(), repo: 'demo' };
    expect(values.trust_rules).toEqual(rules('', '', '', ''));
    expect(toRepoUpsertRequest(values)).toEqual({
      ok: true,
      value: { repo: 'demo', area_locks_enabled: true, max_open_prs: 3 },
    });
  });

  it('sends a new repo with offers, an attempt limit, trust rules and a contract', () => {
    const values = {
      ...repoFormFrom(),
      repo: 'acme/web',
      max_attempts: '2',
      assignment: 'offer' as const,
      offer_ttl_seconds: '600',
      trust_rules: rules('-1', '1', '1', '3'),
      contract: {
        setup: ' npm ci ',
        test: 'npm test',
        lint: '   ',
        branch_naming: 'owp/<task-id>',
        pr_template: '## Why\n\n## How\n',
      },
    };
    expect(toRepoUpsertRequest(values)).toEqual({
      ok: true,
      value: {
        repo: 'acme/web',
        area_locks_enabled: true,
        max_open_prs: 3,
        max_attempts: 2,
        assignment: 'offer',
        offer_ttl_seconds: 600,
        trust_rules: { untrusted: -1, basic: 1, trusted: 1, maintainer: 3 },
        contract: {
          setup: 'npm ci',
          test: 'npm test',
          branch_naming: 'owp/<task-id>',
          pr_template: '## Why\n\n## How\n',
        },
      },
    });
  });

  it('sends only the settings an edit changed; blanking one resets it to the default', () => {
    const values = {
      ...repoFormFrom(existing),
      max_attempts: '',
      assignment: 'offer' as const,
      offer_ttl_seconds: '300',
      contract: { ...repoFormFrom(existing).contract, test: 'make check' },
    };
    expect(toRepoUpsertRequest(values, existing)).toEqual({
      ok: true,
      value: {
        repo: 'owner/app',
        max_attempts: null,
        assignment: 'offer',
        offer_ttl_seconds: 300,
        contract: { test: 'make check', pr_template: '## What\n' },
      },
    });
  });

  it('clears the trust rules and the contract back to none with every field blank', () => {
    const values = {
      ...repoFormFrom(existing),
      trust_rules: rules('', '', '', ''),
      contract: { setup: '', test: ' ', lint: '', branch_naming: '', pr_template: '\n' },
    };
    expect(toRepoUpsertRequest(values, existing)).toMatchObject({
      ok: true,
      value: { trust_rules: null, contract: null },
    });
  });

  it('does not check the offer TTL while the repo hands out leases', () => {
    const values = { ...repoFormFrom(), repo: 'demo', offer_ttl_seconds: 'soon' };
    expect(toRepoUpsertRequest(values).ok).toBe(true);
    expect(toRepoUpsertRequest({ ...values, assignment: 'offer' })).toEqual({
      ok: false,
      errors: { offer_ttl_seconds: 'must be a whole number' },
    });
  });

  it('refuses trust rules where a more trusted tier takes less, in words', () => {
    const values = { ...repoFormFrom(), repo: 'demo', trust_rules: rules('2', '1', '2', '3') };
    expect(toRepoUpsertRequest(values)).toEqual({
      ok: false,
      errors: {
        trust_rules:
          'basic (1) may not take less than untrusted (2): a more trusted tier takes at least what a less trusted one takes',
      },
    });
  });

  it('refuses to add a repo under a key that exists: the POST would overwrite its settings', () => {
    // Was: "Add repo" with acme/web's key sent the form's budget 3 and locks on over its 4 and off.
    const acme = aRepo('acme/web', { max_open_prs: 4, area_locks_enabled: false });
    const known = [existing, acme];
    expect(
      toRepoUpsertRequest({ ...repoFormFrom(), repo: ' acme/web ' }, undefined, known),
    ).toEqual({
      ok: false,
      errors: { repo: 'acme/web exists already; edit it from its row' },
    });
    // Editing that repo is what the dialog is for: its own key is no clash.
    expect(toRepoUpsertRequest({ ...repoFormFrom(acme), max_open_prs: '5' }, acme, known)).toEqual({
      ok: true,
      value: { repo: 'acme/web', max_open_prs: 5 },
    });
  });

  it('compares keys as the server does, case and all', () => {
    const known = [aRepo('acme/web')];
    expect(takenRepoKeyError('acme/web', known)).toBe(
      'acme/web exists already; edit it from its row',
    );
    // The server's key is a case-sensitive primary key: this is another repo.
    expect(takenRepoKeyError('Acme/Web', known)).toBeUndefined();
    expect(takenRepoKeyError('acme/web2', known)).toBeUndefined();
  });

  it('explains a bad key, a budget out of range, and a missing budget', () => {
    const bad = toRepoUpsertRequest({ ...repoFormFrom(), repo: 'a/b/c', max_open_prs: '101' });
    expect(bad).toMatchObject({
      ok: false,
      errors: { repo: 'a repo key is `name` or `owner/name`' },
    });
    expect((bad as { errors: Record<string, string> }).errors.max_open_prs).toMatch(/100/);
    expect(
      toRepoUpsertRequest({ ...repoFormFrom(), repo: 'demo', max_open_prs: ' ' }),
    ).toMatchObject({
      ok: false,
      errors: { max_open_prs: expect.stringContaining('0 pauses') },
    });
  });
});

describe('the trust rules as typed', () => {
  it('reads four numbers, or none for the default', () => {
    expect(readTrustRules(rules('0', '1', '2', '3'))).toEqual({
      ok: true,
      value: { untrusted: 0, basic: 1, trusted: 2, maintainer: 3 },
    });
    expect(readTrustRules(rules(' ', '', '', ''))).toEqual({ ok: true, value: null });
  });

  it('names a blank tier among given ones, and one out of range', () => {
    expect(readTrustRules(rules('0', '', '2', '3'))).toEqual({
      ok: false,
      error:
        "give all four tiers (basic is blank), or leave all four blank for the server's default",
    });
    expect(readTrustRules(rules('0', '1', '2', '4'))).toEqual({
      ok: false,
      error: 'maintainer: a risk tier from 0 to 3, or -1 for none',
    });
    expect(readTrustRules(rules('-2', '1', '2', '3'))).toEqual({
      ok: false,
      error: 'untrusted: a risk tier from 0 to 3, or -1 for none',
    });
    expect(readTrustRules(rules('0', 'x', '2', '3'))).toEqual({
      ok: false,
      error: 'basic: a risk tier from 0 to 3, or -1 for none',
    });
  });
});

describe('the contract as typed', () => {
  it('keeps the given fields, trims the one-liners and keeps the template as written', () => {
    expect(
      readContract({
        setup: '',
        test: ' pytest -q ',
        lint: '',
        branch_naming: '',
        pr_template: '  Fixes #\n',
      }),
    ).toEqual({ test: 'pytest -q', pr_template: '  Fixes #\n' });
  });
});
