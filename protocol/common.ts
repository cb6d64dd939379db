import { z } from 'zod';

/** ISO 8601 timestamp in UTC, e.g. `2026-01-17T12:00:00.000Z`. */
export const Timestamp = z.iso.datetime({ offset: true });

export const TaskId = z.string().min(1).max(100).describe('A task id, `t_…`.');
export const WorkerId = z.string().min(1).max(100).describe('A worker id, `w_…`.');
export const LeaseId = z.string().min(1).max(100).describe('A lease id, `l_…`.');

/** `demo` or `owner/name`. */
export const RepoKey = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)?$/, 'a repo key is `name` or `owner/name`');

/** A skill name; matched case-insensitively, stored lower-case. */
export const Skill = z.string().trim().min(1).max(64);
export const Skills = z.array(Skill).max(50);

export const Area = z.string().trim().min(1).max(100);
export const RiskTier = z.int().min(0).max(3);

/** Lease and heartbeat TTLs: from ten seconds (agents) to a week (people). */
export const TtlSeconds = z
  .int()
  .min(10)
  .max(7 * 24 * 3600);

export const TASK_STATUSES = [
  'ready',
  'leased',
  'in_progress',
  'blocked',
  'pr_opened',
  'merged',
  'cancelled',
] as const;
export const TaskStatus = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatus>;

export const WorkerReportedStatus = z.enum(['idle', 'working', 'paused']);
export type WorkerReportedStatus = z.infer<typeof WorkerReportedStatus>;

export const TRUST_TIERS = ['untrusted', 'basic', 'trusted', 'maintainer'] as const;
export const TrustTier = z.enum(TRUST_TIERS);
export type TrustTier = z.infer<typeof TrustTier>;

export const Artifact = z
  .object({
    pr_url: z.string().max(2048).nullish(),
    commit_sha: z.string().max(128).nullish(),
    patch_url: z.string().max(2048).nullish(),
    extra: z.record(z.string(), z.unknown()).nullish(),
  })
  .meta({ id: 'Artifact' });
export type Artifact = z.infer<typeof Artifact>;
