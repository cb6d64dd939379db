import type { Readable } from 'node:stream';
import { auditEventsToCsv, type AuditFilter, type AuditPage } from '../protocol/index.ts';
import type { Scheduler } from '../scheduler/engine.ts';

/** An answer that is not the route's JSON: a body with its own type and headers (a download). */
export class FileAnswer {
  constructor(
    readonly contentType: string,
    readonly body: string | Readable,
    readonly headers: Record<string, string>,
  ) {}
}

/**
 * `GET /v1/audit/events`: the page as JSON (the route's schema), or as CSV with `format=csv` or an
 * Accept header that asks for `text/csv`. A CSV answer, and a JSON one asked for with
 * `format=json`, come as a download; the CSV carries the next page's cursor in a header, having
 * no room for it inside.
 */
export async function auditAnswer(
  engine: Scheduler,
  query: AuditFilter & { format?: 'json' | 'csv' },
  accept: string | undefined,
  pause: () => Promise<void>,
): Promise<FileAnswer | AuditPage> {
  const { format, ...filter } = query;
  // A filter that matches little walks the log a window at a time, other requests answered between.
  const page = await engine.auditEventsPaced(filter, pause);
  if (format === 'csv' || (format === undefined && prefersCsv(accept))) {
    return new FileAnswer('text/csv; charset=utf-8', auditEventsToCsv(page.events), {
      'content-disposition': 'attachment; filename="owp-audit.csv"',
      ...(page.next_after === null ? {} : { 'x-owp-next-after': String(page.next_after) }),
    });
  }
  if (format === 'json') {
    return new FileAnswer('application/json; charset=utf-8', JSON.stringify(page), {
      'content-disposition': 'attachment; filename="owp-audit.json"',
    });
  }
  return page;
}

/**
 * Whether an Accept header asks for CSV: `text/csv` with a q above 0 and at least that of
 * `application/json`. Wildcards decide nothing, so the any-type range fetch sends by default
 * keeps the JSON answer.
 */
export function prefersCsv(accept: string | undefined): boolean {
  const quality = (mediaType: string) => {
    let best = 0;
    for (const range of (accept ?? '').split(',')) {
      const [type, ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
      if (type !== mediaType) continue;
      const q = parameters.find((p) => /^q=[\d.]+$/.test(p));
      best = Math.max(best, q ? Number(q.slice(2)) : 1);
    }
    return best;
  };
  const csv = quality('text/csv');
  return csv > 0 && csv >= quality('application/json');
}
