/**
 * The default story's checks and summary. `gatherFacts` reads Kiln's records (deployments,
 * releases, artifacts, environment states, audit), AWS (groups, target health, alarms) and the
 * timeline once the story is over; `defaultChecks` judges those facts and nothing else (a pure
 * function, so each rule is shown failing on facts that break it: test/scenarios/default-story.test.ts).
 */
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import type { AuditEntry, Deployment } from '../../shared/store';
import type { FaultKind } from '../core/context';
import type { Region } from '../region';
import { BAKE_FAULTS, builderAccount, builderGone, injected } from './bake-kit';
import { firstDrain, targetsAt } from './blue-green-kit';
import { drainChecks, drainRecords, type DrainRecord } from './drain';
import type { Transition } from './default-watch';
import {
  BAD,
  DRAIN_HEARTBEAT_SECONDS,
  FIRST,
  GOOD,
  SERVICE,
  WATCH_WINDOW_MINUTES,
  type Environment,
  type World,
} from './default-world';
import { healthyTargets } from './fleet';
import { overlappingRefreshes, refreshSpans } from './rollout-kit';
import { DEFAULT_CHECKPOINT_DELAY_SECONDS } from './settings';
import type { StoryCheck, StoryOptions } from './types';

/** The lead's press of Approve on Kiln's approval message, and what Kiln answered. */
export interface ApprovalPress {
  /** When Kiln posted the message with the button (virtual seconds). */
  notifiedAt: number;
  pressedAt: number;
  /** When the lead pressed Confirm on Kiln's preview. */
  confirmedAt: number;
  /** HTTP status of the signed POST /slack. */
  status: number;
  preview: string;
  answer: string;
}

/** What the story saw happen, act by act (virtual seconds). */
export interface Acts {
  /** Per release CI pushed: when, and the deployment on-artifact started (none: see the artifact check). */
  releases: Record<
    string,
    { pushedAt: number; deploymentId?: string; approval?: ApprovalPress | undefined; endedAt: number }
  >;
  flagAt?: number;
  alarmRollback?: Deployment;
  chatRollback?: { preview: string; status: number; deployment: Deployment };
  scaleIn?: { groupName: string; from: number; to: number; at: number; doneAt?: number };
  transitions?: Transition[];
  /** Acts the simulation made impossible, as failed checks named after them. */
  failures: StoryCheck[];
}

export interface EnvironmentEnd {
  name: string;
  expectedRelease: string;
  expectedSize: number;
  recordedRelease: string | undefined;
  recordedVersion: number | undefined;
  group: string;
  groupVersion: string | undefined;
  onRecordedVersion: number;
  instances: number;
  healthy: number;
  lock: string | undefined;
  /** Releases in the order they became current (Kiln's history), the first `unrecorded`. */
  releases: string[];
}

export interface DefaultStoryFacts {
  fleet: number;
  deployments: Deployment[];
  /**
   * Per release: whether CI pushed it, the artifact records on-artifact made (and, when not one,
   * why), its deployment's bake outcome, its AMIs by Region (none: not baked).
   */
  releases: Record<
    string,
    {
      pushed: boolean;
      artifacts: number;
      artifactWhy: string;
      deployment: string | undefined;
      amis: Record<string, string>;
    }
  >;
  /** The faults of the run that explain a missing bake, as `(injected …)` or ''. */
  bakeFaults: string;
  /** Kiln's builders: launched and terminated (calls), and those AWS still lists that are not gone. */
  builders: { launched: number; terminateCalls: number; running: string[] };
  staging: {
    size: number;
    checkpoints: number[];
    delaySeconds: number;
    /** Checkpoint Reached events during staging's first refresh, and how long it took. */
    reached: number;
    refreshSeconds: number | undefined;
  };
  approval: {
    press: ApprovalPress | undefined;
    approvedBy: string[];
    /** When production's green group was created (virtual seconds). */
    productionStartedAt: number | undefined;
  };
  blueGreen: {
    greenGroup: string | undefined;
    drainedAt: number | undefined;
    /** Green targets, and their states when blue's first target started draining. */
    greenAtDrain: Record<string, string>;
    expectedGreen: number;
  };
  alarm: {
    flagAt: number | undefined;
    /** When 1.2.0 became production's release, and when production's alarm first went into ALARM after the flag. */
    badSince: number | undefined;
    alarmAt: number | undefined;
    rollbacks: Array<Pick<Deployment, 'id' | 'actor' | 'trigger' | 'releaseVersion' | 'status'>>;
  };
  chat: {
    preview: string;
    status: number | undefined;
    deployment:
      Pick<Deployment, 'id' | 'actor' | 'trigger' | 'releaseVersion' | 'status' | 'mode'> | undefined;
  };
  drain: { from: number; to: number; records: DrainRecord[] } | undefined;
  end: EnvironmentEnd[];
  alarms: Record<string, string>;
  overlapping: string[];
  transitions: Transition[];
}

