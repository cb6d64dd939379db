import { TRUST_TIERS, type TrustTier } from '../../protocol/common.ts';
import type {
  AssignmentMode,
  Repo,
  RepoContract,
  RepoUpsertRequest,
  TrustRules,
} from '../../protocol/repos.ts';
import { RepoUpsertRequest as RepoUpsertSchema } from '../../protocol/repos.ts';
import {
  parseWholeNumber,
  readNumbers,
  validateWith,
  type FieldErrors,
  type FormResult,
} from './form-values.ts';

/** The contract's fields, in the order the form shows them. */
export const CONTRACT_FIELDS = ['setup', 'test', 'lint', 'branch_naming', 'pr_template'] as const;
export type ContractField = (typeof CONTRACT_FIELDS)[number];

export const CONTRACT_LABELS: Record<ContractField, string> = {
  setup: 'Setup',
  test: 'Test',
  lint: 'Lint',
  branch_naming: 'Branch naming',
  pr_template: 'PR template',
};

/**
 * The repo form as typed. A blank lease TTL, attempt limit or offer TTL means "the server's
 * default"; four blank trust rules mean the server's default rules; a blank contract field is not
 * given, and a contract with none given is no contract.
 */
export interface RepoFormValues {
  repo: string;
  max_open_prs: string;
  area_locks_enabled: boolean;
  lease_ttl_seconds: string;
  max_attempts: string;
  assignment: AssignmentMode;
  offer_ttl_seconds: string;
  trust_rules: Record<TrustTier, string>;
  contract: Record<ContractField, string>;
}

const text = (value: number | null | undefined) => (value == null ? '' : String(value));

/** The form for a new repo, or filled from an existing one to edit it. */
export function repoFormFrom(repo?: Repo): RepoFormValues {
  return {
    repo: repo?.repo ?? '',
    max_open_prs: String(repo?.max_open_prs ?? 3),
    area_locks_enabled: repo?.area_locks_enabled ?? true,
    lease_ttl_seconds: text(repo?.lease_ttl_seconds),
    max_attempts: text(repo?.max_attempts),
    assignment: repo?.assignment ?? 'lease',
    offer_ttl_seconds: text(repo?.offer_ttl_seconds),
    trust_rules: Object.fromEntries(
      TRUST_TIERS.map((tier) => [tier, text(repo?.trust_rules[tier])]),
    ) as Record<TrustTier, string>,
    contract: Object.fromEntries(
      CONTRACT_FIELDS.map((field) => [field, repo?.contract?.[field] ?? '']),
    ) as Record<ContractField, string>,
  };
}

/**
 * The four trust rules as typed: null when all are blank (the server's default rules), or the
 * first problem in words — a blank or out-of-range tier, or a more trusted tier taking less.
 */
export function readTrustRules(
  typed: Record<TrustTier, string>,
): { ok: true; value: TrustRules | null } | { ok: false; error: string } {
  if (TRUST_TIERS.every((tier) => typed[tier].trim() === '')) return { ok: true, value: null };
  const rules: Partial<TrustRules> = {};
  for (const tier of TRUST_TIERS) {
    const value = parseWholeNumber(typed[tier]);
    if (value === undefined) {
      return {
        ok: false,
        error: `give all four tiers (${tier} is blank), or leave all four blank for the server's default`,
      };
    }
    if (Number.isNaN(value) || value < -1 || value > 3) {
      return { ok: false, error: `${tier}: a risk tier from 0 to 3, or -1 for none` };
    }
    rules[tier] = value;
  }
  for (let i = 1; i < TRUST_TIERS.length; i++) {
    const [lower, higher] = [TRUST_TIERS[i - 1]!, TRUST_TIERS[i]!];
    if (rules[higher]! < rules[lower]!) {
      return {
        ok: false,
        error:
          `${higher} (${rules[higher]}) may not take less than ${lower} (${rules[lower]}): ` +
          'a more trusted tier takes at least what a less trusted one takes',
      };
    }
  }
  return { ok: true, value: rules as TrustRules };
}

/** The contract fields given (one-liners trimmed), or null when none is. */
export function readContract(typed: Record<ContractField, string>): RepoContract | null {
  const contract: RepoContract = {};
  for (const field of CONTRACT_FIELDS) {
    const value = field === 'pr_template' ? typed[field] : typed[field].trim();
    if (value.trim() !== '') contract[field] = value;
  }
  return Object.keys(contract).length > 0 ? contract : null;
}

/** A repo's contract with its blank fields dropped, for comparing with the form's. */
const givenContract = (contract: RepoContract | null): RepoContract | null =>
  contract
    ? readContract(
        Object.fromEntries(CONTRACT_FIELDS.map((f) => [f, contract[f] ?? ''])) as Record<
          ContractField,
          string
        >,
      )
    : null;

