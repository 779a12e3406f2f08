/**
 * `kiln preview`: rehearses one environment's rollout in the sandbox (rehearsal.ts) and says what
 * the people using the service will live through — how long it takes, the least healthy capacity
 * at any moment, the most instances paid for at once, the checkpoint pauses, and how long going
 * back takes — measured from the run's record (figures.ts), and whether the manifest's own
 * constraints hold (a healthy release rolls out; healthy capacity never drops below the floor the
 * strategy asks for; a rollback succeeds).
 */
import type { Strategy } from '../../shared/domain/manifest/schema';
import { runSandbox } from '../run';
import { describeStrategy, type TargetGroupSettings } from '../stories/settings';
import {
  environmentSpans,
  firstAlarm,
  restoredAfter,
  rolloutFigures,
  type EnvironmentSpan,
  type RolloutFigures,
} from './figures';
import type { PreviewInput } from './input';
import {
  healthyFloor,
  NEW_RELEASE,
  PREVIOUS_RELEASE,
  rehearsalStory,
  type RehearsalLog,
  type RehearsedDeployment,
} from './rehearsal';

export interface PreviewOptions {
  input: PreviewInput;
  /** The rehearsed release serves 5xx once deployed: what Kiln does about it, and how long it takes. */
  badVersion?: boolean;
  /** Seed of the rehearsal (the same seed gives the same figures). */
  seed?: number;
  /** Live progress of the rehearsal. */
  print?: (line: string) => void;
}

export interface RollbackFigures {
  /** `kiln rollback` rehearsed after the rollout, or the rollback Kiln started itself (bad release). */
  kind: 'kiln rollback' | 'automatic';
  /** Kiln's rollback of the environment, start to end (kiln rollback). */
  seconds: number | undefined;
  /** From the decision (kiln rollback started, or the alarm going off) until the fleet was whole again on the previous release. */
  restoredSeconds: number | undefined;
  /** Bad release: seconds into the rollout when its alarm went off (undefined: it never did). */
  detectedAfterSeconds?: number | undefined;
  status: string | undefined;
  reason: string | undefined;
}

export interface PreviewReport {
  service: string;
  environment: string;
  strategy: Strategy;
  fleet: number;
  targetGroup: TargetGroupSettings;
  /** What the rehearsal assumed where the manifest says nothing, in words. */
  assumptions: string[];
  /** Healthy targets the strategy promises to keep (rolling: MinHealthyPercentage of the fleet; blue/green: all). */
  healthyFloor: number;
  rollout: RolloutFigures & { status: string; reason: string | undefined };
  rollback: RollbackFigures;
  /** Reasons the manifest's own constraints cannot hold (empty: they hold). */
  violations: string[];
  /** Things worth knowing that break no constraint. */
  warnings: string[];
  virtualSeconds: number;
  wallMs: number;
}

/** A rehearsal step that could not finish (a failed story check) is reported as such, with its detail. */
export class RehearsalIncompleteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RehearsalIncompleteError';
  }
}

function spanOf(spans: readonly EnvironmentSpan[], deployment: RehearsedDeployment | undefined) {
  return deployment === undefined ? undefined : spans.find((s) => s.execution === deployment.id);
}

/** One line naming a strategy's settings. */
export function strategyLine(strategy: Strategy): string {
  if (strategy.type === 'rolling') return `rolling: ${describeStrategy(strategy)}`;
  const gate = strategy.healthGate;
  return `blue-green: every new target healthy for ${gate.healthyForSeconds} s within ${gate.timeoutSeconds} s, watch ${strategy.bakeTimeSeconds} s after the switch, keep ${strategy.keepOldGroups} old group(s)`;
}