const seconds = (iso: string | undefined): number | undefined =>
  iso === undefined ? undefined : Date.parse(iso) / 1000;

export async function gatherFacts(
  region: Region,
  world: World,
  options: StoryOptions,
  acts: Acts,
): Promise<DefaultStoryFacts> {
  const { aws, store, staging, production } = world;
  const epoch = region.engine.timeline.epochMs / 1000;
  const toT = (iso: string | undefined) => {
    const s = seconds(iso);
    return s === undefined ? undefined : s - epoch;
  };
  const entries = region.engine.timeline.entries;
  const deployments = (await store.listDeployments(SERVICE, { limit: 100 })).items;
  const artifacts = (await store.listArtifacts(SERVICE, { limit: 100 })).items;
  const releases: DefaultStoryFacts['releases'] = {};
  for (const version of [GOOD, BAD]) {
    const records = artifacts.filter((a) => a.version === version).length;
    const deployment = deployments.find((d) => d.releaseVersion === version && d.mode !== 'rollback');
    releases[version] = {
      pushed: acts.releases[version] !== undefined,
      artifacts: records,
      artifactWhy: artifactDetail(region, records),
      deployment:
        deployment === undefined
          ? undefined
          : `${deployment.id} ${deployment.status}${deployment.reason ? `: ${deployment.reason}` : ''}`,
      amis: (await store.getRelease(SERVICE, version))?.amis ?? {},
    };
  }
  const account = await builderAccount(region, aws);

  const strategy = options.settings.strategy;
  const rolling = strategy.type === 'rolling' ? strategy : undefined;
  const span = refreshSpans(region).get(staging.groupName)?.[0];
  const reached = entries.filter(
    (e) =>
      e.kind === 'event' &&
      e.detailType === 'EC2 Auto Scaling Instance Refresh Checkpoint Reached' &&
      span !== undefined &&
      e.t >= span.from &&
      e.t <= span.to,
  ).length;

  const productionState = await store.getEnvironmentState(SERVICE, 'production');
  const history = [...(productionState.history ?? [])].reverse();
  const goodRecord = history.find((r) => r.release === GOOD);
  const greenGroup = goodRecord?.group;
  const greenCreated = entries.find(
    (e) => e.kind === 'state' && e.resource === `autoscaling:${greenGroup}` && e.from === null,
  )?.t;
  const goodDeployment = deployments.find((d) => d.id === acts.releases[GOOD]?.deploymentId);
  const audits = await allAudits(world);
  const approvedBy = audits
    .filter((a) => a.action === 'deployment.approve' && a.deploymentId === goodDeployment?.id)
    .map((a) => a.actor);

  // Blue/green rule 4 for 1.1.0: blue's first target drained only once every green target was healthy.
  const tg = production.targetGroupArn;
  const membersOf = (group: string | undefined, until: number) => [
    ...new Set(
      entries.flatMap((e) =>
        group !== undefined &&
        e.kind === 'state' &&
        e.t <= until &&
        e.resource.startsWith(`autoscaling:${group}/`) &&
        !e.resource.includes('/traffic-source:')
          ? [e.resource.slice(`autoscaling:${group}/`.length)]
          : [],
      ),
    ),
  ];
  const blueIds = membersOf(production.groupName, greenCreated ?? 0);
  const drain = greenCreated === undefined ? undefined : firstDrain(entries, tg, blueIds);
  const greenIds = drain === undefined ? [] : membersOf(greenGroup, drain.t);
  const atDrain = drain === undefined ? new Map<string, string>() : targetsAt(entries, tg, drain.t);

  const badRecord = history.find((r) => r.release === BAD);
  const alarmArn = `:alarm:${production.alarmName}`;
  const alarmAt = entries.find(
    (e) =>
      e.kind === 'state' &&
      e.resource.endsWith(alarmArn) &&
      e.to === 'ALARM' &&
      acts.flagAt !== undefined &&
      e.t >= acts.flagAt,
  )?.t;

  let drainFacts: DefaultStoryFacts['drain'];
  if (acts.scaleIn !== undefined) {
    const { groupName, from, to, at } = acts.scaleIn;
    const records = drainRecords(
      region,
      groupName,
      tg,
      audits.filter((a) => a.action.startsWith('lifecycle.')),
    ).filter((r) => r.waitAt >= at);
    drainFacts = { from, to, records };
  }

  const end: EnvironmentEnd[] = [];
  for (const [env, expectedSize] of [
    [staging, options.fleet],
    [production, acts.scaleIn?.to ?? production.size],
  ] as const) {
    end.push(await environmentEnd(world, env, expectedSize));
  }
  const described = await aws.cloudWatch.send(
    new DescribeAlarmsCommand({ AlarmNames: [staging.alarmName, production.alarmName] }),
  );
  return {
    fleet: options.fleet,
    deployments,
    releases,
    bakeFaults: injected(region, BAKE_FAULTS),
    builders: {
      launched: account.runInstances,
      terminateCalls: account.terminateCalls,
      // AWS lists a terminated instance for about an hour only: the calls count, and none may run.
      running: account.builders.filter((b) => !builderGone(b)).map((b) => b.instanceId),
    },
    staging: {
      size: staging.size,
      checkpoints: [...(rolling?.checkpoints ?? [])],
      delaySeconds: rolling?.checkpointDelaySeconds ?? DEFAULT_CHECKPOINT_DELAY_SECONDS,
      reached,
      refreshSeconds: span === undefined || span.to === Infinity ? undefined : span.to - span.from,
    },
    approval: { press: acts.releases[GOOD]?.approval, approvedBy, productionStartedAt: greenCreated },
    blueGreen: {
      greenGroup,
      drainedAt: drain?.t,
      greenAtDrain: Object.fromEntries(greenIds.map((id) => [id, atDrain.get(id) ?? 'missing'])),
      expectedGreen: production.size,
    },
    alarm: {
      flagAt: acts.flagAt,
      badSince: toT(badRecord?.since),
      alarmAt,
      rollbacks: deployments
        .filter((d) => d.mode === 'rollback' && d.environments.includes('production'))
        .map(({ id, actor, trigger, releaseVersion, status }) => ({
          id,
          actor,
          trigger,
          releaseVersion,
          status,
        })),
    },
    chat: {
      preview: acts.chatRollback?.preview ?? '',
      status: acts.chatRollback?.status,
      deployment: acts.chatRollback?.deployment,
    },
    drain: drainFacts,
    end,
    alarms: Object.fromEntries(
      (described.MetricAlarms ?? []).map((a) => [a.AlarmName ?? '?', a.StateValue ?? '?']),
    ),
    overlapping: overlappingRefreshes(region),
    transitions: acts.transitions ?? [],
  };
}

