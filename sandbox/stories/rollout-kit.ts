/**
 * What the rollout's stories and ASL tests share: a service's environments as a platform team
 * hands them to Kiln (a fleet per environment on launch template version 1, tagged
 * `kiln:managed=true` as README "Rollout" asks, with a 5xx alarm), a release recorded in Kiln's
 * store (its AMI tagged with the version, so the sandbox's bad-version knob can find it), a
 * deployment started the way `kiln deploy`/`kiln rollback` start one (the deploy state machine
 * with no artifact: straight to the rollout), and reading Kiln's records and the timeline.
 */
import { PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeExecutionCommand,
  StartExecutionCommand,
  type DescribeExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import type { DeployExecutionInput } from '../../shared/domain/deploy-execution';
import { parseManifest, type ServiceManifest, type Strategy } from '../../shared/domain/manifest/schema';
import type { KilnStore } from '../../shared/store';
import type { SandboxClients } from '../core/sdk';
import type { EnvironmentDeclaration } from '../observe/record';
import type { Region } from '../region';
import { bakeSection, s3ArtifactSection, seedBaseImage } from './bake-kit';
import { provisionFleet, sleep, waitUntilHealthy, type Fleet } from './fleet';
import type { StorySettings } from './settings';
import { StoryDeadlineError } from './steps';

export interface RolloutEnvironment extends Fleet {
  name: string;
  alarmName: string;
}

/** What Kiln's IAM conditions on (serverless.yml's rollout-steps role): the platform team tags it. */
export const MANAGED_TAGS: Record<string, string> = { 'kiln:managed': 'true' };

/** An AMI of `service`@`version`, as an earlier bake left it (the lineage tags the bad-version knob reads). */
export function seedReleaseImage(region: Region, service: string, version: string, baseAmi?: string): string {
  return region.ec2.seedImage({
    name: `kiln-${service}-${version}`,
    tags: {
      'kiln:service': service,
      'kiln:version': version,
      'kiln:base-ami': baseAmi ?? seedBaseImage(region),
    },
  });
}

/**
 * One environment's fleet, tagged for Kiln, with its 5xx alarm (the rollout alarm). With `declare`
 * (a story's StoryOptions.declareEnvironment) the environment is declared for the run's record as
 * soon as it exists, so the report draws it even when a later step fails.
 */
export async function provisionRolloutEnvironment(
  region: Region,
  aws: SandboxClients,
  spec: {
    service: string;
    name: string;
    size: number;
    imageId: string;
    settings: StorySettings;
    declare?: (environment: EnvironmentDeclaration) => void;
  },
): Promise<RolloutEnvironment> {
  const fleet = await provisionFleet(region, aws, {
    name: `${spec.service}-${spec.name}`,
    size: spec.size,
    imageId: spec.imageId,
    instanceType: 'c7i.large',
    targetGroup: spec.settings.targetGroup,
    tags: MANAGED_TAGS,
  });
  const alarmName = `${spec.service}-${spec.name}-5xx`;
  await aws.cloudWatch.send(
    new PutMetricAlarmCommand({
      AlarmName: alarmName,
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'HTTPCode_Target_5XX_Count',
      Dimensions: [
        { Name: 'TargetGroup', Value: fleet.targetGroupFullName },
        { Name: 'LoadBalancer', Value: fleet.loadBalancerFullName },
      ],
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    }),
  );
  spec.declare?.({
    service: spec.service,
    environment: spec.name,
    groups: [fleet.groupName],
    targetGroupArns: [fleet.targetGroupArn],
    alarmNames: [alarmName],
    minHealthyPercentage: minHealthyOf(spec.settings),
  });
  return { ...fleet, name: spec.name, alarmName };
}

/** The capacity floor Kiln keeps while it changes an environment: rolling's minimum, or all of it (blue/green). */
export function minHealthyOf(settings: StorySettings): number {
  return settings.strategy.type === 'rolling' ? settings.strategy.minHealthyPercentage : 100;
}

/**
 * The two-environment world of the rollout and chatops stories: staging with `fleet` instances and
 * production with twice as many, both on `imageId`, made in that order and then waited on until
 * every target is healthy.
 */
export async function provisionStagingAndProduction(
  region: Region,
  aws: SandboxClients,
  spec: {
    service: string;
    fleet: number;
    imageId: string;
    settings: StorySettings;
    declare?: (environment: EnvironmentDeclaration) => void;
  },
): Promise<RolloutEnvironment[]> {
  const { fleet, ...common } = spec;
  const made: RolloutEnvironment[] = [];
  for (const [name, size] of [
    ['staging', fleet],
    ['production', fleet * 2],
  ] as const) {
    made.push(await provisionRolloutEnvironment(region, aws, { ...common, name, size }));
  }
  await waitUntilHealthy(aws, made, 1800);
  return made;
}

export interface GateSpec {
  bakeTimeMinutes?: number;
  approval?: boolean;
  approvalTimeoutMinutes?: number;
}

/** A manifest whose environments are these fleets, rolled with `settings.strategy` (rolling or blue/green). */
/** A manifest's `notifications` block as a story writes it. */
export interface NotificationsSpec {
  slackWebhookParameter?: string;
  snsTopicArn?: string;
}

/**
 * What a platform team sets up for a service's notifications: a Slack incoming webhook (issued by
 * the workspace: registered with the region's recorder, so posts are kept, never sent) whose URL
 * goes into a SecureString under /kiln/notifications/, and an SNS topic. Returns the manifest block.
 */
export async function provisionNotifications(
  region: Region,
  aws: SandboxClients,
  service: string,
): Promise<Required<NotificationsSpec>> {
  const url = `https://hooks.slack.com/services/T0SANDBOX/B0${service.toUpperCase()}/sandbox-webhook-secret`;
  region.slack.register(url);
  const parameter = `/kiln/notifications/${service}`;
  await aws.ssm.send(
    new PutParameterCommand({ Name: parameter, Value: url, Type: 'SecureString', Overwrite: true }),
  );
  const topic = await aws.sns.send(new CreateTopicCommand({ Name: `${service}-deploys` }));
  return { slackWebhookParameter: parameter, snsTopicArn: topic.TopicArn ?? '' };
}

export function rolloutManifest(
  region: Region,
  service: string,
  environments: readonly RolloutEnvironment[],
  settings: { strategy: Strategy },
  gates: Record<string, GateSpec> = {},
  notifications?: NotificationsSpec,
): ServiceManifest {
  return parseManifest({
    apiVersion: 'kiln.dev/v1',
    kind: 'Service',
    name: service,
    ...(notifications === undefined ? {} : { notifications }),
    artifact: s3ArtifactSection(service),
    bake: bakeSection(region, { service, copyToRegions: [] }),
    environments: environments.map((env) => {
      const gate = gates[env.name] ?? {};
      return {
        name: env.name,
        region: region.engine.context.region,
        autoScalingGroup: env.groupName,
        targetGroupArns: [env.targetGroupArn],
        strategy: settings.strategy,
        alarms: { rollout: [env.alarmName], watch: [env.alarmName], watchWindowMinutes: 15 },
        bakeTimeMinutes: gate.bakeTimeMinutes ?? 0,
        approval: {
          required: gate.approval ?? false,
          ...(gate.approvalTimeoutMinutes === undefined
            ? {}
            : { timeoutMinutes: gate.approvalTimeoutMinutes }),
        },
        access: {
          deploy: ['S0PLATFORM'],
          rollback: ['S0PLATFORM'],
          approve: gate.approval ? ['U0LEAD0001'] : [],
        },
      };
    }),
  });
}

/** Records `version` as a release of `service` whose AMI in the region is `imageId`. */
export async function recordRelease(
  store: KilnStore<ServiceManifest>,
  region: Region,
  release: { service: string; version: string; imageId: string },
): Promise<void> {
  await store.putRelease(
    {
      service: release.service,
      version: release.version,
      amis: { [region.engine.context.region]: release.imageId },
      artifact: {
        uri: `s3://acme-artifacts-123456789012/${release.service}/releases/${release.service}-${release.version}.tar.gz`,
        digest: 'b1946ac92492d2347c6235b4d2611184',
      },
      recipeHash: 'recipe-of-the-story',
      baseAmiId: release.imageId,
    },
    { actor: 'story' },
  );
}

/**
 * Starts a deployment of a recorded release as `kiln deploy`/`kiln rollback` does: the record
 * (queued), then the deploy state machine with no artifact, so it goes straight to the rollout.
 */
export async function startRollout(
  region: Region,
  store: KilnStore<ServiceManifest>,
  aws: SandboxClients,
  input: {
    deploymentId: string;
    service: string;
    version: string;
    manifestVersion: number;
    environments: string[];
    mode?: 'deploy' | 'rollback';
  },
): Promise<string> {
  await store.createDeployment({
    id: input.deploymentId,
    service: input.service,
    releaseVersion: input.version,
    environments: input.environments,
    trigger: 'cli',
    actor: 'story',
  });
  const execution: DeployExecutionInput = {
    deploymentId: input.deploymentId,
    service: input.service,
    version: input.version,
    manifestVersion: input.manifestVersion,
    environments: input.environments,
    ...(input.mode === undefined ? {} : { mode: input.mode }),
  };
  const { executionArn } = await aws.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: region.stateMachineArns.get('DeployStateMachine'),
      name: input.deploymentId,
      input: JSON.stringify(execution),
    }),
  );
  if (executionArn === undefined) throw new Error('StartExecution returned no execution ARN');
  return executionArn;
}

