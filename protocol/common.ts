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
  .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)?$/, 'a repo key is `name` or `owner/name`')
  // `.` and `..` are path steps to every HTTP client, which drops them from the URL: such a repo
  // could be made but never reached again at /v1/admin/repos/{key}.
  .refine((key) => key.split('/').every((part) => part !== '.' && part !== '..'), {
    message: 'a repo key part may not be `.` or `..`',
  });

// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** A letter, digit, punctuation mark or symbol: something a reader can see. */
const VISIBLE = /[\p{L}\p{N}\p{P}\p{S}]/u;

/**
 * A name shown on one line — a title, a worker's name, a skill, an area: trimmed, at least one
 * visible character (a title of zero-width spaces would show as nothing on every board), and no
 * control characters (a NUL or a line break has no place in a name, a note's file name or a log).
 */
export function oneLine(max: number) {
  return z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((text) => !CONTROL.test(text), {
      message: 'must be one line without control characters (tabs, line breaks, NUL)',
    })
    .refine((text) => VISIBLE.test(text), { message: 'must contain a visible character' });
}

/**
 * A whole number in a query string (or an environment variable), from `min` to `max`, `fallback`
 * when absent. Only digits are read as a number: `z.coerce` would take `1e3` for 1000, `0x10` for 16 and an empty value for 0,
 * so a typo silently asked for another page.
 */
export function queryInt(min: number, max: number, fallback: number) {
  return z.preprocess(
    (value) =>
      typeof value === 'string' && /^\d+$/.test(value) && Number.isSafeInteger(Number(value))
        ? Number(value)
        : value,
    // One message for every way to miss, naming the range (a message given to `int` alone would
    // also stand for `min` and `max`, and say "digits" of 0 or 501).
    z
      .int({ error: `must be a whole number from ${min} to ${max}, written in digits` })
      .min(min)
      .max(max)
      .default(fallback),
  );
}

/** A skill name; matched case-insensitively, stored lower-case. */
export const Skill = oneLine(64);
export const Skills = z.array(Skill).max(50);

export const Area = oneLine(100);
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
 * How deep a request body may nest. No OWP message comes near it (`artifact.extra` is the only free
 * shape); a body of a few kilobytes can nest thousands of levels, enough to exhaust the stack of
 * whatever walks it next.
 */
export const MAX_INPUT_DEPTH = 64;

/** Why an input is refused before its schema is even tried: where, and what is wrong there. */
export interface MalformedInput {
  /** The keys down to the offending value, joined by dots; `(body)` for the input itself. */
  path: string;
  message: string;
}

/**
 * The first place in `value` that no schema should see, or null: a string that is not well-formed
 * Unicode (a lone surrogate cannot be stored as UTF-8 without being mangled), or nesting deeper
 * than MAX_INPUT_DEPTH. Both are refused at the edge.
 */
export function findMalformedInput(value: unknown): MalformedInput | null {
  const found = malformedPath(value, 0);
  return found && { path: found.path.join('.') || '(body)', message: found.message };
}

/** The keys down to the first problem, built only once one is found (most bodies: never). */
function malformedPath(value: unknown, depth: number): { path: string[]; message: string } | null {
  if (typeof value === 'string') {
    return LONE_SURROGATE.test(value) ? { path: [], message: 'must be valid Unicode text' } : null;
  }
  if (value === null || typeof value !== 'object') return null;
  if (depth >= MAX_INPUT_DEPTH) {
    return { path: [], message: `must not nest deeper than ${MAX_INPUT_DEPTH} levels` };
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = malformedPath(value[i], depth + 1);
      if (found !== null) return { path: [String(i), ...found.path], message: found.message };
    }
  } else {
    for (const [key, item] of Object.entries(value)) {
      const found = malformedPath(key, depth) ?? malformedPath(item, depth + 1);
      if (found !== null) return { path: [key, ...found.path], message: found.message };
    }
  }
  return null;
}

/**
 * JSON with object keys sorted, at every depth: equal for values that differ only in key order (a
 * request body built by another library, a schema converted twice).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, node: unknown) =>
    node !== null && typeof node === 'object' && !Array.isArray(node)
      ? Object.fromEntries(
          Object.entries(node as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : node,
  );
}

/**
 * A new `Idempotency-Key`: the prefix, then 128 random bits in hex. From `getRandomValues`, which
 * a page served over plain HTTP has too (`randomUUID` needs a secure context).
 */
export function newIdempotencyKey(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * A 53-bit hash of `text` (cyrb53: fast, well spread, no dependency; not cryptographic), varied by
 * `seed`. For fingerprints and keys that name content, where a page served over plain HTTP has no
 * `crypto.subtle` to hash with.
 */
export function hash53(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
