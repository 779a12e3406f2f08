/**
 * EventBridge event patterns: validation and matching, written by hand.
 *
 * No maintained JavaScript library implements EventBridge's content filtering (AWS's own matcher,
 * aws/event-ruler, is Java; moto's Python matcher misses array-of-object events), so this follows
 * the EventBridge user guide directly:
 *   - patterns:   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
 *   - operators:  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 *   - filtering:  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html
 *   - arrays:     https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html
 *   - null / "":  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-null-values.html
 * Where the guide is silent, the behaviour of aws/event-ruler's README (the engine behind
 * EventBridge) decides, and the comment says so.
 *
 * Patterns are compiled once (`compilePattern`) so the bus validates a rule when it is added and
 * matching an event does no parsing.
 */
import { BlockList, isIP } from 'node:net';

/** A JSON value as it appears in events and patterns. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** An event pattern (a JSON object); validated by `validatePattern`. */
export type EventPattern = { [key: string]: unknown };

/** A pattern EventBridge would reject. `field` is the dotted path of the offending field. */
export class EventPatternError extends Error {
  override readonly name = 'EventPatternError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`Event pattern is not valid: ${field ? `${field}: ` : ''}${message}`);
  }
}

type Matcher = (value: unknown) => boolean;

interface LeafRule {
  kind: 'leaf';
  key: string;
  /** Matchers applied to each leaf value of the field (any value, any matcher). */
  matchers: Matcher[];
  /** `exists` conditions in the same list (true/false); they look at presence, not values. */
  exists: boolean[];
}

interface NestedRule {
  kind: 'nested';
  key: string;
  node: CompiledNode;
}

interface OrRule {
  kind: 'or';
  alternatives: CompiledNode[];
}

type Rule = LeafRule | NestedRule | OrRule;

interface CompiledNode {
  rules: Rule[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

// ---------------------------------------------------------------------------------------------
// Compilation (validation happens here: every error names the field)
// ---------------------------------------------------------------------------------------------

/** Throws EventPatternError naming the first invalid field; returns nothing when valid. */
export function validatePattern(pattern: unknown): void {
  compilePattern(pattern);
}

/** Validates once and returns a matcher for events. */
export function compilePattern(pattern: unknown): (event: unknown) => boolean {
  if (!isPlainObject(pattern)) throw new EventPatternError('', 'the pattern must be a JSON object');
  const root = compileNode(pattern, '');
  return (event) => isPlainObject(event) && matchNode(root, event);
}

/** True when `event` matches `pattern`; throws EventPatternError when the pattern is invalid. */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  return compilePattern(pattern)(event);
}

function compileNode(node: Record<string, unknown>, path: string): CompiledNode {
  const keys = Object.keys(node);
  // We reject `{}` although AWS's behaviour for it is undocumented: an empty object in
  // serverless.yml is a typo that would otherwise match every event.
  if (keys.length === 0) throw new EventPatternError(path, 'must not be an empty object');
  const rules: Rule[] = [];
  for (const key of keys) {
    const value = node[key];
    const field = join(path, key);
    if (key === '$or' && Array.isArray(value) && value.length > 0 && value.every(isPlainObject)) {
      // "$or" is an array of at least two objects; anything else keeps "$or" an ordinary field
      // name (eb-create-pattern-operators.html, "Or"; event-ruler README, "The $or Primitive").
      if (value.length < 2) throw new EventPatternError(field, 'must list at least two patterns');
      rules.push({ kind: 'or', alternatives: value.map((alternative) => compileNode(alternative, path)) });
    } else if (isPlainObject(value)) {
      rules.push({ kind: 'nested', key, node: compileNode(value, field) });
    } else if (Array.isArray(value)) {
      rules.push(compileLeaf(key, value, field));
    } else {
      // Match values are always arrays (eb-create-pattern.html, "Matching event values").
      throw new EventPatternError(field, 'must be an object or an array');
    }
  }
  return { rules };
}

function compileLeaf(key: string, values: unknown[], field: string): LeafRule {
  if (values.length === 0) throw new EventPatternError(field, 'must not be an empty array');
  const matchers: Matcher[] = [];
  const exists: boolean[] = [];
  values.forEach((value, i) => {
    const at = `${field}[${i}]`;
    if (value === null || typeof value === 'string' || typeof value === 'boolean') {
      matchers.push((v) => v === value);
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new EventPatternError(at, 'numbers must be finite');
      // Numbers compare as numbers: 300 matches 3.0e2 (both parse to the same double).
      matchers.push((v) => typeof v === 'number' && v === value);
    } else if (isPlainObject(value)) {
      const names = Object.keys(value);
      if (names.length !== 1) throw new EventPatternError(at, 'an operator object must have exactly one key');
      const name = names[0] as string;
      const operand = value[name];
      if (name === 'exists') {
        if (typeof operand !== 'boolean')
          throw new EventPatternError(`${at}.exists`, 'must be true or false');
        exists.push(operand);
      } else {
        matchers.push(compileOperator(name, operand, `${at}.${name}`));
      }
    } else {
      throw new EventPatternError(at, 'must be a string, number, boolean, null or an operator object');
    }
  });
  return { kind: 'leaf', key, matchers, exists };
}

function requireString(operand: unknown, at: string): string {
  if (typeof operand !== 'string') throw new EventPatternError(at, 'must be a string');
  return operand;
}

function lower(value: string): string {
  return value.toLowerCase();
}

/** prefix / suffix take a string or `{ "equals-ignore-case": string }`. */
function compileAffix(
  operand: unknown,
  at: string,
  test: (value: string, affix: string) => boolean,
): Matcher {
  if (isPlainObject(operand)) {
    const keys = Object.keys(operand);
    if (keys.length !== 1 || keys[0] !== 'equals-ignore-case') {
      throw new EventPatternError(at, 'must be a string or { "equals-ignore-case": string }');
    }
    const affix = lower(requireString(operand['equals-ignore-case'], `${at}.equals-ignore-case`));
    return (v) => typeof v === 'string' && test(lower(v), affix);
  }
  const affix = requireString(operand, at);
  return (v) => typeof v === 'string' && test(v, affix);
}

function compileOperator(name: string, operand: unknown, at: string): Matcher {
  switch (name) {
    // Prefix and suffix match strings only (eb-create-pattern-operators.html, "Begins with", "Ends with").
    case 'prefix':
      return compileAffix(operand, at, (v, p) => v.startsWith(p));
    case 'suffix':
      return compileAffix(operand, at, (v, s) => v.endsWith(s));
    case 'equals-ignore-case': {
      const expected = lower(requireString(operand, at));
      return (v) => typeof v === 'string' && lower(v) === expected;
    }
    case 'wildcard': {
      const regex = compileWildcard(requireString(operand, at), at);
      return (v) => typeof v === 'string' && regex.test(v);
    }
    case 'anything-but':
      return compileAnythingBut(operand, at);
    case 'numeric':
      return compileNumeric(operand, at);
    case 'cidr':
      return compileCidr(operand, at);
    default:
      throw new EventPatternError(at, `unknown operator "${name}"`);
  }
}

/**
 * `*` matches any run of characters; `\*` is a literal star and `\\` a literal backslash; two
 * wildcards in a row and any other escape are rejected (event-ruler README, "Wildcard matching";
 * eb-create-pattern-operators.html, "Wildcard").
 */
function compileWildcard(pattern: string, at: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') {
        throw new EventPatternError(at, 'a backslash may only escape "*" or "\\"');
      }
      source += `\\${next}`;
      i++;
    } else if (c === '*') {
      if (pattern[i + 1] === '*')
        throw new EventPatternError(at, 'consecutive wildcard characters are not allowed');
      source += '[\\s\\S]*';
    } else {
      source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}

