import { z } from 'zod';
import { RepoKey, Timestamp, TRUST_TIERS, TtlSeconds } from './common.ts';

const ContractText = z.string().max(20_000).nullable().optional();

/**
 * v1: what a worker needs to work on the repo, delivered with every lease and offer. Every field
 * is free text; absent or null fields are simply not given.
 */
export const RepoContract = z
  .object({
    setup: ContractText,
    test: ContractText,
    lint: ContractText,
    branch_naming: ContractText,
    pr_template: ContractText,
  })
  .strict()
  .meta({ id: 'RepoContract' });
export type RepoContract = z.infer<typeof RepoContract>;

/**
 * v1: the highest task risk tier (0–3) each worker trust tier may take in a repo; -1 takes
 * nothing. A more trusted tier may never take less than a less trusted one.
 */
export const TrustRules = z
  .object({
    untrusted: z.int().min(-1).max(3),
    basic: z.int().min(-1).max(3),
    trusted: z.int().min(-1).max(3),
    maintainer: z.int().min(-1).max(3),
  })
  .strict()
  .refine(
    (rules) => TRUST_TIERS.every((tier, i) => i === 0 || rules[TRUST_TIERS[i - 1]!] <= rules[tier]),
    'a more trusted tier may not take a lower risk tier than a less trusted one',
  )
  .meta({ id: 'TrustRules' });
export type TrustRules = z.infer<typeof TrustRules>;

/** v1: how ready work reaches workers: granted as a lease, or offered for them to accept. */
export const AssignmentMode = z.enum(['lease', 'offer']);
export type AssignmentMode = z.infer<typeof AssignmentMode>;

/** `POST /v1/admin/repos` — creates or updates a repo; absent fields keep their current value. */
export const RepoUpsertRequest = z
  .object({
    repo: RepoKey,
    max_open_prs: z.int().min(0).max(100).optional(),
    area_locks_enabled: z.boolean().optional(),
    lease_ttl_seconds: TtlSeconds.nullable().optional(),
    /** Counted attempts before a task goes to `failed`; null: the server's default. */
    max_attempts: z.int().min(1).max(100).nullable().optional(),
    /** Null: the server's default rules. */
    trust_rules: TrustRules.nullable().optional(),
    contract: RepoContract.nullable().optional(),
    assignment: AssignmentMode.optional(),
    /** How long an offer waits for an answer; null: the server's default. */
    offer_ttl_seconds: TtlSeconds.nullable().optional(),
  })
  .meta({ id: 'RepoUpsertRequest' });
export type RepoUpsertRequest = z.infer<typeof RepoUpsertRequest>;

export const Repo = z
  .object({
    repo: RepoKey,
    max_open_prs: z.int(),
    area_locks_enabled: z.boolean(),
    lease_ttl_seconds: z.int().nullable(),
    /** In effect: the repo's own setting or the server's default. */
    max_attempts: z.int(),
    trust_rules: TrustRules,
    contract: RepoContract.nullable(),
    assignment: AssignmentMode,
    offer_ttl_seconds: z.int(),
    /** Tasks counted against the review budget: offered, leased, in progress, blocked or with a PR open. */
    budget_used: z.int(),
    open_prs: z.int(),
    locked_areas: z.array(z.string()),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: 'Repo' });
export type Repo = z.infer<typeof Repo>;

export const RepoUpsertResponse = z
  .object({ ok: z.literal(true), repo: RepoKey, settings: Repo })
  .meta({ id: 'RepoUpsertResponse' });
export type RepoUpsertResponse = z.infer<typeof RepoUpsertResponse>;
