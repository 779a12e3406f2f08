/**
 * `kiln events check`'s judgement of one event (issue 11, item 7): which Kiln functions the event
 * reaches under serverless.yml's EventBridge patterns (the sandbox's matcher, which follows
 * EventBridge's documented rules: sandbox/core/event-pattern.ts), and whether each of them would
 * parse it (its schema, shared/events/function-schemas.ts), naming the field at fault. Pure: the
 * command (cli/commands/events.ts) reads the files and prints.
 */
import { compilePattern } from '../sandbox/core/event-pattern';
import type { EventBridgeRoute } from '../sandbox/core/routes';
import type { FunctionEventSchema } from '../shared/events/function-schemas';
import { InvalidInputError } from '../shared/runtime/errors';
import { parseOrThrow } from '../shared/runtime/validation';

export interface ReachedFunction {
  function: string;
  parses: boolean;
  /** Each problem with the dotted path of the field at fault (empty when it parses). */
  issues: Array<{ field: string; message: string }>;
}

export interface EventCheckResult {
  file: string;
  source: string | null;
  detailType: string | null;
  /** The file could not be read or is not a JSON object. */
  problem: string | null;
  reached: ReachedFunction[];
  /** Reaches at least one function, and every one it reaches parses it. */
  ok: boolean;
}

export interface EventChecker {
  check(file: string, text: string): EventCheckResult;
}

export function eventChecker(
  routes: readonly EventBridgeRoute[],
  schemas: Readonly<Record<string, FunctionEventSchema>>,
): EventChecker {
  const rules = routes
    .filter((route) => route.enabled)
    .map((route) => ({ functionName: route.functionName, matches: compilePattern(route.pattern) }));
  return {
    check(file, text) {
      let event: unknown;
      try {
        event = JSON.parse(text);
      } catch (error) {
        return failed(file, `is not JSON (${error instanceof Error ? error.message : String(error)})`);
      }
      if (typeof event !== 'object' || event === null || Array.isArray(event)) {
        return failed(file, 'is not a JSON object (an EventBridge event is one)');
      }
      const names = [
        ...new Set(rules.filter((rule) => rule.matches(event)).map((rule) => rule.functionName)),
      ];
      const reached = names.map((name) => parsedBy(name, schemas[name], event));
      const record = event as Record<string, unknown>;
      return {
        file,
        source: typeof record.source === 'string' ? record.source : null,
        detailType: typeof record['detail-type'] === 'string' ? record['detail-type'] : null,
        problem: null,
        reached,
        ok: reached.length > 0 && reached.every((r) => r.parses),
      };
    },
  };
}

function parsedBy(name: string, known: FunctionEventSchema | undefined, event: unknown): ReachedFunction {
  if (known === undefined) {
    return {
      function: name,
      parses: false,
      issues: [
        { field: '(event)', message: `Kiln knows no schema for ${name} (shared/events/function-schemas.ts)` },
      ],
    };
  }
  try {
    parseOrThrow(known.schema, event, known.what);
    return { function: name, parses: true, issues: [] };
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    return { function: name, parses: false, issues: [...error.issues] };
  }
}

export function failed(file: string, problem: string): EventCheckResult {
  return { file, source: null, detailType: null, problem, reached: [], ok: false };
}
