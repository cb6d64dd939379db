import { z } from 'zod';
import { RepoKey, Timestamp, TtlSeconds } from './common.ts';

/** `POST /v1/admin/repos` — creates or updates a repo; absent fields keep their current value. */
export const RepoUpsertRequest = z
  .object({
    repo: RepoKey,
    max_open_prs: z.int().min(0).max(100).optional(),
    area_locks_enabled: z.boolean().optional(),
    lease_ttl_seconds: TtlSeconds.nullable().optional(),
  })
  .meta({ id: 'RepoUpsertRequest' });
export type RepoUpsertRequest = z.infer<typeof RepoUpsertRequest>;

export const Repo = z
  .object({
    repo: RepoKey,
    max_open_prs: z.int(),
    area_locks_enabled: z.boolean(),
    lease_ttl_seconds: z.int().nullable(),
    /** Tasks counted against the review budget: leased, in progress, blocked or with a PR open. */
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
