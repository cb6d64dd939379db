import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';
import type { Figure, PartFigures } from './figures.ts';

/** The parts the issue asks for; a part that recorded nothing shows up as missing. */
const EXPECTED_PARTS: Record<number, string> = {
  1: 'Crash and recover',
  2: 'Lease races at speed',
  3: 'Bad input',
  4: 'Who may do what',
  5: 'Abuse limits',
  6: 'Embedded persistence',
  7: 'SECURITY.md',
};

/**
 * Prints the reliability summary after the run: one table of every part's figures, read from the
 * JSON files the parts wrote into `figuresDir` (each test file runs in its own worker, so a shared
 * folder is the simplest channel back to the main process).
 */
export class SummaryReporter implements Reporter {
  private startedAt = Date.now();

  constructor(private readonly figuresDir: string) {}

  onTestRunStart(): void {
    this.startedAt = Date.now();
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const parts = this.readParts();
    const failedFiles = testModules
      .filter((module) => module.state() === 'failed')
      .map((module) => module.moduleId.replace(`${process.cwd()}/`, ''));
    process.stdout.write(
      `\n${formatSummary(parts, Date.now() - this.startedAt, failedFiles, process.env.OWP_RELIABILITY_SEED)}\n`,
    );
    rmSync(this.figuresDir, { recursive: true, force: true });
  }

  /** Every part's figures; a part reported by several files is merged, in file-name order. */
  private readParts(): PartFigures[] {
    if (!existsSync(this.figuresDir)) return [];
    const merged = new Map<number, PartFigures>();
    for (const name of readdirSync(this.figuresDir).sort()) {
      if (!name.endsWith('.json')) continue;
      const part = JSON.parse(readFileSync(join(this.figuresDir, name), 'utf8')) as PartFigures;
      const into = merged.get(part.part);
      if (!into)
        merged.set(part.part, {
          ...part,
          figures: [...part.figures],
          notes: [...(part.notes ?? [])],
        });
      else {
        into.figures.push(...part.figures);
        into.notes!.push(...(part.notes ?? []));
      }
    }
    return [...merged.values()].sort((a, b) => a.part - b.part);
  }
}

/** The summary as text: a Markdown table (readable in a CI log and pasteable into an issue). */
export function formatSummary(
  parts: PartFigures[],
  elapsedMs: number,
  failedFiles: string[],
  seed?: string,
): string {
  const rows: string[][] = [['part', 'figure', 'value', 'required', 'ok']];
  for (const [number, title] of Object.entries(EXPECTED_PARTS)) {
    const part = parts.find((p) => p.part === Number(number));
    if (!part) {
      rows.push([
        `${number}. ${title}`,
        '(no figures recorded: the part did not run)',
        '',
        '',
        '✗',
      ]);
      continue;
    }
    part.figures.forEach((figure: Figure, index) => {
      rows.push([
        index === 0 ? `${part.part}. ${part.title}` : '',
        figure.label,
        String(figure.value),
        figure.required ?? '',
        figure.ok === undefined ? '' : figure.ok ? '✓' : '✗',
      ]);
    });
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) =>
    `| ${row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  const table = [
    line(rows[0]!),
    `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
  ];
  const failedFigures = parts.flatMap((p) => p.figures.filter((f) => f.ok === false));
  const notes = parts.flatMap((p) => (p.notes ?? []).map((note) => `- part ${p.part}: ${note}`));
  const minutes = Math.floor(elapsedMs / 60_000);
  const seconds = Math.round((elapsedMs % 60_000) / 1000);
  return [
    `OWP Pool reliability summary — run time ${minutes} min ${seconds} s${seed ? `, seed ${seed}` : ''}`,
    '',
    ...table,
    '',
    ...(notes.length ? ['Notes:', ...notes, ''] : []),
    failedFigures.length === 0 && failedFiles.length === 0
      ? 'All figures within their limits.'
      : `NOT OK: ${failedFigures.length} figure(s) out of limits; failed files: ${failedFiles.join(', ') || 'none'}`,
  ].join('\n');
}
