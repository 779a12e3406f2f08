/**
 * `lost-events` (issue 11, item 9): the reconciler converges the region with 30 % of events lost
 * and duplicates on (the `event-loss` and `event-duplicate` faults on every delivery: 30 % lost,
 * half of the others delivered twice).
 *
 * The service `shop` runs in staging and production (N instances each, on 1.0.0), tagged for
 * Kiln; production needs an approval. The story:
 * 1. scales staging out by two and back in, twice (the fleet moving under lost events): Kiln's drain hook
 *    holds each instance leaving in Terminating:Wait until Kiln completes it, and the first of those
 *    actions' events is lost, so the reconciler starts its handling;
 * 2. deploys 2.0.0 to staging; while it refreshes, 2.1.0 is deployed to staging and production
 *    and waits for staging's lock;
 * 3. the operator stops 2.0.0's execution (StopExecution: a run killed mid-rollout, holding the
 *    lock); 2.1.0 rolls staging and waits for production's approval, and its execution is
 *    stopped too (a run dead while it waits for a person, whose approval token nobody will use).
 *    Their "Execution Status Change" events are lost as well (a rule loses every Step Functions
 *    event: the worst case for the events sweep-bakes would have healed them from), so the dead
 *    runs' records, the lock and the approval token are left for the reconciler alone;
 * 4. the region settles.
 *
 * The checks read Kiln's records and the timeline, and fail without the reconciler (the scenario
 * test runs the story with the reconcile function replaced by one that does nothing): every
 * deployment final, no lock held, no task token left (each token's task is gone once its
 * deployment is final), no instance left in a lifecycle wait up to its timeout, staging on 2.1.0
 * as recorded (its rollout completed before the run died), and what the reconciler did audited as
 * `reconciler`.
 */