/**
 * anything-but takes a string, a number, a list of only strings or only numbers, or one of
 * `{prefix}`, `{suffix}`, `{equals-ignore-case}`, `{wildcard}` (the last two also as lists);
 * a single prefix only, not a list (eb-event-patterns-content-based-filtering.html,
 * "Anything-but matching"). It matches any value not excluded, whatever its type: a number is not
 * "initializing", so it matches `{"anything-but": "initializing"}`.
 */
function compileAnythingBut(operand: unknown, at: string): Matcher {
  if (typeof operand === 'string' || typeof operand === 'number') return (v) => v !== operand;
  if (Array.isArray(operand)) {
    if (operand.length === 0) throw new EventPatternError(at, 'must not be an empty list');
    const allStrings = operand.every((o) => typeof o === 'string');
    const allNumbers = operand.every((o) => typeof o === 'number' && Number.isFinite(o));
    if (!allStrings && !allNumbers)
      throw new EventPatternError(at, 'a list must hold only strings or only numbers');
    const excluded = new Set<unknown>(operand);
    return (v) => !excluded.has(v);
  }
  if (isPlainObject(operand)) {
    const keys = Object.keys(operand);
    if (keys.length !== 1) throw new EventPatternError(at, 'must have exactly one key');
    const name = keys[0] as string;
    const inner = operand[name];
    const innerAt = `${at}.${name}`;
    const stringList = (): string[] => {
      const list = Array.isArray(inner) ? inner : [inner];
      if (list.length === 0) throw new EventPatternError(innerAt, 'must not be an empty list');
      return list.map((item, i) => requireString(item, Array.isArray(inner) ? `${innerAt}[${i}]` : innerAt));
    };
    let excluded: Matcher;
    switch (name) {
      case 'prefix': {
        const prefix = requireString(inner, innerAt);
        excluded = (v) => typeof v === 'string' && v.startsWith(prefix);
        break;
      }
      case 'suffix': {
        const suffix = requireString(inner, innerAt);
        excluded = (v) => typeof v === 'string' && v.endsWith(suffix);
        break;
      }
      case 'equals-ignore-case': {
        const values = new Set(stringList().map(lower));
        excluded = (v) => typeof v === 'string' && values.has(lower(v));
        break;
      }
      case 'wildcard': {
        const regexes = stringList().map((p) => compileWildcard(p, innerAt));
        excluded = (v) => typeof v === 'string' && regexes.some((r) => r.test(v));
        break;
      }
      default:
        throw new EventPatternError(innerAt, `"anything-but" does not support "${name}"`);
    }
    return (v) => !excluded(v);
  }
  throw new EventPatternError(at, 'must be a string, a number, a list or an operator object');
}

