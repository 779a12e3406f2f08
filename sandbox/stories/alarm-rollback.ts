/**
 * `alarm-rollback` (issue 11, item 9): a release that starts serving 5xx only after its rollout
 * completed. Service `shop`, one environment `production` (N instances, rolling), its 5xx alarm
 * both a rollout and a watch alarm with a 15-minute watch window. Kiln rolls 1.5.0, then 2.0.0;
 * both complete. Then 2.0.0's instances start answering a quarter of their requests with 5xx (the
 * application behaviour of every instance booted from 2.0.0's AMI changes, as a bad feature flag
 * or a dependency going away would). CloudWatch's alarm goes into ALARM inside the watch window;
 * on-alarm (the real function, reached through serverless.yml's rule) starts a rollback, trigger
 * `alarm`; the rollback restores 1.5.0.
 *
 * Checks read Kiln's records and the timeline: 2.0.0 completed; the alarm went into ALARM after
 * that and inside the window; exactly one rollback deployment, by the alarm, to 1.5.0, succeeded,
 * even though the alarm keeps evaluating (and may flap) while it runs; Kiln records production on
 * 1.5.0 and the group runs exactly 1.5.0's launch template version; the rollback's first call to
 * AWS outside Kiln's table came after the alarm's state change.
 *
 * The bench reuses `runAlarmRollback` with the alarm's events lost (the sandbox's `event-loss`
 * fault scoped to "CloudWatch Alarm State Change"): the reconcile function (rate(1 minute)), which
 * calls `reconcileAlarms` every minute, then starts the rollback.
 */
