import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One line of the summary table. */
export interface Figure {
  label: string;
  value: string | number;
  /** What the value must be, as people read it: `0`, `≥ 20`. Absent for plain measurements. */
  required?: string;
  /** Whether the value meets `required`; absent for plain measurements. */
  ok?: boolean;
}

/** What one part of the suite reports. */
export interface PartFigures {
  part: number;
  title: string;
  figures: Figure[];
  /** Things worth reading beside the numbers: seeds, findings, known gaps. */
  notes?: string[];
  /** Which file of the part recorded these, when a part spans several files. */
  source?: string;
}

/** The environment variable naming the folder where each part leaves its figures. */
export const FIGURES_DIR_ENV = 'OWP_RELIABILITY_FIGURES';

/** A figure with a requirement: `ok` is computed from the check. */
export function required(
  label: string,
  value: number | string,
  requirement: string,
  ok: boolean,
): Figure {
  return { label, value, required: requirement, ok };
}

/** A figure that must be exactly zero. */
export function zero(label: string, value: number): Figure {
  return required(label, value, '0', value === 0);
}

/** A figure that must be at least `min`. */
export function atLeast(label: string, value: number, min: number): Figure {
  return required(label, value, `≥ ${min}`, value >= min);
}

/** A plain measurement. */
export function measured(label: string, value: number | string): Figure {
  return { label, value };
}

/**
 * Saves one part's figures for the summary reporter. Parts call this before asserting, so a
 * failing part still shows its numbers. Outside the reliability run (no folder set) it does nothing.
 */
export function recordFigures(part: PartFigures): void {
  const dir = process.env[FIGURES_DIR_ENV];
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const file = `part-${part.part}${part.source ? `-${part.source}` : ''}.json`;
  writeFileSync(join(dir, file), JSON.stringify(part, null, 2));
}

/** Collects the figures of one part as its tests run, then records them all at once. */
export class FigureSheet {
  private readonly figures = new Map<string, Figure>();
  private readonly notes: string[] = [];

  constructor(
    private readonly part: number,
    private readonly title: string,
    /** Set when several files report under one part, so they do not overwrite each other. */
    private readonly source?: string,
  ) {}

  /** Adds or replaces a figure (by label) and saves the sheet. */
  add(...figures: Figure[]): void {
    for (const figure of figures) this.figures.set(figure.label, figure);
    this.save();
  }

  note(text: string): void {
    this.notes.push(text);
    this.save();
  }

  private save(): void {
    recordFigures({
      part: this.part,
      title: this.title,
      figures: [...this.figures.values()],
      notes: this.notes,
      source: this.source,
    });
  }
}
