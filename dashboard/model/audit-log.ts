import type { OwpApi } from '../../protocol/api.ts';
import { auditEventsToCsv, type AuditQuery } from '../../protocol/audit.ts';
import type { OwpEvent } from '../../protocol/events.ts';
import type { EventNames } from './describe-event.ts';

/** The audit view's filter form, as its inputs hold it (times from `datetime-local`, local). */
export interface AuditFilterForm {
  type: string;
  actor: string;
  task: string;
  repo: string;
  since: string;
  until: string;
}

export const EMPTY_AUDIT_FILTERS: AuditFilterForm = Object.freeze({
  type: '',
  actor: '',
  task: '',
  repo: '',
  since: '',
  until: '',
});

/** The rows of one screen; "Load more" asks for the next. */
export const AUDIT_PAGE_SIZE = 100;
/** An export reads page after page, up to this many events. */
export const AUDIT_EXPORT_MAX = 100_000;

/**
 * The query a filled-in form asks for: empty inputs leave a filter out, the local times of
 * `datetime-local` inputs become instants. The server validates the rest (an unknown worker id
 * is simply no match; a bad task id or an empty period is a 400 shown next to the form).
 */
export function auditQueryOf(
  form: AuditFilterForm,
  workers: readonly { worker_id: string; name: string }[] = [],
): AuditQuery {
  const text = (value: string) => value.trim() || undefined;
  const time = (value: string) => {
    if (!value) return undefined;
    const ms = new Date(value).getTime();
    return Number.isNaN(ms) ? value : new Date(ms).toISOString();
  };
  return {
    type: text(form.type) as AuditQuery['type'],
    actor: actorOf(form.actor, workers),
    task_id: text(form.task),
    repo: text(form.repo),
    since: time(form.since),
    until: time(form.until),
  };
}

/**
 * The actor a person typed, as the server knows it: `admin` and `system` in any case, and a
 * worker by the name the log shows for it (when one worker alone has it) as well as by its id.
 */
function actorOf(
  typed: string,
  workers: readonly { worker_id: string; name: string }[],
): string | undefined {
  const actor = typed.trim();
  if (!actor) return undefined;
  const lower = actor.toLowerCase();
  if (lower === 'admin' || lower === 'system') return lower;
  const named = workers.filter((worker) => worker.name.toLowerCase() === lower);
  return named.length === 1 ? named[0]!.worker_id : actor;
}

/** Who made an event, in words: `Admin`, `System`, a worker's name, or `unknown` (old events). */
export function actorLabel(actor: string | null | undefined, names: EventNames): string {
  if (!actor) return 'unknown';
  if (actor === 'admin') return 'Admin';
  if (actor === 'system') return 'System';
  return names.workerName(actor) ?? actor;
}

/** A file to download: its name, type and text. */
export interface AuditExport {
  filename: string;
  mime: string;
  content: string;
  /** Events in the file. */
  count: number;
  /** True when more events matched than an export takes (`AUDIT_EXPORT_MAX`). */
  truncated: boolean;
}

/**
 * Every event the query matches, as the server's own export would write it: the CSV through the
 * protocol's encoder (so a file from here and one from `format=csv` are the same bytes), the JSON
 * as one page with its `next_after`. Pages of 1000 are read one after another.
 */
export async function exportAudit(
  api: Pick<OwpApi, 'auditEvents'>,
  query: AuditQuery,
  format: 'csv' | 'json',
  max = AUDIT_EXPORT_MAX,
): Promise<AuditExport> {
  const events: OwpEvent[] = [];
  let after: number | null = 0;
  while (after !== null && events.length < max) {
    const page = await api.auditEvents({
      ...query,
      after,
      limit: Math.min(1000, max - events.length),
    });
    events.push(...page.events);
    after = page.next_after;
  }
  return format === 'csv'
    ? {
        filename: 'owp-audit.csv',
        mime: 'text/csv;charset=utf-8',
        content: auditEventsToCsv(events),
        count: events.length,
        truncated: after !== null,
      }
    : {
        filename: 'owp-audit.json',
        mime: 'application/json;charset=utf-8',
        content: JSON.stringify({ events, next_after: after }),
        count: events.length,
        truncated: after !== null,
      };
}
