/**
 * What `kiln preview` is asked to rehearse: a manifest (validated as `kiln validate` does, every
 * problem with its line and field), one of its environments, the fleet size, and the target
 * group's health checks. Bad input is refused here, before any region starts.
 */
import type { Environment, ServiceManifest } from '../../shared/domain/manifest/schema';
import { formatDiagnostic, validateManifestSource } from '../../shared/domain/manifest/yaml';
import { TargetGroupSettingsSchema, type TargetGroupSettings } from '../stories/settings';

/** The preview cannot start: the message names the option or the manifest field. */
export class PreviewInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PreviewInputError';
  }
}

/** Instances when `--fleet` is not given (a manifest does not say how big its group is). */
export const DEFAULT_PREVIEW_FLEET = 6;
/** The most `--fleet` takes: the rehearsal must stay a matter of seconds. */
export const MAX_PREVIEW_FLEET = 200;

/**
 * The health checks of a target group made with none given: AWS's defaults for an HTTP target
 * group (interval 30 s, timeout 5 s, healthy after 5 checks, unhealthy after 2; 300 s
 * deregistration delay). A manifest names its target groups but not their settings, so these are
 * what a rehearsal meets unless told otherwise (`--settings`).
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupAttribute.html
 */
export const AWS_DEFAULT_TARGET_GROUP: TargetGroupSettings = TargetGroupSettingsSchema.parse({
  healthCheckPath: '/',
  healthCheckIntervalSeconds: 30,
  healthCheckTimeoutSeconds: 5,
  healthyThresholdCount: 5,
  unhealthyThresholdCount: 2,
  deregistrationDelaySeconds: 300,
});

export interface PreviewInput {
  manifest: ServiceManifest;
  environment: Environment;
  fleet: number;
  targetGroup: TargetGroupSettings;
  /** Whether the target group settings are AWS's defaults (the manifest says nothing of them). */
  targetGroupDefaults: boolean;
}

/** Parses the manifest text and picks the environment; throws PreviewInputError naming the field. */
export function previewInput(input: {
  text: string;
  file: string;
  env: string;
  fleet?: number;
  targetGroup?: TargetGroupSettings;
}): PreviewInput {
  const { manifest, diagnostics } = validateManifestSource(input.text, input.file);
  if (manifest === undefined) {
    throw new PreviewInputError(
      `invalid manifest: ${diagnostics.map((d) => formatDiagnostic(d)).join('; ')}`,
    );
  }
  const environment = manifest.environments.find((e) => e.name === input.env);
  if (environment === undefined) {
    throw new PreviewInputError(
      `--env: ${input.file} has no environment ${JSON.stringify(input.env)} (it has: ${manifest.environments.map((e) => e.name).join(', ')})`,
    );
  }
  const fleet = input.fleet ?? DEFAULT_PREVIEW_FLEET;
  if (!Number.isInteger(fleet) || fleet < 1 || fleet > MAX_PREVIEW_FLEET) {
    throw new PreviewInputError(
      `--fleet: must be a whole number from 1 to ${MAX_PREVIEW_FLEET}, not ${fleet}`,
    );
  }
  return {
    manifest,
    environment,
    fleet,
    targetGroup: input.targetGroup ?? AWS_DEFAULT_TARGET_GROUP,
    targetGroupDefaults: input.targetGroup === undefined,
  };
}
