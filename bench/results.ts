/**
 * Every section of `npm run bench` returns its printed text, its headline figures (one line each
 * in the summary table at the end) and its figures as data (bench/results.json). This file holds
 * the shapes and the two outputs; it measures nothing.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { renderTable } from './paired';

export interface Headline {
  /** What the figure is, in words a reader of the summary understands without the section. */
  figure: string;
  /** The figure as printed (ratios `1.43×`, seconds `12 s`, dollars `$0.0041`). */
  value: string;
}

export interface SectionResult<T = unknown> {
  text: string;
  headlines: Headline[];
  data: T;
}

export interface SectionRecord {
  name: string;
  headlines: Headline[];
  data: unknown;
  /** Wall time the section took. */
  wallMs: number;
}

/** The summary printed last: every section's headline figures, in the order the sections ran. */
export function summaryTable(sections: readonly SectionRecord[]): string {
  const rows = sections.flatMap((s) => s.headlines.map((h) => [`${s.name}: ${h.figure}`, h.value]));
  return ['all together: the headline figures of this run', renderTable(['figure', 'value'], rows)].join(
    '\n',
  );
}

export interface RunInfo {
  startedAt: string;
  seed: number;
  node: string;
  commit?: string;
}

export interface ResultsFile {
  /** The run that wrote the file last (its sections: `sections` entries with its startedAt). */
  run: RunInfo & { sections: string[] };
  /** Every section's latest figures: a run of some sections keeps the others' from earlier runs. */
  sections: Record<string, { run: RunInfo; headlines: Headline[]; wallMs: number; figures: unknown }>;
}

/** Maps into objects, Sets into arrays, non-finite numbers into null (JSON has none). */
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return value;
}

/** The sections of an earlier results file, or none when there is none or it is not one. */
function previousSections(previous: string | undefined): ResultsFile['sections'] {
  if (previous === undefined) return {};
  try {
    const parsed: unknown = JSON.parse(previous);
    if (typeof parsed !== 'object' || parsed === null || !('sections' in parsed)) return {};
    const sections: unknown = parsed.sections;
    return typeof sections === 'object' && sections !== null ? (sections as ResultsFile['sections']) : {};
  } catch {
    return {};
  }
}

/** The results file after `run`: its sections replaced, every other section kept from `previous`. */
export function resultsJson(run: RunInfo, sections: readonly SectionRecord[], previous?: string): string {
  const merged: ResultsFile['sections'] = { ...previousSections(previous) };
  for (const s of sections) {
    merged[s.name] = { run, headlines: s.headlines, wallMs: Math.round(s.wallMs), figures: s.data };
  }
  const file: ResultsFile = { run: { ...run, sections: sections.map((s) => s.name) }, sections: merged };
  return `${JSON.stringify(file, replacer, 2)}\n`;
}

export function writeResults(file: string, run: RunInfo, sections: readonly SectionRecord[]): void {
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  writeFileSync(file, resultsJson(run, sections, previous), 'utf8');
}