async function allAudits(world: World): Promise<AuditEntry[]> {
  const found: AuditEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await world.store.listAudit(
      { service: SERVICE },
      { limit: 1000, ...(cursor === undefined ? {} : { cursor }) },
    );
    found.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return found;
}

async function environmentEnd(world: World, env: Environment, expectedSize: number): Promise<EnvironmentEnd> {
  const state = await world.store.getEnvironmentState(SERVICE, env.name);
  const groupName = state.activeGroup ?? env.groupName;
  const group = (
    await world.aws.autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }),
    )
  ).AutoScalingGroups?.[0];
  const version = state.launchTemplate?.version;
  const instances = group?.Instances ?? [];
  return {
    name: env.name,
    expectedRelease: GOOD,
    expectedSize,
    recordedRelease: state.currentRelease,
    recordedVersion: version,
    group: groupName,
    groupVersion: group?.LaunchTemplate?.Version,
    onRecordedVersion: instances.filter(
      (i) => i.LifecycleState === 'InService' && i.LaunchTemplate?.Version === String(version),
    ).length,
    instances: instances.length,
    healthy: await healthyTargets(world.aws, env),
    lock: state.lock?.holder,
    releases: [...(state.history ?? [])].reverse().map((r) => r.release),
  };
}

const NOT_RUN = 'not run: an earlier act did not end as it should (see the checks above)';