function assumptionsOf(input: PreviewInput): string[] {
  const tg = input.targetGroup;
  const env = input.environment;
  const alarms = [...new Set([...env.alarms.rollout, ...env.alarms.watch])];
  return [
    `fleet: ${input.fleet} instances (--fleet; a manifest does not size its group)`,
    `target group health checks: ${input.targetGroupDefaults ? "AWS's defaults for an HTTP target group" : 'from --settings'} (every ${tg.healthCheckIntervalSeconds} s, healthy after ${tg.healthyThresholdCount}, unhealthy after ${tg.unhealthyThresholdCount}, deregistration delay ${tg.deregistrationDelaySeconds ?? 300} s)`,
    alarms.length > 0
      ? `alarms: one 5xx alarm (2 of 3 minutes above 5 errors) stands in for ${alarms.join(', ')}`
      : 'alarms: none (the environment lists no rollout or watch alarm)',
    ...(env.targetGroupArns.length > 1
      ? [`target groups: one stands in for the ${env.targetGroupArns.length} the environment names`]
      : []),
  ];
}

/** Runs the rehearsal and measures it. Throws RehearsalIncompleteError when it could not finish. */
export async function previewRollout(options: PreviewOptions): Promise<PreviewReport> {
  const { input } = options;
  const bad = options.badVersion === true;
  const log: RehearsalLog = {};
  const story = rehearsalStory(input, bad, log);
  const result = await runSandbox({
    seed: options.seed ?? 7,
    fleet: input.fleet,
    scenario: story.name,
    stories: { [story.name]: story },
    ...(options.print === undefined ? {} : { print: options.print }),
    ...(bad ? { region: { badVersions: [{ version: NEW_RELEASE, mode: 'errors' as const }] } } : {}),
  });
  const failed = result.checks.filter((c) => !c.ok);
  if (failed.length > 0 || log.deploy === undefined) {
    throw new RehearsalIncompleteError(
      `the rehearsal could not finish: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ') || 'no deployment'}`,
    );
  }
  const key = { service: input.manifest.name, environment: input.environment.name };
  const spans = environmentSpans(result.record);
  const deploySpan = spanOf(spans, log.deploy);
  if (deploySpan === undefined) {
    throw new RehearsalIncompleteError(
      `the rehearsal could not finish: ${log.deploy.id} never reached the environment`,
    );
  }
  const rollout = rolloutFigures(result.record, key, deploySpan, NEW_RELEASE);
  const floor = healthyFloor(input);
  const violations: string[] = [];
  const warnings: string[] = [];
  let rollback: RollbackFigures;
  if (bad) {
    const alarm = firstAlarm(result.record, key, deploySpan.from);
    const restored =
      alarm === undefined
        ? undefined
        : restoredAfter(result.record, key, alarm.t, PREVIOUS_RELEASE, input.fleet);
    rollback = {
      kind: 'automatic',
      seconds: undefined,
      restoredSeconds: restored?.seconds,
      detectedAfterSeconds: alarm === undefined ? undefined : alarm.t - deploySpan.from,
      status: log.deploy.status,
      reason: log.deploy.reason,
    };
    if (log.restored !== true) {
      warnings.push(
        `nothing rolled ${NEW_RELEASE} back: ${alarm === undefined ? 'no alarm of the environment went off' : `${alarm.alarm} went off, yet ${input.environment.name} stayed on ${NEW_RELEASE}`}`,
      );
    }
  } else {
    const rollbackSpan = spanOf(spans, log.rollback);
    rollback = {
      kind: 'kiln rollback',
      seconds: rollbackSpan === undefined ? undefined : rollbackSpan.to - rollbackSpan.from,
      restoredSeconds:
        rollbackSpan === undefined
          ? undefined
          : restoredAfter(result.record, key, rollbackSpan.from, PREVIOUS_RELEASE, input.fleet).seconds,
      status: log.rollback?.status,
      reason: log.rollback?.reason,
    };
    if (log.deploy.status !== 'succeeded') {
      violations.push(
        `a healthy release does not roll out: deployment ${log.deploy.status}${log.deploy.reason ? `: ${log.deploy.reason}` : ''}`,
      );
    } else if (log.rollback !== undefined && log.rollback.status !== 'succeeded') {
      violations.push(
        `kiln rollback does not bring ${PREVIOUS_RELEASE} back: ${log.rollback.status}${log.rollback.reason ? `: ${log.rollback.reason}` : ''}`,
      );
    }
    if (rollout.leastHealthy.count < floor) {
      const strategy = input.environment.strategy;
      const rule =
        strategy.type === 'rolling'
          ? `minHealthyPercentage ${strategy.minHealthyPercentage} % of ${input.fleet}`
          : `blue/green keeps every one of ${input.fleet}`;
      violations.push(
        `healthy capacity fell to ${rollout.leastHealthy.count} of ${input.fleet} targets ${rollout.leastHealthy.at} s into the rollout, below the ${floor} the manifest asks for (${rule}); the target group's health checks (healthy after ${input.targetGroup.healthyThresholdCount} checks ${input.targetGroup.healthCheckIntervalSeconds} s apart) take longer than the rollout waits`,
      );
    }
  }
  return {
    service: key.service,
    environment: key.environment,
    strategy: input.environment.strategy,
    fleet: input.fleet,
    targetGroup: input.targetGroup,
    assumptions: assumptionsOf(input),
    healthyFloor: floor,
    rollout: { ...rollout, status: log.deploy.status, reason: log.deploy.reason },
    rollback,
    violations,
    warnings,
    virtualSeconds: result.virtualSeconds,
    wallMs: result.wallMs,
  };
}

