import { describe, expect, it } from 'vitest';
import type { Repo } from '../../protocol/repos.ts';
import { repoFormFrom, toRepoUpsertRequest } from './repo-form.ts';

const existing: Repo = {
  repo: 'owner/app',
  max_open_prs: 4,
  area_locks_enabled: false,
  lease_ttl_seconds: 600,
  max_attempts: 5,
  trust_rules: { untrusted: 0, basic: 1, trusted: 2, maintainer: 3 },
  contract: null,
  assignment: 'lease',
  offer_ttl_seconds: 900,
  budget_used: 1,
  open_prs: 1,
  locked_areas: [],
  created_at: '2026-01-17T12:00:00.000Z',
  updated_at: '2026-01-17T12:00:00.000Z',
};

describe('the repo form', () => {
  it('starts from the repo being edited and sends it back unchanged', () => {
    expect(toRepoUpsertRequest(repoFormFrom(existing))).toEqual({
      ok: true,
      value: {
        repo: 'owner/app',
        max_open_prs: 4,
        area_locks_enabled: false,
        lease_ttl_seconds: 600,
      },
    });
  });

  it('sends a blank lease TTL as "use the default"', () => {
    const values = { ...repoFormFrom(), repo: 'demo', lease_ttl_seconds: '' };
    expect(toRepoUpsertRequest(values)).toMatchObject({
      ok: true,
      value: { lease_ttl_seconds: null, max_open_prs: 3 },
    });
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
