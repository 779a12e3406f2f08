/**
 * Story settings: the knobs a story's rollout turns, in the shape of a service manifest, so the
 * same story runs with other settings (`kiln sandbox --settings FILE.yml`, or a test) and a
 * rollout scenario can take them from a real manifest environment.
 *
 *   strategy:     an environment's `strategy` exactly as a manifest writes it, with the
 *                 manifest's defaults: `rolling` for the stories that roll with an instance
 *                 refresh, `blue-green` for the blue/green ones (a story refuses the other type);
 *   targetGroup:  the target group the platform team's infrastructure makes for the fleet
 *                 (sandbox only: a manifest names its target groups, it does not make them).
 *
 * A settings file may give either section or both; a section it gives replaces the story's own
 * (what that section leaves out takes the schema's defaults, as in a manifest), and a section it
 * leaves out keeps the story's.
 */
import type { RefreshPreferences } from '@aws-sdk/client-auto-scaling';
import { parse as parseYaml } from 'yaml';
import { formatFieldPath } from '../../shared/domain/manifest/errors';
import { parseWithIssues } from '../../shared/domain/manifest/issues';
import {
  intBetween,
  StrategySchema,
  type Environment,
  type RollingStrategy,
  type Strategy,
} from '../../shared/domain/manifest/schema';
import * as z from '../../shared/domain/zod';

/** ELBv2's health check timeout for HTTP target groups when none is given (the sandbox's too). */
const DEFAULT_HEALTH_CHECK_TIMEOUT_SECONDS = 5;

// Ranges from the API reference: interval 5-300, timeout 2-120, thresholds 2-10, a path of up to
// 1024 characters starting with "/", deregistration delay 0-3600.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupAttribute.html
export const TargetGroupSettingsSchema = z
  .strictObject({
    healthCheckPath: z._default(
      z.string().check(z.maxLength(1024), z.regex(/^\//, 'must start with "/"')),
      '/health',
    ),
    healthCheckIntervalSeconds: z._default(intBetween(5, 300), 10),
    /** Unset: ELBv2's default (5 s for HTTP). */
    healthCheckTimeoutSeconds: z.optional(intBetween(2, 120)),
    healthyThresholdCount: z._default(intBetween(2, 10), 3),
    unhealthyThresholdCount: z._default(intBetween(2, 10), 2),
    /** `deregistration_delay.timeout_seconds`; unset: ELBv2's default (300 s). */
    deregistrationDelaySeconds: z.optional(intBetween(0, 3600)),
  })
  .check(
    z.superRefine((tg, ctx) => {
      // CreateTargetGroup refuses a timeout that is not smaller than the interval
      // (services/elbv2/target-groups.ts), so a file asking for one is refused before anything runs.
      const timeout = tg.healthCheckTimeoutSeconds ?? DEFAULT_HEALTH_CHECK_TIMEOUT_SECONDS;
      if (timeout >= tg.healthCheckIntervalSeconds) {
        ctx.addIssue({
          code: 'custom',
          path: [
            tg.healthCheckTimeoutSeconds === undefined
              ? 'healthCheckIntervalSeconds'
              : 'healthCheckTimeoutSeconds',
          ],
          message: `the health check timeout (${timeout} s${tg.healthCheckTimeoutSeconds === undefined ? ', the default' : ''}) must be smaller than the interval (${tg.healthCheckIntervalSeconds} s)`,
        });
      }
    }),
  );

export type TargetGroupSettings = z.infer<typeof TargetGroupSettingsSchema>;

/** What a settings file (or a test) may give; parsed, every section it gives is complete. */
export const StorySettingsSchema = z.strictObject({
  strategy: z.optional(StrategySchema),
  targetGroup: z.optional(TargetGroupSettingsSchema),
});

export type StorySettingsInput = z.input<typeof StorySettingsSchema>;
export type StorySettingsOverrides = z.output<typeof StorySettingsSchema>;

/** The settings a story runs with: every section present. */
export interface StorySettings {
  strategy: Strategy;
  targetGroup: TargetGroupSettings;
}

/** Story settings that failed validation; the message names each field. */
export class StorySettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorySettingsError';
  }
}

/** Validates settings (already read from YAML/JSON); throws StorySettingsError naming each bad field. */
export function parseStorySettings(value: unknown): StorySettingsOverrides {
  const outcome = parseWithIssues(StorySettingsSchema, value ?? {});
  if (outcome.success) return outcome.data;
  const problems = outcome.issues.map((issue) =>
    issue.path.length === 0 ? issue.message : `${formatFieldPath(issue.path)}: ${issue.message}`,
  );
  throw new StorySettingsError(`invalid story settings: ${problems.join('; ')}`);
}