// Numeric matching works on JSON numbers only, within ±5.0e9 (event-ruler README, "Numeric
// matching"; eb-create-pattern-operators.html, "Numeric"). Bounds: one lower and/or one upper.
const NUMERIC_LIMIT = 5.0e9;
const LOWER = new Set(['>', '>=']);
const UPPER = new Set(['<', '<=']);

function compileNumeric(operand: unknown, at: string): Matcher {
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) {
    throw new EventPatternError(at, 'must be [operator, number] or [operator, number, operator, number]');
  }
  const checks: Array<{ op: string; bound: number }> = [];
  for (let i = 0; i < operand.length; i += 2) {
    const op = operand[i];
    const bound = operand[i + 1];
    if (typeof op !== 'string' || !['<', '<=', '=', '>', '>='].includes(op)) {
      throw new EventPatternError(`${at}[${i}]`, 'must be one of <, <=, =, >=, >');
    }
    if (typeof bound !== 'number' || !Number.isFinite(bound)) {
      throw new EventPatternError(`${at}[${i + 1}]`, 'must be a number');
    }
    if (Math.abs(bound) > NUMERIC_LIMIT) {
      throw new EventPatternError(`${at}[${i + 1}]`, 'must be between -5.0e9 and 5.0e9');
    }
    checks.push({ op, bound });
  }
  const [first, second] = checks as [
    { op: string; bound: number },
    { op: string; bound: number } | undefined,
  ];
  if (second) {
    if (!LOWER.has(first.op) || !UPPER.has(second.op)) {
      throw new EventPatternError(
        at,
        'a range is a lower bound (> or >=) followed by an upper bound (< or <=)',
      );
    }
    if (first.bound >= second.bound)
      throw new EventPatternError(at, 'the lower bound must be below the upper bound');
  }
  return (v) =>
    typeof v === 'number' &&
    checks.every(({ op, bound }) => {
      switch (op) {
        case '<':
          return v < bound;
        case '<=':
          return v <= bound;
        case '=':
          return v === bound;
        case '>=':
          return v >= bound;
        default:
          return v > bound;
      }
    });
}

/** IPv4 and IPv6 (eb-event-patterns-content-based-filtering.html, "IP address matching"). */
function compileCidr(operand: unknown, at: string): Matcher {
  const cidr = requireString(operand, at);
  const slash = cidr.lastIndexOf('/');
  const address = slash < 0 ? cidr : cidr.slice(0, slash);
  const family = isIP(address);
  const maxBits = family === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(maxBits) : cidr.slice(slash + 1);
  const prefix = Number(prefixText);
  if (family === 0 || !/^\d+$/.test(prefixText) || prefix > maxBits) {
    throw new EventPatternError(at, `"${cidr}" is not an IPv4 or IPv6 CIDR block`);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const block = new BlockList();
  block.addSubnet(address, prefix, type);
  return (v) => typeof v === 'string' && isIP(v) === family && block.check(v, type);
}

// ---------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------

/**
 * The objects a nested pattern is matched against. Arrays in events are "crushed out": objects
 * inside them count as the parent field's value, at any depth (event-ruler README, "JSON Array
 * Matching"). Each object is tried on its own, so two fields only match together when they sit
 * in the same array element, as EventBridge's matcher does.
 */
function objectCandidates(value: unknown): Array<Record<string, unknown>> {
  if (isPlainObject(value)) return [value];
  if (Array.isArray(value)) return value.flatMap(objectCandidates);
  return [];
}

/** The leaf values of a field: scalars, with arrays flattened; objects are not leaves. */
function leafValues(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(leafValues);
  if (value === undefined || isPlainObject(value)) return [];
  return [value];
}

function matchNode(node: CompiledNode, event: Record<string, unknown>): boolean {
  return node.rules.every((rule) => matchRule(rule, event));
}

function matchRule(rule: Rule, event: Record<string, unknown>): boolean {
  switch (rule.kind) {
    case 'or':
      return rule.alternatives.some((alternative) => matchNode(alternative, event));
    case 'nested': {
      const candidates = objectCandidates(event[rule.key]);
      // A missing (or non-object) field still lets `exists: false` below it match.
      if (candidates.length === 0) return matchNode(rule.node, {});
      return candidates.some((candidate) => matchNode(rule.node, candidate));
    }
    case 'leaf': {
      // A field counts as present only with at least one leaf value: "Exists matching only works
      // on leaf nodes" (eb-event-patterns-content-based-filtering.html, "Exists matching").
      const values = leafValues(event[rule.key]);
      const present = values.length > 0;
      if (rule.exists.some((wanted) => wanted === present)) return true;
      // Arrays match when any element matches (eb-event-patterns-arrays.html).
      return values.some((value) => rule.matchers.some((matcher) => matcher(value)));
    }
  }
}
