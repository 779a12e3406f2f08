/**
 * Faults on demand from the command line: `--fault kind[:key][@probability]` (repeatable),
 * `--faults FILE` (a JSON or YAML fault plan) and `--bad-version VERSION[:mode]`.
 */
import { parse as parseYaml } from 'yaml';
import { faultPlanSchema, parseFaultPlan, type FaultPlan, type FaultRule } from './core/faults';
import type { AppBehaviour } from './services/fleet';

/** `event-duplicate@0.3`, `throttle:EC2:RunInstances`, `handler-crash:kiln-sandbox-on-artifact@0.5`. */
export function parseFaultSpec(spec: string): FaultRule {
  const at = spec.lastIndexOf('@');
  const head = at >= 0 ? spec.slice(0, at) : spec;
  const colon = head.indexOf(':');
  const kind = colon >= 0 ? head.slice(0, colon) : head;
  const key = colon >= 0 ? head.slice(colon + 1) : undefined;
  const rule: Record<string, unknown> = { kind };
  if (key !== undefined && key !== '') rule.key = key;
  if (at >= 0) {
    const probability = Number(spec.slice(at + 1));
    if (spec.slice(at + 1) === '' || !Number.isFinite(probability)) {
      throw new TypeError(`--fault ${spec}: the probability after @ must be a number from 0 to 1`);
    }
    rule.probability = probability;
  }
  const parsed = faultPlanSchema.element.safeParse(rule);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'kind';
    throw new TypeError(`--fault ${spec}: ${field}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** A fault plan file: a JSON or YAML list of rules (see sandbox/core/faults.ts). */
export function parseFaultPlanText(text: string, file: string): FaultPlan {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new TypeError(
      `${file}: not JSON or YAML: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  try {
    return parseFaultPlan(value);
  } catch (error) {
    throw new TypeError(`${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export type BadVersionMode = Exclude<AppBehaviour['mode'], 'healthy'>;

export interface BadVersion {
  version: string;
  mode: BadVersionMode;
}

/** `1.1.0` (serves 5xx) or `1.1.0:failing-health` (never passes health checks). */
export function parseBadVersion(spec: string): BadVersion {
  const [version = '', mode = 'errors', ...rest] = spec.split(':');
  if (version === '' || rest.length > 0) {
    throw new TypeError(`--bad-version ${spec}: expected VERSION or VERSION:errors|failing-health`);
  }
  if (mode !== 'errors' && mode !== 'failing-health') {
    throw new TypeError(`--bad-version ${spec}: mode must be errors or failing-health, not ${mode}`);
  }
  return { version, mode };
}
