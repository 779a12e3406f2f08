import * as z from '../zod';
import type { ManifestIssue } from './errors';

/**
 * Zod's default messages speak TypeScript ("expected string, received undefined"); manifest
 * authors write YAML. This map words the generic issues in YAML terms. Rules with a specific
 * meaning carry their own message in the schema, which takes precedence over this map.
 */
/**
 * Keys a manifest object no longer offers, with what to say instead of "unknown key". A registry
 * of its own, so the JSON Schema (built from zod's global registry) never offers them.
 */
export const retiredKeys = z.registry<{ retiredKeys: Record<string, string> }>();

export const manifestErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${describeExpected(issue.expected)}, not ${describeValue(issue.input)}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      // One line per key, in order: normalizeIssues splits them so each key gets its own position.
      return unknownKeyMessages(issue.keys, knownKeysOf(issue.inst))
        .map((message, i) => retiredKeyMessage(issue.inst, issue.keys[i] ?? '') ?? message)
        .join('\n');
    case 'invalid_key':
      return issue.issues.map((inner) => inner.message).join('; ');
    case 'too_small':
      return tooSmall(issue.origin, issue.minimum, issue.inclusive ?? true);
    case 'too_big':
      return tooBig(issue.origin, issue.maximum, issue.inclusive ?? true);
    case 'invalid_format':
      return issue.format === 'regex' ? `has an invalid format` : `must be a valid ${issue.format}`;
    default:
      return undefined;
  }
};

export type ParseOutcome<T> = { success: true; data: T } | { success: false; issues: ManifestIssue[] };

/** Parses with the YAML-worded messages and flattens zod's issues into ManifestIssues. */
export function parseWithIssues<S extends z.core.$ZodType>(
  schema: S,
  value: unknown,
): ParseOutcome<z.output<S>> {
  const result = z.safeParse(schema, value, { error: manifestErrorMap });
  if (result.success) return { success: true, data: result.data };
  return { success: false, issues: normalizeIssues(result.error.issues) };
}

export function normalizeIssues(issues: readonly z.core.$ZodIssue[]): ManifestIssue[] {
  const out: ManifestIssue[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const lines = issue.message.split('\n');
      issue.keys.forEach((key, i) => {
        out.push({ path: [...path, key], message: lines[i] ?? 'unknown key', kind: 'unknown-key' });
      });
    } else if (issue.code === 'invalid_key') {
      out.push({ path, message: issue.message, kind: 'invalid-key' });
    } else if (issue.code === 'invalid_type' && issue.message === 'is required') {
      out.push({ path, message: issue.message, kind: 'missing' });
    } else {
      out.push({ path, message: issue.message, kind: 'invalid' });
    }
  }
  return out;
}

function describeExpected(expected: string): string {
  switch (expected) {
    case 'object':
      return 'a map (key: value)';
    case 'array':
      return 'a list';
    case 'int':
      return 'a whole number';
    case 'boolean':
      return 'true or false';
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    default:
      return expected;
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null (an empty value)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'number') return Number.isInteger(value) ? 'a number' : `the number ${value}`;
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'boolean') return `${value}`;
  return typeof value;
}

function tooSmall(origin: string, minimum: number | bigint, inclusive: boolean): string {
  const n = Number(minimum);
  switch (origin) {
    case 'array':
    case 'set':
      return `must list at least ${n} item${n === 1 ? '' : 's'}`;
    case 'string':
      return n <= 1 ? 'must not be empty' : `must be at least ${n} characters long`;
    default:
      return inclusive ? `must be at least ${n}` : `must be greater than ${n}`;
  }
}

function tooBig(origin: string, maximum: number | bigint, inclusive: boolean): string {
  const n = Number(maximum);
  switch (origin) {
    case 'array':
    case 'set':
      return `must list at most ${n} item${n === 1 ? '' : 's'}`;
    case 'string':
      return `must be at most ${n} characters long`;
    default:
      return inclusive ? `must be at most ${n}` : `must be less than ${n}`;
  }
}

/**
 * The schema an issue came from. Told by its `_zod` internals rather than `instanceof
 * z.core.$ZodType`: reading a value from zod's `core` namespace would bundle all of it.
 */
function schemaOf(inst: unknown): z.core.$ZodType | undefined {
  return typeof inst === 'object' && inst !== null && '_zod' in inst ? (inst as z.core.$ZodType) : undefined;
}

function retiredKeyMessage(inst: unknown, key: string): string | undefined {
  const schema = schemaOf(inst);
  if (schema === undefined) return undefined;
  const retired = retiredKeys.get(schema)?.retiredKeys;
  return retired !== undefined && Object.hasOwn(retired, key) ? retired[key] : undefined;
}

function knownKeysOf(inst: unknown): string[] {
  const def = schemaOf(inst)?._zod.def;
  return def?.type === 'object' ? Object.keys((def as z.core.$ZodObjectDef).shape) : [];
}

function unknownKeyMessages(keys: readonly string[], known: string[]): string[] {
  const candidates = known.map((key) => ({ key, lower: key.toLowerCase() }));
  return keys.map((key) => {
    const suggestion = closest(key.toLowerCase(), candidates);
    return suggestion === undefined ? 'unknown key' : `unknown key (did you mean "${suggestion}"?)`;
  });
}

/** The known key a typo most likely meant: small edit distance relative to the key's length. */
function closest(key: string, known: ReadonlyArray<{ key: string; lower: string }>): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(key, candidate.lower);
    if (best === undefined || distance < best.distance) best = { key: candidate.key, distance };
  }
  if (best === undefined) return undefined;
  return best.distance <= Math.max(2, Math.floor(best.key.length / 4)) ? best.key : undefined;
}

/** Levenshtein distance with two rows reused, so thousands of unknown keys cost no garbage. */
function editDistance(a: string, b: string): number {
  let previous = new Uint32Array(b.length + 1);
  let current = new Uint32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length] ?? 0;
}
