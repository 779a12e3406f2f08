/**
 * The story of one run: every SDK call, event, state change and log line, stamped with virtual
 * seconds since SANDBOX_EPOCH. Same seed, same JSONL, byte for byte — so key order is fixed here
 * rather than left to whoever built the entry.
 */
import { writeFileSync } from 'node:fs';
import type { SimTimeline, TimelineEntry, VirtualMs } from './context';
import { SANDBOX_EPOCH } from './context';

export type TimedEntry = TimelineEntry & { t: number };

export type TimelineListener = (entry: TimedEntry) => void;

const KEY_ORDER: Record<TimelineEntry['kind'], readonly string[]> = {
  api: ['service', 'operation', 'caller', 'ok', 'error'],
  event: ['source', 'detailType', 'deliveredTo'],
  state: ['resource', 'from', 'to'],
  log: ['message'],
};

/** Objects with sorted keys, arrays in order: one spelling per value. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort())
      out[key] = canonical((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

function ordered(entry: TimelineEntry, t: number): TimedEntry {
  const source = entry as Record<string, unknown>;
  const known = KEY_ORDER[entry.kind];
  if (known === undefined) throw new TypeError(`timeline.record: unknown kind ${JSON.stringify(entry.kind)}`);
  const out: Record<string, unknown> = { t, kind: entry.kind };
  for (const key of known) if (source[key] !== undefined) out[key] = canonical(source[key]);
  for (const key of Object.keys(source).sort()) {
    if (key !== 'kind' && key !== 't' && !known.includes(key) && source[key] !== undefined) {
      out[key] = canonical(source[key]);
    }
  }
  return out as TimedEntry;
}

export class Timeline implements SimTimeline {
  private readonly list: TimedEntry[] = [];
  private readonly listeners = new Set<TimelineListener>();

  constructor(
    private readonly now: () => VirtualMs,
    readonly epochMs: VirtualMs = SANDBOX_EPOCH,
  ) {}

  /** Entries recorded so far, oldest first. */
  get entries(): readonly TimedEntry[] {
    return this.list;
  }

  record(entry: TimelineEntry): void {
    // Whole milliseconds, so `t` never has more than 3 decimals.
    const t = Math.round(this.now() - this.epochMs) / 1000;
    const stamped = ordered(entry, t);
    this.list.push(stamped);
    for (const listener of this.listeners) listener(stamped);
  }

  /** Called with every new entry (live progress for `kiln sandbox`); returns an unsubscribe. */
  onRecord(listener: TimelineListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One JSON object per line, newline-terminated; stable key order. */
  toJsonLines(): string {
    return this.list.map((entry) => `${JSON.stringify(entry)}\n`).join('');
  }

  /** Writes the JSONL synchronously (no real I/O left pending while a run is driving). */
  writeTo(file: string): void {
    writeFileSync(file, this.toJsonLines(), 'utf8');
  }
}