import {
  DescribeAutoScalingGroupsCommand,
  PutLifecycleHookCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { DeployExecutions } from '../../shared/aws/sfn';
import { isFinal } from '../../shared/domain/deployment';
import { globalTimeoutSeconds } from '../../shared/domain/lifecycle';
import type { ServiceManifest } from '../../shared/domain/manifest/schema';
import type { Deployment, KilnStore } from '../../shared/store';
import { startDeployment } from '../../shared/usecases/deployments/start';
import type { SandboxClients } from '../core/sdk';
import type { Region } from '../region';
import { operatorStore, seedBaseImage } from './bake-kit';
import { storyCatalog } from './catalog';
import { DRAIN_HOOK, drainRecords } from './drain';
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
import { step, StoryDeadlineError } from './steps';
import type { Story, StoryCheck, StoryResult } from './types';

const SERVICE = 'shop';
const ENVIRONMENT = 'staging';
const GROUP = `${SERVICE}-${ENVIRONMENT}`;
const ENVIRONMENTS = [ENVIRONMENT, 'production'] as const;

const SETTINGS: StorySettings = storySettings({
  strategy: {
    type: 'rolling',
    minHealthyPercentage: 50,
    maxHealthyPercentage: 100,
    instanceWarmupSeconds: 60,
  },
});

/** Kiln's terminate hook on staging (drained before it completes, issue 11 item 1). */
const HEARTBEAT_TIMEOUT_SECONDS = 300;

interface World {
  region: Region;
  aws: SandboxClients;
  store: KilnStore<ServiceManifest>;
  environment: RolloutEnvironment;
  environments: RolloutEnvironment[];
  print: (line: string) => void;
  executions: DeployExecutions;
  deploy(version: string, environments: string[]): Promise<Deployment>;
  kill(deployment: Deployment, cause: string): Promise<void>;
  group(): Promise<AutoScalingGroup>;
}

async function world(region: Region, options: Parameters<Story['run']>[1]): Promise<World> {
  const aws = region.clientsFor('story:platform-team', 'operator');
  const store = operatorStore(region);
  const environments = await step('setup', async () => {
    const base = seedBaseImage(region);
    const images: Record<string, string> = {};
    for (const version of ['1.0.0', '2.0.0', '2.1.0'])
      images[version] = seedReleaseImage(region, SERVICE, version, base);
    const made: RolloutEnvironment[] = [];
    for (const name of ENVIRONMENTS) {
      made.push(
        await provisionRolloutEnvironment(region, aws, {
          service: SERVICE,
          name,
          size: options.fleet,
          imageId: images['1.0.0'] ?? '',
          settings: options.settings,
          declare: options.declareEnvironment,
        }),
      );
    }
    // Kiln's drain hook on staging: every instance that leaves it (the scale-in, the refreshes)
    // waits in Terminating:Wait until Kiln's lifecycle handling, started by the event or, when the
    // event is lost, by the reconciler, completes it.
    await aws.autoScaling.send(
      new PutLifecycleHookCommand({
        AutoScalingGroupName: GROUP,
        LifecycleHookName: DRAIN_HOOK,
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        HeartbeatTimeout: HEARTBEAT_TIMEOUT_SECONDS,
        DefaultResult: 'ABANDON',
      }),
    );
    await waitUntilHealthy(aws, made, 1800);
    await store.putServiceManifest(
      rolloutManifest(region, SERVICE, made, options.settings, { production: { approval: true } }),
      { actor: 'kiln-cli:platform-team' },
    );
    for (const version of ['2.0.0', '2.1.0'])
      await recordRelease(store, region, { service: SERVICE, version, imageId: images[version] ?? '' });
    options.print(
      `platform: ${made.map((e) => `${e.groupName} (${e.size})`).join(', ')} on 1.0.0; kiln: releases 2.0.0, 2.1.0`,
    );
    return made;
  });
  const environment = required(environments[0], 'staging');
  const executions = new DeployExecutions(
    aws.sfn,
    required(region.stateMachineArns.get('DeployStateMachine'), 'deploy state machine'),
  );
  return {
    region,
    aws,
    store,
    environment,
    environments,
    print: options.print,
    executions,
    async deploy(version, names) {
      const { deployment } = await startDeployment(
        {
          service: SERVICE,
          version,
          environments: names,
          mode: 'deploy',
          trigger: 'cli',
          actor: 'cli:story',
        },
        { store, executions, ids: region.engine.kilnIds, now: () => Date.now() },
      );
      options.print(`kiln deploy: ${deployment.id} ${SERVICE}@${version} to ${names.join(', ')}`);
      return deployment;
    },
    async kill(deployment, cause) {
      await aws.sfn.send(
        new StopExecutionCommand({ executionArn: executions.executionArn(deployment.id), cause }),
      );
      options.print(`operator: stopped ${deployment.id}'s execution (${cause})`);
    },
    async group() {
      const out = await aws.autoScaling.send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [GROUP] }),
      );
      return required(out.AutoScalingGroups?.[0], `group ${GROUP}`);
    },
  };
}

async function phaseOf(w: World, id: string): Promise<string | undefined> {
  return (await w.store.getDeployment(id))?.rollout?.phase;
}

/** Scales staging to `desired` and waits until it has that many instances InService, none other. */
async function scaleTo(w: World, desired: number): Promise<void> {
  await w.aws.autoScaling.send(
    new UpdateAutoScalingGroupCommand({
      AutoScalingGroupName: GROUP,
      MaxSize: Math.max(desired, w.environment.size + 2),
      DesiredCapacity: desired,
    }),
  );
  await until(
    `${GROUP} at ${desired} instances`,
    async () => {
      const instances = (await w.group()).Instances ?? [];
      return instances.length === desired && instances.every((i) => i.LifecycleState === 'InService')
        ? true
        : undefined;
    },
    { everySeconds: 15, limitSeconds: 3 * 3600 },
  );
  w.print(`platform: ${GROUP} scaled to ${desired}`);
}

/** Every deployment of the service, newest first (the story makes a handful). */
async function deployments(w: World): Promise<Deployment[]> {
  return (await w.store.listDeployments(SERVICE, { limit: 100 })).items;
}