import { DescribeAutoScalingGroupsCommand, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { DeployExecutions } from '../../shared/aws/sfn';
import { isFinal } from '../../shared/domain/deployment';
import type { ServiceManifest } from '../../shared/domain/manifest/schema';
import type { Deployment, KilnStore } from '../../shared/store';
import { startDeployment } from '../../shared/usecases/deployments/start';
import { SANDBOX_EPOCH } from '../core/context';
import type { SandboxClients } from '../core/sdk';
import type { TimedEntry } from '../core/timeline';
import type { Region } from '../region';
import { DEFAULT_APP_BEHAVIOUR } from '../services/ec2/instances';
import { operatorStore, seedBaseImage } from './bake-kit';
import { storyCatalog } from './catalog';
import { required, sleep, waitUntilHealthy } from './fleet';
import {
  provisionRolloutEnvironment,
  recordRelease,
  rolloutManifest,
  seedReleaseImage,
  until,
  type RolloutEnvironment,
} from './rollout-kit';
import { storySettings, type StorySettings } from './settings';
import { step } from './steps';
import type { Story, StoryCheck, StoryOptions, StoryResult } from './types';

const SERVICE = 'shop';
const ENVIRONMENT = 'production';
const GOOD = '1.5.0';
const BAD = '2.0.0';
/** rolloutManifest's watch window. */
const WATCH_WINDOW_MINUTES = 15;

const SETTINGS: StorySettings = storySettings({
  strategy: {
    type: 'rolling',
    minHealthyPercentage: 50,
    maxHealthyPercentage: 100,
    instanceWarmupSeconds: 60,
  },
});

export interface AlarmRollbackResult extends StoryResult {
  /** Virtual seconds from the alarm's move into ALARM to the rollback's StartExecution / first AWS call. */
  latency?: { startSeconds: number; firstCallSeconds: number };
}

export async function runAlarmRollback(region: Region, options: StoryOptions): Promise<AlarmRollbackResult> {
  const aws = region.clientsFor('story:platform-team', 'operator');
  const store = operatorStore(region);
  const { print } = options;
  const env = await step('setup', () => setUp(region, aws, store, options));
  const executions = new DeployExecutions(
    aws.sfn,
    required(region.stateMachineArns.get('DeployStateMachine'), 'deploy state machine'),
  );
  const follow = (id: string) => followDeployment(store, id, print);
  const deploy = async (version: string) => {
    const { deployment } = await startDeployment(
      {
        service: SERVICE,
        version,
        environments: [ENVIRONMENT],
        mode: 'deploy',
        trigger: 'cli',
        actor: 'cli:story',
      },
      { store, executions, ids: region.engine.kilnIds, now: () => Date.now() },
    );
    print(`kiln deploy: ${deployment.id} ${SERVICE}@${version} to ${ENVIRONMENT}`);
    return deployment;
  };

  return step('rollout', async () => {
    const first = await follow((await deploy(GOOD)).id);
    const second = await follow((await deploy(BAD)).id);
    const completedAt = virtualSeconds();
    // From here on, the release fails its users: every instance booted from 2.0.0's AMI answers
    // a quarter of its requests with 5xx (the knob `--bad-version` uses, turned after the fact).
    region.ec2.setBehaviourResolver((image) =>
      image.tags['kiln:version'] === BAD
        ? { ...DEFAULT_APP_BEHAVIOUR, mode: 'errors', errorRate: 0.25 }
        : { ...DEFAULT_APP_BEHAVIOUR },
    );
    print(`${SERVICE}@${BAD} starts answering 25 % of requests with 5xx`);
    const rollback = await until(
      'a rollback of production',
      async () =>
        (await store.listDeployments(SERVICE, { environment: ENVIRONMENT })).items.find(
          (d) => d.mode === 'rollback',
        ),
      { everySeconds: 15, limitSeconds: 30 * 60 },
    );
    print(`kiln: ${rollback.id} rollback to ${rollback.releaseVersion} by ${rollback.actor}`);
    const rolledBack = await follow(rollback.id);
    // The alarm keeps evaluating while 2.0.0's instances leave; a flap must not start another.
    await sleep(10 * 60);
    const all = (await store.listDeployments(SERVICE, { environment: ENVIRONMENT })).items;
    return {
      ...(await checksOf(region, aws, store, env, { first, second, rolledBack, all, completedAt })),
    };
  });
}

export const alarmRollbackStory: Story = {
  name: 'alarm-rollback',
  description: storyCatalog['alarm-rollback'],
  settings: SETTINGS,
  run: (region, options) => runAlarmRollback(region, options),
};

async function setUp(
  region: Region,
  aws: SandboxClients,
  store: KilnStore<ServiceManifest>,
  options: StoryOptions,
): Promise<RolloutEnvironment> {
  const base = seedBaseImage(region);
  const images: Record<string, string> = {};
  for (const version of ['1.0.0', GOOD, BAD])
    images[version] = seedReleaseImage(region, SERVICE, version, base);
  const env = await provisionRolloutEnvironment(region, aws, {
    service: SERVICE,
    name: ENVIRONMENT,
    size: options.fleet,
    imageId: images['1.0.0'] ?? '',
    settings: options.settings,
    declare: options.declareEnvironment,
  });
  await waitUntilHealthy(aws, [env], 1800);
  const stored = await store.putServiceManifest(rolloutManifest(region, SERVICE, [env], options.settings), {
    actor: 'kiln-cli:platform-team',
  });
  for (const version of [GOOD, BAD]) {
    await recordRelease(store, region, { service: SERVICE, version, imageId: images[version] ?? '' });
  }
  options.print(
    `platform: ${env.groupName} (${env.size}) on 1.0.0, alarm ${env.alarmName}; kiln: manifest v${stored.version}, releases ${GOOD}, ${BAD}`,
  );
  return env;
}

/** Now, in the timeline's seconds. */
function virtualSeconds(): number {
  return (Date.now() - SANDBOX_EPOCH) / 1000;
}

async function followDeployment(
  store: KilnStore<ServiceManifest>,
  id: string,
  print: (line: string) => void,
): Promise<Deployment> {
  let said = '';
  return until(
    `deployment ${id} ends`,
    async () => {
      const deployment = await store.getDeployment(id);
      const line = deployment?.rollout
        ? `${deployment.rollout.environment}: ${deployment.rollout.phase}`
        : '';
      if (line !== '' && line !== said) print(`kiln: ${id} ${line}`);
      said = line;
      if (deployment && isFinal(deployment.status)) {
        print(`kiln: ${id} ${deployment.status}${deployment.reason ? `: ${deployment.reason}` : ''}`);
        return deployment;
      }
      return undefined;
    },
    { everySeconds: 30, limitSeconds: 8 * 3600 },
  );
}

async function checksOf(
  region: Region,
  aws: SandboxClients,
  store: KilnStore<ServiceManifest>,
  env: RolloutEnvironment,
  seen: {
    first: Deployment;
    second: Deployment;
    rolledBack: Deployment;
    all: Deployment[];
    completedAt: number;
  },
): Promise<AlarmRollbackResult> {
  const entries = region.engine.timeline.entries;
  const { completedAt } = seen;
  const alarmAt = firstAlarm(entries, env.alarmName, completedAt);
  const rollbacks = seen.all.filter((d) => d.mode === 'rollback');
  const started = entries.find(
    (e) => e.kind === 'api' && e.ok && e.operation === 'StartExecution' && e.t >= (alarmAt ?? Infinity),
  );
  const firstCall = entries.find(
    (e) =>
      e.kind === 'api' &&
      e.ok &&
      e.caller === 'fn:rolloutSteps' &&
      e.service !== 'DynamoDB' &&
      e.t >= (started?.t ?? Infinity),
  );
  const state = await store.getEnvironmentState(SERVICE, ENVIRONMENT);
  const group = required(
    (
      await aws.autoScaling.send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [env.groupName] }),
      )
    ).AutoScalingGroups?.[0],
    `group ${env.groupName}`,
  );
  const goodRecord = (state.history ?? []).find((r) => r.release === GOOD);
  const checks: StoryCheck[] = [
    status(seen.first, 'succeeded', `${GOOD} completes`),
    status(seen.second, 'succeeded', `${BAD} completes (healthy while it rolls)`),
    {
      name: 'the 5xx alarm went into ALARM after 2.0.0 completed, inside the watch window',
      ok: alarmAt !== undefined && alarmAt - completedAt <= WATCH_WINDOW_MINUTES * 60,
      detail:
        alarmAt === undefined
          ? 'it never did'
          : `${Math.round(alarmAt - completedAt)} s after 2.0.0 completed (window ${WATCH_WINDOW_MINUTES * 60} s)`,
    },
    {
      name: 'exactly one rollback, started by the alarm, to 1.5.0, and it succeeded',
      ok:
        rollbacks.length === 1 &&
        seen.rolledBack.trigger === 'alarm' &&
        seen.rolledBack.actor === `alarm:${env.alarmName}` &&
        seen.rolledBack.releaseVersion === GOOD &&
        seen.rolledBack.status === 'succeeded',
      detail: `${rollbacks.length} rollback(s); ${seen.rolledBack.id} by ${seen.rolledBack.actor} (${seen.rolledBack.trigger}) to ${seen.rolledBack.releaseVersion}: ${seen.rolledBack.status}`,
    },
    runsGood(state.currentRelease, goodRecord?.launchTemplate.version, group, env.size),
    {
      name: "the rollback's first AWS call came after the alarm's state change",
      ok: alarmAt !== undefined && firstCall !== undefined && firstCall.t >= alarmAt,
      detail:
        firstCall === undefined || alarmAt === undefined
          ? 'none seen'
          : `${firstCall.kind === 'api' ? firstCall.operation : ''} ${Math.round(firstCall.t - alarmAt)} s after ALARM`,
    },
  ];
  const latency =
    alarmAt !== undefined && started !== undefined && firstCall !== undefined
      ? { startSeconds: started.t - alarmAt, firstCallSeconds: firstCall.t - alarmAt }
      : undefined;
  return {
    checks,
    figures: {
      'production instances': env.size,
      ...(latency === undefined
        ? {}
        : {
            'ALARM → rollback started (s)': Math.round(latency.startSeconds),
            'ALARM → rollback first AWS call (s)': Math.round(latency.firstCallSeconds),
          }),
    },
    ...(latency === undefined ? {} : { latency }),
  };
}