/** Polls the execution every virtual minute until it ends (StoryDeadlineError past `limitSeconds`). */
export async function executionEnd(
  aws: SandboxClients,
  executionArn: string,
  limitSeconds = 12 * 3600,
): Promise<DescribeExecutionCommandOutput> {
  for (let waited = 0; ; waited += 60) {
    const execution = await aws.sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING') return execution;
    if (waited > limitSeconds) {
      throw new StoryDeadlineError(`execution ${executionArn} still running after ${limitSeconds} s`);
    }
    await sleep(60);
  }
}

/** Waits (virtual time) until `ready` says yes, checking every `everySeconds`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { everySeconds?: number; limitSeconds?: number } = {},
): Promise<T> {
  const every = options.everySeconds ?? 15;
  const limit = options.limitSeconds ?? 6 * 3600;
  for (let waited = 0; ; waited += every) {
    const found = await probe();
    if (found !== undefined) return found;
    if (waited > limit) throw new StoryDeadlineError(`${what}: not within ${limit} s`);
    await sleep(every);
  }
}

/**
 * The instance refreshes of each group from the timeline, as [start, end] in virtual seconds
 * (end: when it reached a final status; still running: Infinity).
 */
export function refreshSpans(region: Region): Map<string, Array<{ id: string; from: number; to: number }>> {
  const spans = new Map<string, Map<string, { id: string; from: number; to: number }>>();
  const FINAL = new Set(['Successful', 'Failed', 'Cancelled', 'RollbackSuccessful', 'RollbackFailed']);
  for (const entry of region.engine.timeline.entries) {
    if (entry.kind !== 'state' || !entry.resource.startsWith('instance-refresh:')) continue;
    const [group = '', id = ''] = entry.resource.slice('instance-refresh:'.length).split('/');
    const ofGroup = spans.get(group) ?? new Map<string, { id: string; from: number; to: number }>();
    spans.set(group, ofGroup);
    const span = ofGroup.get(id) ?? { id, from: entry.t, to: Infinity };
    ofGroup.set(id, span);
    if (typeof entry.to === 'string' && FINAL.has(entry.to)) span.to = entry.t;
  }
  return new Map(
    [...spans].map(([group, byId]) => [group, [...byId.values()].sort((a, b) => a.from - b.from)]),
  );
}

/** Pairs of refreshes of one group whose spans overlap (none is the rule). */
export function overlappingRefreshes(region: Region): string[] {
  const found: string[] = [];
  for (const [group, spans] of refreshSpans(region)) {
    spans.forEach((span, index) => {
      const next = spans[index + 1];
      if (next && next.from < span.to) found.push(`${group}: ${span.id} and ${next.id}`);
    });
  }
  return found;
}