/** The story's rules, judged on its facts alone. */
export function defaultChecks(facts: DefaultStoryFacts): StoryCheck[] {
  const { releases, builders, staging, approval, blueGreen, alarm, chat, drain } = facts;
  const baked = [GOOD, BAD].filter((v) => Object.keys(releases[v]?.amis ?? {}).length === 1);
  // A checkpoint pauses the refresh only below the whole fleet: at 1 instance, 50 % is all of it.
  const expectedCheckpoints = new Set(
    staging.checkpoints.map((c) => Math.ceil((staging.size * c) / 100)).filter((n) => n < staging.size),
  ).size;
  const greenStates = Object.entries(blueGreen.greenAtDrain);
  const rollback = alarm.rollbacks[0];
  const windowEnd = alarm.badSince === undefined ? undefined : alarm.badSince + WATCH_WINDOW_MINUTES * 60;
  const chatDeployment = chat.deployment;
  const checks: StoryCheck[] = [
    {
      name: 'each artifact recorded once by on-artifact',
      ok: [GOOD, BAD].every((v) => releases[v]?.artifacts === 1),
      detail: [GOOD, BAD]
        .map(
          (v) =>
            `${v}: ${releases[v]?.pushed ? (releases[v]?.artifactWhy ?? '?') : 'not pushed (an earlier act did not end as it should)'}`,
        )
        .join('; '),
    },
    {
      name: `each release baked once by Kiln: ${GOOD} and ${BAD} recorded with an AMI, one builder each, none left running`,
      ok:
        baked.length === 2 &&
        builders.launched === 2 &&
        builders.terminateCalls >= 2 &&
        builders.running.length === 0,
      detail:
        [GOOD, BAD].map((v) => `${v}: ${bakeDetail(releases[v], facts.bakeFaults)}`).join('; ') +
        `; ${builders.launched} builder(s) launched, ${builders.terminateCalls} TerminateInstances, still running: ${builders.running.join(', ') || 'none'}`,
    },
    {
      name: `staging rolled ${GOOD} with an instance refresh that paused at its checkpoints (${staging.checkpoints.join('/') || 'none'} %)`,
      ok:
        staging.checkpoints.length > 0 &&
        staging.reached === expectedCheckpoints &&
        staging.refreshSeconds !== undefined &&
        staging.refreshSeconds >= expectedCheckpoints * staging.delaySeconds,
      detail:
        staging.refreshSeconds === undefined
          ? 'no finished refresh of staging'
          : `${staging.reached} checkpoint(s) reached of ${expectedCheckpoints} expected below all ${staging.size} instance(s); refresh took ${Math.round(staging.refreshSeconds)} s (pauses of ${staging.delaySeconds} s)`,
    },
    {
      name: `production waited for approval, and the lead's Approve button on Kiln's Slack message (a signed POST /slack) released it`,
      ok:
        approval.press !== undefined &&
        approval.press.status === 200 &&
        /promotes checkout .* to production/.test(approval.press.preview) &&
        approval.approvedBy.length === 1 &&
        approval.approvedBy[0] === 'slack:T0SANDBOX/U0SANDBOXLEAD' &&
        approval.productionStartedAt !== undefined &&
        approval.productionStartedAt >= approval.press.confirmedAt,
      detail:
        approval.press === undefined
          ? 'no approval message was answered'
          : `message at ${clock(approval.press.notifiedAt)}, Approve pressed at ${clock(approval.press.pressedAt)}, Confirm at ${clock(approval.press.confirmedAt)} (HTTP ${approval.press.status}): "${approval.press.preview}"; approved by ${approval.approvedBy.join(', ') || 'nobody'}; production's green group made at ${clock(approval.productionStartedAt)}`,
    },
    {
      name: `production rolled ${GOOD} blue/green: blue left the load balancer only once every green target was healthy`,
      ok:
        blueGreen.greenGroup !== undefined &&
        blueGreen.drainedAt !== undefined &&
        greenStates.length === blueGreen.expectedGreen &&
        greenStates.every(([, state]) => state === 'healthy'),
      detail:
        blueGreen.drainedAt === undefined
          ? `no blue target drained (green group ${blueGreen.greenGroup ?? 'none'})`
          : `${blueGreen.greenGroup}: blue's first target drained at ${clock(blueGreen.drainedAt)}; green targets then: ${greenStates.filter(([, s]) => s === 'healthy').length}/${blueGreen.expectedGreen} healthy (${
              greenStates
                .filter(([, s]) => s !== 'healthy')
                .map(([id, s]) => `${id} ${s}`)
                .join(', ') || 'none other'
            })`,
    },
    {
      name: `${BAD} turned bad: production's alarm fired inside its watch window and Kiln rolled production back to ${GOOD} by itself, once`,
      ok:
        alarm.alarmAt !== undefined &&
        windowEnd !== undefined &&
        alarm.alarmAt <= windowEnd &&
        alarm.rollbacks.length === 1 &&
        rollback?.trigger === 'alarm' &&
        rollback.releaseVersion === GOOD &&
        rollback.status === 'succeeded',
      detail:
        alarm.flagAt === undefined
          ? NOT_RUN
          : `flag at ${clock(alarm.flagAt)}; ALARM at ${clock(alarm.alarmAt)} (window ends ${clock(windowEnd)}); ${alarm.rollbacks.length} rollback(s): ${alarm.rollbacks.map((d) => `${d.id} by ${d.actor} (${d.trigger}) to ${d.releaseVersion} ${d.status}`).join('; ') || 'none'}`,
    },
    {
      name: `a signed /kiln rollback checkout staging by ${'U0SANDBOXDEV'} showed ${BAD} → ${GOOD} and, confirmed, restored ${GOOD}`,
      ok:
        chat.status === 200 &&
        new RegExp(`${escape(BAD)} → ${escape(GOOD)}`).test(chat.preview) &&
        chatDeployment?.mode === 'rollback' &&
        chatDeployment.actor === 'slack:T0SANDBOX/U0SANDBOXDEV' &&
        chatDeployment.releaseVersion === GOOD &&
        chatDeployment.status === 'succeeded',
      detail:
        chatDeployment === undefined
          ? chat.status === undefined
            ? NOT_RUN
            : `HTTP ${chat.status}, "${chat.preview}", no rollback started`
          : `"${chat.preview}"; ${chatDeployment.id} by ${chatDeployment.actor} to ${chatDeployment.releaseVersion}: ${chatDeployment.status}`,
    },
    ...(drain === undefined
      ? [{ name: 'the scale-in of production drained through Kiln’s hook', ok: false, detail: NOT_RUN }]
      : drainChecks(
          {
            records: drain.records,
            heartbeatTimeoutSeconds: DRAIN_HEARTBEAT_SECONDS,
            calls: new Map(),
            throttled: 0,
            groupName: '',
          },
          drain.from - drain.to,
        ).map((check) => ({ ...check, name: `scale-in ${drain.from} → ${drain.to}: ${check.name}` }))),
    ...facts.end.map((env): StoryCheck => ({
      name: `${env.name} ends on ${env.expectedRelease}: Kiln's record, the group's launch template version and ${env.expectedSize} healthy instances agree, lock free`,
      ok:
        env.recordedRelease === env.expectedRelease &&
        env.recordedVersion !== undefined &&
        env.groupVersion === String(env.recordedVersion) &&
        env.onRecordedVersion === env.expectedSize &&
        env.instances === env.expectedSize &&
        env.healthy === env.expectedSize &&
        env.lock === undefined,
      detail: `recorded ${env.recordedRelease ?? 'none'} (launch template v${env.recordedVersion ?? '?'}); ${env.group} on v${env.groupVersion ?? '?'}, ${env.onRecordedVersion}/${env.instances} InService on it, ${env.healthy} healthy targets; lock ${env.lock ?? 'free'}`,
    })),
    {
      name: 'no two instance refreshes of one group overlapped, and both alarms are OK again',
      ok: facts.overlapping.length === 0 && Object.values(facts.alarms).every((s) => s === 'OK'),
      detail: `overlaps: ${facts.overlapping.join('; ') || 'none'}; ${Object.entries(facts.alarms)
        .map(([name, state]) => `${name}=${state}`)
        .join(', ')}`,
    },
  ];
  return checks;
}