/** Nothing stuck, as Kiln's records tell it: the four things the reconciler must leave behind. */
async function stuck(w: World): Promise<{ open: Deployment[]; locked: string[]; tokens: string[] }> {
  const open = (await deployments(w)).filter((d) => !isFinal(d.status));
  const locks = await Promise.all(ENVIRONMENTS.map((name) => w.store.getEnvironmentState(SERVICE, name)));
  const tokens = (await w.store.listTaskTokens({ limit: 100 })).items.map(
    (t) => `${t.waitKind}/${t.key} (${t.deploymentId})`,
  );
  const locked = locks
    .filter((state) => state.lock !== undefined)
    .map((s) => `${s.environment} (${s.lock?.holder ?? '?'})`);
  return { open, locked, tokens };
}

async function checks(w: World, killed: Deployment, next: Deployment, end: number): Promise<StoryCheck[]> {
  const left = await stuck(w);
  const all = await deployments(w);
  const killedNow = all.find((d) => d.id === killed.id);
  const nextNow = all.find((d) => d.id === next.id);
  const audits = (await w.store.listAudit({ service: SERVICE }, { limit: 1000 })).items;
  const waits = drainRecords(
    w.region,
    GROUP,
    w.environment.targetGroupArn,
    audits.filter((entry) => entry.action.startsWith('lifecycle.')),
  );
  const global = globalTimeoutSeconds(HEARTBEAT_TIMEOUT_SECONDS);
  // Stuck: still waiting, waited to the global timeout, or left to a timeout rather than
  // completed by Kiln (its lifecycle handling audits each completion).
  const stuckWaits = waits.filter((wait) => {
    const after = wait.audit?.after;
    const completed =
      typeof after === 'object' && after !== null && (after as { outcome?: unknown }).outcome === 'completed';
    return (
      wait.proceedAt === undefined || Math.min(wait.proceedAt, end) - wait.waitAt >= global || !completed
    );
  });
  const recorded = await w.store.getEnvironmentState(SERVICE, ENVIRONMENT);
  const group = await w.group();
  const version = recorded.launchTemplate?.version;
  const onVersion = (group.Instances ?? []).filter(
    (i) => i.LifecycleState === 'InService' && i.LaunchTemplate?.Version === String(version),
  ).length;
  const byReconciler = audits
    .filter((entry) => entry.actor === 'reconciler')
    .map((entry) => `${entry.action} ${entry.target}`);
  return [
    {
      name: 'no deployment is left non-final',
      ok: left.open.length === 0 && killedNow?.status === 'failed' && nextNow?.status === 'failed',
      detail:
        left.open.length > 0
          ? `still open: ${left.open.map((d) => `${d.id} ${d.status}`).join(', ')}`
          : `${killed.id} ${killedNow?.status ?? '?'}: ${killedNow?.reason ?? ''}; ${next.id} ${nextNow?.status ?? '?'}: ${nextNow?.reason ?? ''}`,
    },
    {
      name: 'no lock is held',
      ok: left.locked.length === 0,
      detail: left.locked.length > 0 ? `locked: ${left.locked.join(', ')}` : 'staging and production free',
    },
    {
      name: 'no orphaned task token is left',
      ok: left.tokens.length === 0,
      detail: left.tokens.length > 0 ? `left: ${left.tokens.join(', ')}` : 'none stored',
    },
    {
      name: 'no instance was left waiting in a lifecycle hook: Kiln completed each before its timeout',
      ok: waits.length > 0 && stuckWaits.length === 0,
      detail:
        stuckWaits.length > 0
          ? `${stuckWaits.length} of ${waits.length} not completed by Kiln in time: ${stuckWaits
              .slice(0, 5)
              .map((wait) => `${wait.instanceId} (Terminating:Wait at ${wait.waitAt} s)`)
              .join(', ')}`
          : `${waits.length} Terminating:Wait, each completed by Kiln; longest ${Math.max(
              0,
              ...waits.map((wait) => (wait.proceedAt ?? 0) - wait.waitAt),
            )} s`,
    },
    {
      name: 'Kiln records staging on 2.1.0, and staging runs exactly that launch template version',
      ok:
        recorded.currentRelease === '2.1.0' &&
        group.LaunchTemplate?.Version === String(version) &&
        onVersion === w.environment.size,
      detail: `recorded ${recorded.currentRelease ?? 'none'} on v${version ?? '?'}; group on v${group.LaunchTemplate?.Version ?? '?'}, ${onVersion}/${w.environment.size} InService on it`,
    },
    {
      name: 'what the reconciler healed is audited as reconciler',
      ok: [killed, next].every((d) => byReconciler.includes(`deployment.move deployment:${d.id}`)),
      detail: byReconciler.length > 0 ? byReconciler.join(', ') : 'nothing audited as reconciler',
    },
  ];
}