/** A settings file's text (YAML or JSON); errors start with the file name. */
export function parseStorySettingsText(text: string, file: string): StorySettingsOverrides {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new StorySettingsError(
      `${file}: not JSON or YAML: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  try {
    return parseStorySettings(value);
  } catch (error) {
    throw new StorySettingsError(`${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** A manifest environment's rollout settings, for a scenario that runs that environment. */
export function settingsFromEnvironment(environment: Environment): StorySettingsOverrides {
  return { strategy: environment.strategy };
}

/**
 * A story's own settings with the given sections put in their place. A story rolls with one kind
 * of strategy (its checks read refreshes, or green groups), so a strategy of the other type is
 * refused before anything runs.
 */
export function withOverrides(
  defaults: StorySettings,
  overrides: StorySettingsOverrides | undefined,
): StorySettings {
  const strategy = overrides?.strategy;
  if (strategy !== undefined && strategy.type !== defaults.strategy.type) {
    throw new StorySettingsError(
      `invalid story settings: strategy.type: this story rolls with ${defaults.strategy.type}, not ${strategy.type}`,
    );
  }
  return {
    strategy: strategy ?? defaults.strategy,
    targetGroup: overrides?.targetGroup ?? defaults.targetGroup,
  };
}

/** The rolling strategy of settings a rolling story runs with (withOverrides keeps the type). */
export function rollingStrategy(settings: StorySettings): RollingStrategy {
  if (settings.strategy.type !== 'rolling') {
    throw new StorySettingsError(
      `invalid story settings: strategy.type: this story rolls with rolling, not ${settings.strategy.type}`,
    );
  }
  return settings.strategy;
}

/** Settings built from the schemas' defaults, for a story to start its own from. */
export function storySettings(input: {
  strategy: z.input<typeof StrategySchema>;
  targetGroup?: z.input<typeof TargetGroupSettingsSchema>;
}): StorySettings {
  return {
    strategy: StrategySchema.parse(input.strategy),
    targetGroup: TargetGroupSettingsSchema.parse(input.targetGroup ?? {}),
  };
}

/**
 * The StartInstanceRefresh preferences a rolling strategy stands for, as Kiln's rollout sends
 * them: MaxHealthyPercentage always (the manifest defaults it to 100), so when the rounded-up
 * minimum leaves no room the group launches before it terminates. Unset warmup and checkpoint
 * delay are left to AWS's defaults (the group's DefaultInstanceWarmup; 3600 s).
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html
 */
export function refreshPreferences(
  strategy: Pick<
    RollingStrategy,
    | 'type'
    | 'minHealthyPercentage'
    | 'maxHealthyPercentage'
    | 'instanceWarmupSeconds'
    | 'checkpoints'
    | 'checkpointDelaySeconds'
  >,
): RefreshPreferences {
  return {
    MinHealthyPercentage: strategy.minHealthyPercentage,
    MaxHealthyPercentage: strategy.maxHealthyPercentage,
    ...(strategy.instanceWarmupSeconds !== undefined
      ? { InstanceWarmup: strategy.instanceWarmupSeconds }
      : {}),
    ...(strategy.checkpoints !== undefined ? { CheckpointPercentages: [...strategy.checkpoints] } : {}),
    ...(strategy.checkpointDelaySeconds !== undefined
      ? { CheckpointDelay: strategy.checkpointDelaySeconds }
      : {}),
  };
}

/** AWS's CheckpointDelay when checkpoints are given without one (API_RefreshPreferences). */
export const DEFAULT_CHECKPOINT_DELAY_SECONDS = 3600;

/** One line naming the rollout settings, for a story's progress output. */
export function describeStrategy(strategy: RollingStrategy): string {
  const parts = [
    `MinHealthy ${strategy.minHealthyPercentage} %`,
    `MaxHealthy ${strategy.maxHealthyPercentage} %`,
    strategy.instanceWarmupSeconds !== undefined ? `warmup ${strategy.instanceWarmupSeconds} s` : undefined,
    strategy.checkpoints !== undefined
      ? `checkpoints ${strategy.checkpoints.join('/')} % (${strategy.checkpointDelaySeconds ?? DEFAULT_CHECKPOINT_DELAY_SECONDS} s apart)`
      : undefined,
  ];
  return parts.filter((part) => part !== undefined).join(', ');
}