/** Equal as JSON values, whatever order their keys came in. */
const same = (a: unknown, b: unknown): boolean => {
  const sorted = (value: unknown): unknown =>
    value && typeof value === 'object'
      ? Object.fromEntries(
          Object.entries(value)
            .sort(([x], [y]) => x.localeCompare(y))
            .map(([k, v]) => [k, sorted(v)]),
        )
      : value;
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
};

/**
 * Why a new repo may not take this key: a repo has it already. Keys are compared as the server
 * compares them, exactly (its key is the table's case-sensitive primary key, and the protocol does
 * not fold case), so `Acme/web` beside `acme/web` is a second repo, not a clash.
 */
export function takenRepoKeyError(
  key: string,
  repos: readonly Pick<Repo, 'repo'>[],
): string | undefined {
  const wanted = key.trim();
  return repos.some((repo) => repo.repo === wanted)
    ? `${wanted} exists already; edit it from its row`
    : undefined;
}

/**
 * The upsert the form describes. Editing (`original` given), every setting is sent only when
 * changed (absent keeps a setting, null resets it to the default): a value changed elsewhere
 * while the dialog was open survives the save, and the v1 settings, which the server reports as
 * the values in effect, are not pinned to today's defaults by being sent back. A new repo sends
 * its budget and locks, and the rest only when given; its key must not be one of `repos` (the
 * repos the page knows), since the server's POST is an upsert and would quietly overwrite that
 * repo's settings with the form's defaults.
 */
export function toRepoUpsertRequest(
  values: RepoFormValues,
  original?: Repo,
  repos: readonly Pick<Repo, 'repo'>[] = [],
): FormResult<RepoUpsertRequest> {
  const offers = values.assignment === 'offer';
  // The offer TTL is read only with offers on: hidden otherwise, it should not block a save.
  const numeric: Array<
    'max_open_prs' | 'lease_ttl_seconds' | 'max_attempts' | 'offer_ttl_seconds'
  > = [
    'max_open_prs',
    'lease_ttl_seconds',
    'max_attempts',
    ...(offers ? ['offer_ttl_seconds' as const] : []),
  ];
  const { numbers, notNumbers } = readNumbers(values, numeric);
  const candidate: Record<string, unknown> = { repo: values.repo.trim() };
  if (numbers.max_open_prs === undefined && !notNumbers.includes('max_open_prs')) {
    return {
      ok: false,
      errors: { max_open_prs: 'give the number of open PRs allowed (0 pauses the repo)' },
    };
  }

  const errors: FieldErrors = {};
  /** Puts a v1 setting in the request if it differs from the repo's (a new repo: if given). */
  const setting = <K extends keyof RepoUpsertRequest>(
    key: K,
    value: RepoUpsertRequest[K],
    current: RepoUpsertRequest[K] | undefined,
    unset: RepoUpsertRequest[K],
  ) => {
    if (original ? !same(value, current) : !same(value, unset)) candidate[key] = value;
  };
  // An edit sends what the person changed and nothing else: a setting changed elsewhere while the
  // dialog was open (another admin, the CLI) keeps that value rather than the one the dialog was
  // opened with. A new repo says its budget and locks outright.
  if (!original || numbers.max_open_prs !== original.max_open_prs) {
    candidate.max_open_prs = numbers.max_open_prs;
  }
  if (!original || values.area_locks_enabled !== original.area_locks_enabled) {
    candidate.area_locks_enabled = values.area_locks_enabled;
  }
  setting(
    'lease_ttl_seconds',
    numbers.lease_ttl_seconds ?? null,
    original?.lease_ttl_seconds,
    null,
  );
  setting('max_attempts', numbers.max_attempts ?? null, original?.max_attempts, null);
  setting('assignment', values.assignment, original?.assignment, 'lease');
  if (offers) {
    setting(
      'offer_ttl_seconds',
      numbers.offer_ttl_seconds ?? null,
      original?.offer_ttl_seconds,
      null,
    );
  }
  const rules = readTrustRules(values.trust_rules);
  if (rules.ok) setting('trust_rules', rules.value, original?.trust_rules, null);
  else errors.trust_rules = rules.error;
  setting(
    'contract',
    readContract(values.contract),
    original ? givenContract(original.contract) : undefined,
    null,
  );

  const taken = original ? undefined : takenRepoKeyError(values.repo, repos);
  if (taken) errors.repo = taken;

  const checked = validateWith(RepoUpsertSchema, candidate, notNumbers);
  if (checked.ok && Object.keys(errors).length === 0) return checked;
  return { ok: false, errors: { ...(checked.ok ? {} : checked.errors), ...errors } };
}