export const lostEventsStory: Story = {
  name: 'lost-events',
  description: storyCatalog['lost-events'],
  settings: SETTINGS,
  region: {
    faults: [
      { kind: 'event-loss', probability: 0.3 },
      // The event sweep-bakes would have healed the killed run from is lost too (see above).
      { kind: 'event-loss', source: 'aws.states', probability: 1 },
      // And the scale-in's first terminate action (whatever the draw), so a drain hook is left to
      // the reconciler (healLifecycleActions) at least once.
      {
        kind: 'event-loss',
        source: 'aws.autoscaling',
        detailType: 'EC2 Instance-terminate Lifecycle Action',
        count: 1,
      },
      { kind: 'event-duplicate', probability: 0.5 },
    ],
  },
  async run(region, options): Promise<StoryResult> {
    const w = await world(region, options);
    return step('lost events', async () => {
      for (let cycle = 0; cycle < 2; cycle++) {
        await scaleTo(w, w.environment.size + 2);
        await scaleTo(w, w.environment.size);
      }
      const killed = await w.deploy('2.0.0', [ENVIRONMENT]);
      await until(`${killed.id} refreshing`, async () =>
        (await phaseOf(w, killed.id)) === 'refreshing' ? true : undefined,
      );
      const next = await w.deploy('2.1.0', [...ENVIRONMENTS]);
      await until(`${next.id} waiting for the lock`, async () =>
        (await phaseOf(w, next.id)) === 'waiting-lock' ? true : undefined,
      );
      await w.kill(killed, 'killed by the operator mid-rollout');
      const killedAt = Date.now();
      await until(
        `${next.id} waiting for approval`,
        async () =>
          (await w.store.getDeployment(next.id))?.status === 'waiting-approval' ? true : undefined,
        { everySeconds: 30, limitSeconds: 4 * 3600 },
      );
      await w.kill(next, 'killed by the operator while it waited for approval');
      const lockedFor = await lockWait(w, next.id, killedAt);
      // The region settles: the reconciler's next runs find whatever is still stuck.
      await until(
        'nothing stuck',
        async () => {
          const left = await stuck(w);
          return left.open.length === 0 && left.locked.length === 0 && left.tokens.length === 0
            ? true
            : undefined;
        },
        { everySeconds: 60, limitSeconds: 60 * 60 },
      ).catch((error: unknown) => {
        // Still stuck at the deadline: the checks say what is.
        if (!(error instanceof StoryDeadlineError)) throw error;
      });
      await sleep(60);
      const end = (Date.now() - Date.UTC(2026, 0, 1)) / 1000;
      const struck = region.engine.faults.struck();
      return {
        checks: await checks(w, killed, next, end),
        figures: {
          'staging instances': options.fleet,
          'events lost': struck.filter((s) => s.kind === 'event-loss').reduce((n, s) => n + s.strikes, 0),
          'events duplicated': struck
            .filter((s) => s.kind === 'event-duplicate')
            .reduce((n, s) => n + s.strikes, 0),
          '2.1.0 waited for the lock after the kill (s)': lockedFor,
        },
      };
    });
  },
};

/** Seconds from the kill until the waiting deployment held the lock (from the audit log). */
async function lockWait(w: World, deploymentId: string, killedAt: number): Promise<number | string> {
  const entries = (
    await w.store.listAudit({ target: `environment:${SERVICE}/${ENVIRONMENT}` }, { limit: 100 })
  ).items;
  const taken = entries
    .filter((e) => e.actor === deploymentId && (e.action === 'lock.acquire' || e.action === 'lock.takeover'))
    .map((e) => Date.parse(e.at))
    .sort((a, b) => a - b)[0];
  return taken === undefined ? 'never' : Math.round((taken - killedAt) / 1000);
}