/** When the alarm first went into ALARM at or after `after` (timeline seconds). */
function firstAlarm(entries: readonly TimedEntry[], alarmName: string, after: number): number | undefined {
  return entries.find(
    (e) =>
      e.kind === 'state' && e.resource.endsWith(`:alarm:${alarmName}`) && e.to === 'ALARM' && e.t >= after,
  )?.t;
}

function status(deployment: Deployment, expected: Deployment['status'], what: string): StoryCheck {
  return {
    name: `${what}: ${expected}`,
    ok: deployment.status === expected,
    detail: `${deployment.id} ${deployment.status}${deployment.reason ? `: ${deployment.reason}` : ''}`,
  };
}

function runsGood(
  recorded: string | undefined,
  version: number | undefined,
  group: AutoScalingGroup,
  size: number,
): StoryCheck {
  const onVersion = (group.Instances ?? []).filter(
    (i) => i.LifecycleState === 'InService' && i.LaunchTemplate?.Version === String(version),
  ).length;
  return {
    name: `Kiln records production on ${GOOD}, and the group runs exactly ${GOOD}'s launch template version`,
    ok:
      recorded === GOOD &&
      version !== undefined &&
      group.LaunchTemplate?.Version === String(version) &&
      onVersion === size,
    detail: `recorded ${recorded ?? 'none'}; ${GOOD} was v${version ?? '?'}; group on v${group.LaunchTemplate?.Version ?? '?'}, ${onVersion}/${size} InService on it`,
  };
}
