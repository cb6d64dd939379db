import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  auditEventsToCsv,
  EVENT_TYPES,
  type AuditPage,
  type AuditQuery,
} from '../../../protocol/audit.ts';
import type { OwpEvent } from '../../../protocol/events.ts';
import { intArg, type CliContext, type ContextOf } from '../context.ts';
import { CliError } from '../errors.ts';
import { formatTable } from '../format.ts';

/** The most a page of the audit log holds; the CLI reads page after page up to `--limit`. */
const PAGE = 1000;

interface AuditOptions {
  type?: string;
  actor?: string;
  task?: string;
  repo?: string;
  since?: string;
  until?: string;
  after?: number;
  limit: number;
  format?: 'table' | 'json' | 'csv';
  out?: string;
}

/** `owp admin audit`: who did what, filtered, as a table, JSON or CSV, on screen or to a file. */
export function addAuditCommand(admin: Command, contextOf: ContextOf): void {
  admin
    .command('audit')
    .description('the audit log: every event with its actor (admin, system or a worker id)')
    .addOption(new Option('--type <type>', 'only events of this type').choices(EVENT_TYPES))
    .option('--actor <actor>', 'only events made by admin, system or this worker id')
    .option('--task <task_id>', 'only events about this task')
    .option('--repo <repo>', 'only events about this repo')
    .option('--since <time>', 'from this time: ISO 8601, or 30m, 24h, 7d ago', timeArg)
    .option('--until <time>', 'before this time: ISO 8601, or 30m, 24h, 7d ago', timeArg)
    .option(
      '--after <seq>',
      'after this event sequence number (continue a listing)',
      intArg(0, 2 ** 53 - 1),
    )
    .option('--limit <n>', 'at most this many events', intArg(1, 1_000_000), 100)
    .addOption(
      new Option(
        '--format <format>',
        'table (default), json or csv; --out FILE.csv means csv',
      ).choices(['table', 'json', 'csv']),
    )
    .option('--out <file>', 'write to this file instead of the screen')
    .action(async (options: AuditOptions, command: Command) => {
      await printAudit(contextOf(command), options);
    });
}

async function printAudit(ctx: CliContext, options: AuditOptions): Promise<void> {
  // With --out and no --format, the file's extension decides.
  const format =
    options.format ??
    (options.out?.toLowerCase().endsWith('.csv')
      ? 'csv'
      : ctx.json || options.out
        ? 'json'
        : 'table');
  const client = ctx.adminClient();
  const query: AuditQuery = {
    type: options.type as AuditQuery['type'],
    actor: options.actor,
    task_id: options.task,
    repo: options.repo,
    since: options.since,
    until: options.until,
  };
  const events: OwpEvent[] = [];
  let after: number | null = options.after ?? 0;
  // Page by page until the limit or the end: the server caps a page, the CLI does not.
  while (after !== null && events.length < options.limit) {
    const page: AuditPage = await client.call('auditEvents', {
      query: { ...query, after, limit: Math.min(PAGE, options.limit - events.length) },
    });
    events.push(...page.events);
    after = page.next_after;
  }
  const text =
    format === 'csv'
      ? auditEventsToCsv(events)
      : format === 'json'
        ? `${JSON.stringify({ events, next_after: after }, null, 2)}\n`
        : `${events.length === 0 ? 'no events' : auditTable(events)}\n`;
  if (options.out) {
    const path = resolve(ctx.io.cwd, options.out);
    try {
      writeFileSync(path, text);
    } catch (error) {
      throw new CliError(`cannot write ${options.out}: ${(error as NodeJS.ErrnoException).code}`);
    }
    ctx.note(`wrote ${events.length} events to ${options.out} as ${format.toUpperCase()}`);
  } else {
    ctx.io.stdout.write(text);
  }
  if (after !== null) ctx.note(`more: --after ${after}`);
}

/** The events one a line: what happened, to what, by whom. */
export function auditTable(events: readonly OwpEvent[]): string {
  return formatTable(events, [
    { header: 'SEQ', value: (e) => e.seq, align: 'right' },
    { header: 'AT', value: (e) => e.at },
    { header: 'TYPE', value: (e) => e.type },
    { header: 'ACTOR', value: (e) => e.actor ?? null },
    { header: 'REPO', value: (e) => e.repo, maxWidth: 24 },
    { header: 'TASK', value: (e) => e.task_id },
    { header: 'WORKER', value: (e) => e.worker_id },
    { header: 'DETAIL', value: eventDetail, maxWidth: 60 },
  ]);
}

/** A few words on what an event says: a move's edge and cause, a title, a setting. */
export function eventDetail(event: OwpEvent): string {
  switch (event.type) {
    case 'task.status_changed': {
      const { from, to, cause, pr_url, message } = event.data;
      return [`${from} → ${to} (${cause})`, pr_url, message && `“${message}”`]
        .filter(Boolean)
        .join(' ');
    }
    case 'task.created':
      return `“${event.data.title}”, priority ${event.data.priority}`;
    case 'task.updated':
      return `${event.data.fields.join(', ')} (version ${event.data.version})`;
    case 'repo.upserted':
      return `budget ${event.data.max_open_prs}, area locks ${event.data.area_locks_enabled ? 'on' : 'off'}`;
    case 'worker.registered':
      return `“${event.data.name}”${event.data.skills.length ? `, skills ${event.data.skills.join(', ')}` : ''}`;
    case 'worker.online':
      return event.data.status;
    case 'worker.status_changed':
      return `${event.data.from} → ${event.data.to}`;
    case 'lease.renewed':
      return `until ${event.data.expires_at}`;
    default: {
      const data = JSON.stringify(event.data);
      return data === '{}' ? '' : data;
    }
  }
}

/** `--since`/`--until`: an ISO 8601 time, or a span back from now (`30m`, `24h`, `7d`). */
export function timeArg(value: string, _previous?: string, now = Date.now()): string {
  const span = /^(\d+)([smhd])$/.exec(value.trim());
  if (span) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[span[2] as 's'];
    return new Date(now - Number(span[1]) * unit).toISOString();
  }
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InvalidArgumentError(
      'expected an ISO 8601 time (2026-01-17T12:00:00Z) or 30m, 24h, 7d',
    );
  }
  return new Date(Date.parse(value)).toISOString();
}
