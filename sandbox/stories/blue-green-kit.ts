/**
 * What the blue/green stories and tests share: a service whose environment rolls blue/green
 * through Kiln's deploy state machine (`blueGreenService`: the platform team's blue fleet tagged
 * for Kiln, its 5xx rollout alarm, releases recorded, deployments started as `kiln deploy` starts
 * them and followed through Kiln's records), and the timeline readings their checks make.
 *
 * `blueGreenWorld` and `throughSwitch` drive the blue/green use cases by hand, in the order the
 * deploy state machine runs them (CreateGreen → CheckGreen/WaitGreen 20 s → AttachGreen →
 * HealthGate/Wait 15 s → SwitchTraffic), from the `$.env` prepare-environment leaves: for
 * test/integration/sandbox/blue-green.test.ts, which stops a rollout at a chosen point.
 */
import type { EnvironmentDeclaration } from '../observe/record';
import { CreateOrUpdateTagsCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { AutoScalingGroups } from '../../shared/aws/autoscaling';
import { Alarms } from '../../shared/aws/cloudwatch';
import { TargetGroups } from '../../shared/aws/elbv2';
import { LaunchTemplates } from '../../shared/aws/launch-templates';
import { parseManifest, type Environment, type ServiceManifest } from '../../shared/domain/manifest/schema';
import { KilnStore, type Deployment } from '../../shared/store';
import { DeployExecutions } from '../../shared/aws/sfn';
import { isFinal } from '../../shared/domain/deployment';
import { startDeployment } from '../../shared/usecases/deployments/start';
import {
  attachGreen,
  checkGreen,
  checkHealthGate,
  createGreen,
  switchTraffic,
} from '../../shared/usecases/rollout/blue-green';
import type { CheckOutcome, RolloutDeps, RolloutState } from '../../shared/usecases/rollout/deps';
import { ROLLOUT_LEASE_MS } from '../../shared/usecases/rollout/progress';
import type { SandboxClients } from '../core/sdk';
import type { TimedEntry } from '../core/timeline';
import type { Region } from '../region';
import { operatorStore, seedBaseImage } from './bake-kit';
import { provisionFleet, required, sleep, waitUntilHealthy, type Fleet } from './fleet';
import {
  provisionRolloutEnvironment,
  recordRelease,
  rolloutManifest,
  seedReleaseImage,
  until,
  type RolloutEnvironment,
} from './rollout-kit';
import type { StorySettings, TargetGroupSettings } from './settings';
import { StoryDeadlineError } from './steps';

export const BG_SERVICE = 'web';
export const BG_ENVIRONMENT = 'production';

type BlueGreenStrategy = Extract<Environment['strategy'], { type: 'blue-green' }>;

export interface BlueGreenWorldOptions {
  deploymentId: string;
  size: number;
  strategy: Partial<Omit<BlueGreenStrategy, 'type'>>;
  rolloutAlarms?: string[];
  targetGroup: TargetGroupSettings;
}

export interface BlueGreenWorld {
  fleet: Fleet;
  deps: RolloutDeps;
  /** `$.` as the state machine carries it into CreateGreen. */
  state: RolloutState;
  store: KilnStore<ServiceManifest>;
  operator: SandboxClients;
  blueIds: string[];
}

/** Blue `web` (instances of 1.0.0, tagged kiln:managed by the platform team) and 2.0.0's launch template version. */
export async function blueGreenWorld(
  region: Region,
  options: BlueGreenWorldOptions,
): Promise<BlueGreenWorld> {
  const operator = region.clientsFor('story:platform', 'operator');
  const kiln = region.clientsFor('fn:rolloutSteps');
  const oldAmi = region.ec2.seedImage({ name: 'web-1.0.0', tags: { 'kiln:version': '1.0.0' } });
  const newAmi = region.ec2.seedImage({ name: 'web-2.0.0', tags: { 'kiln:version': '2.0.0' } });
  const fleet = await provisionFleet(region, operator, {
    name: 'web',
    size: options.size,
    imageId: oldAmi,
    instanceType: 'c7i.large',
    targetGroup: options.targetGroup,
  });
  await operator.autoScaling.send(
    new CreateOrUpdateTagsCommand({
      Tags: [
        {
          ResourceId: 'web',
          ResourceType: 'auto-scaling-group',
          Key: 'kiln:managed',
          Value: 'true',
          PropagateAtLaunch: false,
        },
      ],
    }),
  );
  await waitUntilHealthy(operator, [fleet]);
  const regionName = region.engine.context.region;
  const manifest = parseManifest({
    apiVersion: 'kiln.dev/v1',
    kind: 'Service',
    name: BG_SERVICE,
    artifact: {
      source: { s3: { bucket: 'acme-artifacts-123456789012', keyPrefix: 'web/releases/' } },
      version: { keyPattern: '^web/releases/web-(?<version>\\d+\\.\\d+\\.\\d+)\\.tar\\.gz$' },
    },
    bake: {
      region: regionName,
      baseImage: { ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' },
      instanceType: 'c7i.large',
      subnetId: region.ec2.subnets()[0]?.subnetId,
      securityGroupIds: ['sg-0123456789abcdef0'],
      instanceProfile: 'kiln-bake-web',
      install: { commands: ['systemctl enable web.service'] },
    },
    environments: [
      {
        name: BG_ENVIRONMENT,
        region: regionName,
        autoScalingGroup: 'web',
        targetGroupArns: [fleet.targetGroupArn],
        strategy: { type: 'blue-green', ...options.strategy },
        alarms: { rollout: options.rolloutAlarms ?? [] },
      },
    ],
  });
  const store = new KilnStore<ServiceManifest>({
    client: kiln.doc,
    tableName: region.tableName,
    ids: region.engine.kilnIds,
  });
  const stored = await store.putServiceManifest(manifest, { actor: 'story:platform' });
  await store.createDeployment({
    id: options.deploymentId,
    service: BG_SERVICE,
    releaseVersion: '2.0.0',
    environments: [BG_ENVIRONMENT],
    trigger: 'cli',
    actor: 'story:platform',
  });
  await store.acquireLock(BG_SERVICE, BG_ENVIRONMENT, {
    holder: options.deploymentId,
    deploymentId: options.deploymentId,
    leaseMs: ROLLOUT_LEASE_MS,
  });
  const templates = new LaunchTemplates(kiln.ec2);
  const version = await templates.createVersion({
    launchTemplateId: fleet.launchTemplateId,
    sourceVersion: 1,
    imageId: newAmi,
    description: `kiln web@2.0.0 (deployment ${options.deploymentId})`,
    clientToken: `${options.deploymentId}-lt-version`,
  });
  const deps: RolloutDeps = {
    store,
    autoScaling: () => new AutoScalingGroups(kiln.autoScaling),
    launchTemplates: () => templates,
    loadBalancing: () => new TargetGroups(kiln.elbv2),
    alarms: () => new Alarms(kiln.cloudWatch),
    wake: async () => undefined,
    now: () => Date.now(),
    actor: 'deploy:rollout',
  };
  const blue = await describeGroup(operator, 'web');
  const capacity = { min: blue?.MinSize ?? 0, max: blue?.MaxSize ?? 0, desired: blue?.DesiredCapacity ?? 0 };
  const now = Date.now();
  const state: RolloutState = {
    deploymentId: options.deploymentId,
    service: BG_SERVICE,
    version: '2.0.0',
    manifestVersion: stored.version,
    rollout: { mode: 'deploy', environments: [BG_ENVIRONMENT], index: 0, done: false },
    env: {
      name: BG_ENVIRONMENT,
      region: regionName,
      strategy: 'blue-green',
      before: {
        release: '1.0.0',
        group: 'web',
        launchTemplate: { id: fleet.launchTemplateId, version: 1 },
        capacity,
        since: new Date(now).toISOString(),
      },
      target: { release: '2.0.0', imageId: newAmi, launchTemplate: version, group: 'web', capacity },
      targetGroupArns: [fleet.targetGroupArn],
      startedAt: now,
    },
  };
  const blueIds = (blue?.Instances ?? []).map((instance) => instance.InstanceId ?? '');
  return { fleet, deps, state, store, operator, blueIds };
}

export async function describeGroup(aws: SandboxClients, name: string) {
  const answer = await aws.autoScaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
  );
  return answer.AutoScalingGroups?.[0];
}

/** Runs a check step every `seconds` (the ASL's Wait) until it is no longer `waiting`, within `limitSeconds`. */
export async function untilDecided(
  what: string,
  check: (previous: CheckOutcome | undefined) => Promise<CheckOutcome>,
  seconds: number,
  limitSeconds = 7200,
): Promise<CheckOutcome> {
  let previous: CheckOutcome | undefined;
  for (let waited = 0; waited <= limitSeconds; waited += seconds) {
    previous = await check(previous);
    if (previous.outcome !== 'waiting') return previous;
    await sleep(seconds);
  }
  throw new StoryDeadlineError(`${what} not decided within ${limitSeconds} s`);
}

export interface Switched {
  state: RolloutState;
  green: string;
  gate: CheckOutcome;
  /** Virtual ms when the gate said healthy, and when switch-traffic returned. */
  gateHealthyAt: number;
  switchedAt: number;
}

/** CreateGreen → ready → AttachGreen → health gate → SwitchTraffic (stops early when a check does not pass). */
export async function throughSwitch(
  world: BlueGreenWorld,
): Promise<Switched | { failed: CheckOutcome; state: RolloutState }> {
  const { deps } = world;
  let state: RolloutState = { ...world.state, env: await createGreen(world.state, deps) };
  const ready = await untilDecided('green group', () => checkGreen(state, deps), 20);
  if (ready.outcome !== 'ready') return { failed: ready, state };
  state = { ...state, env: await attachGreen(state, deps) };
  const gate = await untilDecided(
    'health gate',
    (previous) => checkHealthGate({ ...state, check: previous ?? ready }, deps),
    15,
  );
  if (gate.outcome !== 'healthy') return { failed: gate, state };
  const gateHealthyAt = Date.now();
  state = { ...state, env: await switchTraffic(state, deps) };
  return { state, green: state.env!.target.group, gate, gateHealthyAt, switchedAt: Date.now() };
}

/** Every target's state at timeline time `t`, replayed from the timeline's state entries. */
export function targetsAt(
  entries: readonly TimedEntry[],
  targetGroupArn: string,
  t: number,
): Map<string, string> {
  const states = new Map<string, string>();
  for (const entry of entries) {
    if (entry.t > t) break;
    if (entry.kind !== 'state' || !entry.resource.startsWith(`${targetGroupArn}/`)) continue;
    states.set(entry.resource.slice(targetGroupArn.length + 1), String(entry.to));
  }
  return states;
}

/** The first time one of `instanceIds` started draining in the target group (its group left it). */
export function firstDrain(
  entries: readonly TimedEntry[],
  targetGroupArn: string,
  instanceIds: readonly string[],
): TimedEntry | undefined {
  return entries.find(
    (entry) =>
      entry.kind === 'state' &&
      entry.to === 'draining' &&
      instanceIds.some((id) => entry.resource === `${targetGroupArn}/${id}`),
  );
}

/** The last time one of `instanceIds` became healthy in the target group at or before `t`. */
export function lastHealthy(
  entries: readonly TimedEntry[],
  targetGroupArn: string,
  instanceIds: readonly string[],
  t: number,
): number | undefined {
  let last: number | undefined;
  for (const entry of entries) {
    if (entry.t > t) break;
    if (
      entry.kind === 'state' &&
      entry.to === 'healthy' &&
      instanceIds.some((id) => entry.resource === `${targetGroupArn}/${id}`)
    ) {
      last = entry.t;
    }
  }
  return last;
}

/** The blue/green stories' service: `web`, environment `production`, its group `web-production`. */
export interface BlueGreenService {
  aws: SandboxClients;
  store: KilnStore<ServiceManifest>;
  environment: RolloutEnvironment;
  /** Blue's instances before any deployment. */
  blueIds: string[];
  /** Starts a deployment of `version` to production as `kiln deploy` does. */
  deploy(version: string): Promise<Deployment>;
  /**
   * Follows the deployment through Kiln's record every 15 s until it ends, printing each phase;
   * `watch` sees every record on the way (a story acts on a phase, or reads AWS during one).
   */
  follow(deploymentId: string, watch?: (deployment: Deployment) => Promise<void>): Promise<Deployment>;
}

/** Blue `web-production` (size instances of 1.0.0, tagged kiln:managed=true), releases recorded. */
export async function blueGreenService(
  region: Region,
  options: {
    size: number;
    settings: StorySettings;
    releases: string[];
    print: (line: string) => void;
    /** The story's StoryOptions.declareEnvironment: production is declared as soon as it exists. */
    declare?: (environment: EnvironmentDeclaration) => void;
  },
): Promise<BlueGreenService> {
  const aws = region.clientsFor('story:platform-team', 'operator');
  const store = operatorStore(region);
  const base = seedBaseImage(region);
  const images: Record<string, string> = {};
  for (const version of ['1.0.0', ...options.releases]) {
    images[version] = seedReleaseImage(region, BG_SERVICE, version, base);
  }
  const environment = await provisionRolloutEnvironment(region, aws, {
    service: BG_SERVICE,
    name: BG_ENVIRONMENT,
    size: options.size,
    imageId: images['1.0.0'] ?? '',
    settings: options.settings,
    ...(options.declare !== undefined ? { declare: options.declare } : {}),
  });
  await waitUntilHealthy(aws, [environment], 1800);
  const stored = await store.putServiceManifest(
    rolloutManifest(region, BG_SERVICE, [environment], options.settings),
    { actor: 'kiln-cli:platform-team' },
  );
  for (const version of options.releases) {
    await recordRelease(store, region, { service: BG_SERVICE, version, imageId: images[version] ?? '' });
  }
  const blue = await describeGroup(aws, environment.groupName);
  const blueIds = (blue?.Instances ?? []).map((instance) => instance.InstanceId ?? '');
  options.print(
    `platform: ${environment.groupName} (${blueIds.length}) on 1.0.0; kiln: manifest v${stored.version} (${options.settings.strategy.type}), releases ${options.releases.join(', ')}`,
  );
  const executions = new DeployExecutions(
    aws.sfn,
    required(region.stateMachineArns.get('DeployStateMachine'), 'deploy state machine'),
  );
  return {
    aws,
    store,
    environment,
    blueIds,
    async deploy(version) {
      const { deployment } = await startDeployment(
        {
          service: BG_SERVICE,
          version,
          environments: [BG_ENVIRONMENT],
          mode: 'deploy',
          trigger: 'cli',
          actor: 'cli:story',
        },
        { store, executions, ids: region.engine.kilnIds, now: () => Date.now() },
      );
      options.print(`kiln deploy: ${deployment.id} ${BG_SERVICE}@${version} to ${BG_ENVIRONMENT}`);
      return deployment;
    },
    async follow(deploymentId, watch) {
      let said = '';
      return until(
        `deployment ${deploymentId} ends`,
        async () => {
          const deployment = await store.getDeployment(deploymentId);
          if (deployment === undefined) return undefined;
          await watch?.(deployment);
          const progress = deployment.rollout;
          const line = progress ? `${progress.phase}${progress.detail ? ` (${progress.detail})` : ''}` : '';
          if (line !== said && line !== '') options.print(`kiln: ${deploymentId} ${line}`);
          said = line;
          if (!isFinal(deployment.status)) return undefined;
          options.print(
            `kiln: ${deploymentId} ${deployment.status}${deployment.reason ? `: ${deployment.reason}` : ''}`,
          );
          return deployment;
        },
        { everySeconds: 15, limitSeconds: 8 * 3600 },
      );
    },
  };
}

/** When the deploy state machine entered `state` (virtual seconds; the first time), from the timeline. */
export function enteredState(entries: readonly TimedEntry[], state: string): number | undefined {
  return entries.find(
    (entry) => entry.kind === 'state' && entry.resource.endsWith('#state') && entry.to === state,
  )?.t;
}
