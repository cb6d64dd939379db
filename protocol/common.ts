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
  /** v1: reserved for one worker, who may accept or reject it (repos with offer assignment). */
  'offered',
  'leased',
  'in_progress',
  'blocked',
  'pr_opened',
  'merged',
  'cancelled',
  /** v1: out of attempts (expired or released too often); an admin may requeue it. */
  'failed',
] as const;
export const TaskStatus = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatus>;

export const WorkerReportedStatus = z.enum(['idle', 'working', 'paused']);
export type WorkerReportedStatus = z.infer<typeof WorkerReportedStatus>;

export const TRUST_TIERS = ['untrusted', 'basic', 'trusted', 'maintainer'] as const;
export const TrustTier = z.enum(TRUST_TIERS);
export type TrustTier = z.infer<typeof TrustTier>;

/**
 * A link that views will render: http(s) only, so a worker cannot plant `javascript:` or `data:`
 * URLs in a maintainer's dashboard.
 */
const WebLink = z
  .string()
  .max(2048)
  .regex(/^[Hh][Tt][Tt][Pp][Ss]?:\/\/\S+$/, 'must be an http(s) URL');

export const Artifact = z
  .object({
    pr_url: WebLink.nullish(),
    commit_sha: z.string().max(128).nullish(),
    patch_url: WebLink.nullish(),
    extra: z.record(z.string(), z.unknown()).nullish(),
  })
  .meta({ id: 'Artifact' });
export type Artifact = z.infer<typeof Artifact>;

/** In a `u` regex a surrogate pair is one code point, so this matches only lone surrogates. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * The path of the first string in `value` that is not well-formed Unicode (a lone surrogate), or
 * null. Such text cannot be stored as UTF-8 without being mangled, so it is refused at the edge.
 */
export function findMalformedText(value: unknown): string | null {
  const path = malformedPath(value);
  return path === null ? null : path.join('.') || '(body)';
}

/** The keys down to the first malformed string, built only once one is found (most bodies: never). */
function malformedPath(value: unknown): string[] | null {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? [] : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = malformedPath(value[i]);
      if (found !== null) return [String(i), ...found];
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const found = malformedPath(key) ?? malformedPath(item);
      if (found !== null) return [key, ...found];
    }
  }
  return null;
}
