import { z } from 'zod';
import { queryInt, RepoKey, TaskId, Timestamp } from './common.ts';
import { EventActor, OwpEvent, type OwpEventType } from './events.ts';

/** Every event type the engine records, in the order the protocol lists them. */
export const EVENT_TYPES = OwpEvent.options.map((option) => option.shape.type.value) as [
  OwpEventType,
  ...OwpEventType[],
];

/**
 * `GET /v1/audit/events` — the event log filtered, oldest first, a page at a time. Every filter
 * given must hold; `since` is inclusive and `until` exclusive.
 */
export const AuditQuery = z
  .object({
    type: z.enum(EVENT_TYPES).optional().describe('Only events of this type.'),
    actor: EventActor.optional().describe(
      'Only events made by this actor: `admin`, `system` or a worker id.',
    ),
    task_id: TaskId.optional().describe('Only events about this task.'),
    repo: RepoKey.optional().describe('Only events about this repo (`name` or `owner/name`).'),
    since: Timestamp.optional().describe('Only events at or after this time (ISO 8601).'),
    until: Timestamp.optional().describe('Only events before this time (ISO 8601).'),
    after: queryInt(0, Number.MAX_SAFE_INTEGER, 0).describe(
      'The page after this sequence number: 0 first, then the last `next_after`.',
    ),
    limit: queryInt(1, 1000, 100).describe('Events per page.'),
  })
  .meta({ id: 'AuditQuery' });
export type AuditQuery = z.input<typeof AuditQuery>;
export type AuditFilter = z.output<typeof AuditQuery>;

/** The audit query as the HTTP route takes it: plus how to answer. */
export const AuditRouteQuery = AuditQuery.extend({
  format: z
    .enum(['json', 'csv'])
    .optional()
    .describe('Answer as a download: `csv` (`text/csv`, a header row) or `json`.'),
}).meta({ id: 'AuditRouteQuery' });

export const AuditPage = z
  .object({
    events: z.array(OwpEvent),
    /** Pass as `after` for the next page; null on the last one. */
    next_after: z.int().nullable(),
  })
  .meta({ id: 'AuditPage' });
export type AuditPage = z.infer<typeof AuditPage>;

/** The columns of the CSV export, in order. `data` is the event's data as JSON. */
export const AUDIT_CSV_COLUMNS = [
  'seq',
  'at',
  'type',
  'actor',
  'repo',
  'task_id',
  'worker_id',
  'data',
] as const;

/**
 * Events as CSV (RFC 4180): a header row unless `header` is false, CRLF line ends, and a cell
 * quoted — its quotes doubled — when it holds a comma, a quote or a line break. A missing value
 * is an empty cell. The server's `format=csv`, `owp admin audit` and the dashboard's export all
 * use this, so a file reads the same whichever made it.
 *
 * No cell can start a spreadsheet formula: ids, types and actors are plain words, repo keys
 * cannot hold `=`, `+` or `@`, and `data` is a JSON object, which starts with `{`.
 */
export function auditEventsToCsv(events: readonly OwpEvent[], header = true): string {
  const rows = events.map((event) =>
    [
      String(event.seq),
      event.at,
      event.type,
      event.actor ?? '',
      event.repo ?? '',
      event.task_id ?? '',
      event.worker_id ?? '',
      JSON.stringify(event.data),
    ]
      .map(csvCell)
      .join(','),
  );
  const lines = header ? [AUDIT_CSV_COLUMNS.join(','), ...rows] : rows;
  return lines.map((line) => `${line}\r\n`).join('');
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