/** A release's AMIs, or why there is none (naming the faults that explain it). */
function bakeDetail(release: DefaultStoryFacts['releases'][string] | undefined, faults: string): string {
  if (release === undefined || !release.pushed) return 'not pushed (an earlier act did not end as it should)';
  const amis = Object.entries(release.amis);
  if (amis.length > 0) return amis.map(([where, ami]) => `${ami} in ${where}`).join(', ');
  return `no release: ${release.deployment === undefined ? 'no deployment was started' : `deployment ${release.deployment}`}${faults}`;
}

/**
 * What became of the artifact events, read from the timeline and Lambda's invocation records, and
 * which injected faults could have caused it: EventBridge losing an event, on-artifact failing
 * every attempt (a crash, or its own calls failing), or a second delivery recorded twice.
 */
function artifactDetail(region: Region, records: number): string {
  const deployed = region.routes.functions.find((fn) => fn.functionName === 'onArtifact')?.deployedName;
  const deliveries = region.engine.timeline.entries.reduce(
    (n, e) =>
      n +
      (e.kind === 'event' && e.source === 'aws.s3' && e.detailType === 'Object Created'
        ? e.deliveredTo.filter((f) => f === 'onArtifact').length
        : 0),
    0,
  );
  const attempts = region.lambda.invocations.filter((i) => i.functionName === deployed);
  const failed = attempts.filter((i) => !i.ok);
  const struck = (kinds: FaultKind[]): string => injected(region, kinds);
  const recorded = `${records} record(s)`;
  if (records === 1) return recorded;
  if (records > 1) return `${recorded} from ${deliveries} deliveries${struck(['event-duplicate'])}`;
  if (deliveries === 0) {
    return `${recorded}: EventBridge never delivered the S3 event to onArtifact${struck(['event-loss'])}`;
  }
  if (failed.length === attempts.length) {
    const errors = [...new Set(failed.map((i) => i.error ?? 'Error'))].join(', ');
    return (
      `${recorded}: onArtifact failed all ${attempts.length} attempt(s) (${errors})` +
      struck(['handler-crash', 'api-5xx', 'throttle'])
    );
  }
  return `${recorded} though onArtifact ran ${attempts.length - failed.length} time(s) without error`;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `01:02:03` of virtual time, as the progress lines show it. */
function clock(t: number | undefined): string {
  if (t === undefined || !Number.isFinite(t)) return '?';
  const s = Math.floor(t);
  return [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60]
    .map((n) => String(n).padStart(2, '0'))
    .join(':');
}

/**
 * The summary: one row per act (virtual time it started and how long it took, what came of it),
 * then each environment's releases in the order they became current.
 */
export function summaryLines(facts: DefaultStoryFacts): string[] {
  const rows: Array<[string, number | undefined, number | undefined, string]> = [];
  const byDeployment = new Map<string, Transition[]>();
  for (const transition of facts.transitions) {
    const list = byDeployment.get(transition.deploymentId) ?? [];
    list.push(transition);
    byDeployment.set(transition.deploymentId, list);
  }
  for (const deployment of [...facts.deployments].sort((a, b) => a.createdAt.localeCompare(b.createdAt))) {
    const seen = byDeployment.get(deployment.id) ?? [];
    const first = (test: (t: Transition) => boolean) => seen.find(test)?.t;
    const start = seen[0]?.t;
    const end = seen.at(-1)?.t;
    const what =
      deployment.mode === 'rollback' ? `rollback to ${deployment.releaseVersion}` : deployment.releaseVersion;
    if (deployment.mode === 'rollback') {
      rows.push([
        `${what} (${deployment.environments.join(', ')}, by ${deployment.actor})`,
        start,
        end,
        deployment.status,
      ]);
      continue;
    }
    const rolling = first((t) => t.status === 'rolling-out');
    const inProduction = first((t) => t.environment === 'production' && t.phase !== 'waiting-approval');
    const asked = first((t) => t.phase === 'waiting-approval');
    const bakeTime = first((t) => t.phase === 'baking');
    const stagingDone = bakeTime ?? asked;
    // An act's outcome is what happened: done when the next act began; otherwise the act is where
    // the deployment ended (its status) or one it never reached.
    const outcome = (began: number | undefined, next: number | undefined, done: string): string =>
      next !== undefined ? done : began !== undefined ? deploymentEnd(deployment) : 'not reached';
    rows.push([`${what}: pushed, baked once`, start, rolling, outcome(start, rolling, 'release recorded')]);
    rows.push([
      `${what}: staging rolls (checkpoints)`,
      rolling,
      stagingDone,
      outcome(rolling, stagingDone, 'staging done'),
    ]);
    rows.push([
      `${what}: time in staging, then approval in Slack`,
      stagingDone,
      inProduction,
      outcome(stagingDone, inProduction, 'approved'),
    ]);
    rows.push([
      `${what}: production blue/green`,
      inProduction,
      end,
      inProduction === undefined ? 'not reached' : deploymentEnd(deployment),
    ]);
  }
  if (facts.drain !== undefined) {
    const waits = facts.drain.records.map((r) => r.waitAt);
    const done = facts.drain.records.map((r) => r.proceedAt ?? Number.NaN);
    rows.push([
      `scale-in ${facts.drain.from} → ${facts.drain.to}, drained by Kiln`,
      Math.min(...waits),
      Math.max(...done),
      `${facts.drain.records.length} hooks completed`,
    ]);
  }
  const width = Math.max(...rows.map(([what]) => what.length), 10);
  const lines = [
    'summary (virtual time)',
    `  ${'what'.padEnd(width)}  start     took      outcome`,
    ...rows.map(
      ([what, from, to, outcome]) =>
        `  ${what.padEnd(width)}  ${clock(from).padEnd(8)}  ${duration(from, to).padEnd(8)}  ${outcome}`,
    ),
    '  releases, in the order each became current:',
    ...facts.end.map(
      (env) =>
        `    ${env.name.padEnd(10)} ${env.releases.map((r) => (r === 'unrecorded' ? `${FIRST} (before Kiln)` : r)).join(' → ')}`,
    ),
  ];
  return lines;
}

/** `failed: bake failed: …` (the reason cut to a summary's width), or the status while it runs. */
function deploymentEnd(deployment: Deployment): string {
  if (deployment.reason === undefined || deployment.status === 'succeeded') return deployment.status;
  const reason = deployment.reason.length > 60 ? `${deployment.reason.slice(0, 59)}…` : deployment.reason;
  return `${deployment.status}: ${reason}`;
}

function duration(from: number | undefined, to: number | undefined): string {
  if (from === undefined || to === undefined || !Number.isFinite(to - from)) return '?';
  const s = Math.round(to - from);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