/** `1 h 02 min 05 s`, `41 min 20 s`, `35 s`. */
export function formatSeconds(seconds: number | undefined): string {
  if (seconds === undefined) return 'n/a';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min ${String(rest).padStart(2, '0')} s`;
  if (m > 0) return `${m} min ${String(rest).padStart(2, '0')} s`;
  return `${rest} s`;
}

/** The report as people read it. */
export function formatPreview(report: PreviewReport): string {
  const { rollout, rollback } = report;
  const lines = [
    `kiln preview: ${report.service}/${report.environment}, ${strategyLine(report.strategy)}`,
    ...report.assumptions.map((a) => `  assumed ${a}`),
    '',
    `rollout of a new release (${PREVIOUS_RELEASE} → ${NEW_RELEASE}): ${rollout.status}${rollout.reason && rollback.kind === 'kiln rollback' ? ` (${rollout.reason})` : ''}`,
    `  duration           ${formatSeconds(rollout.durationSeconds)}`,
    `  least healthy      ${rollout.leastHealthy.count} of ${report.fleet} targets, ${formatSeconds(rollout.leastHealthy.at)} in (the strategy keeps ${report.healthyFloor})`,
    `  peak instances     ${rollout.peakInstances.count} (${rollout.peakInstances.count - report.fleet >= 0 ? '+' : ''}${rollout.peakInstances.count - report.fleet} over the fleet), ${formatSeconds(rollout.peakInstances.at)} in`,
    `  checkpoint pauses  ${
      rollout.checkpoints.length === 0
        ? 'none'
        : rollout.checkpoints
            .map(
              (c) =>
                `${formatSeconds(c.seconds)} at ${formatSeconds(c.at)} in (${c.onRelease} of ${report.fleet} on ${NEW_RELEASE})`,
            )
            .join('; ')
    }`,
  ];
  if (rollback.kind === 'kiln rollback') {
    lines.push(
      `rollback (kiln rollback, rehearsed after the rollout): ${rollback.status ?? 'not rehearsed'}`,
      `  duration           ${formatSeconds(rollback.seconds)} (fleet whole on ${PREVIOUS_RELEASE} after ${formatSeconds(rollback.restoredSeconds)})`,
    );
  } else {
    lines.push(
      `a bad release (${NEW_RELEASE} serves 5xx): ${rollback.status ?? '?'}${rollback.reason ? ` (${rollback.reason})` : ''}`,
      `  alarm went off     ${rollback.detectedAfterSeconds === undefined ? 'never' : `${formatSeconds(rollback.detectedAfterSeconds)} into the rollout`}`,
      `  rollback           fleet whole on ${PREVIOUS_RELEASE} ${formatSeconds(rollback.restoredSeconds)} after the alarm`,
    );
  }
  for (const warning of report.warnings) lines.push(`warning: ${warning}`);
  lines.push(
    '',
    `rehearsed ${formatSeconds(report.virtualSeconds)} of virtual time in ${(report.wallMs / 1000).toFixed(1)} s`,
  );
  return `${lines.join('\n')}\n`;
}
