/**
 * Lifecycle hooks under load: `drain` (a scale-in of 6 instances behind a load balancer with a
 * 300 s deregistration delay, a 60 s heartbeat timeout and a graceful-stop command: every instance
 * is deregistered and drained, heartbeated and stopped before Kiln completes its hook) and
 * `drain-storm` (1,000 instances terminating at once with AWS's published request rates on, the
 * sandbox's `rateLimits`: every action completed by Kiln before its timeout, none lost).
 *
 * The checks read the timeline (each instance's target leaving `draining` for `unused`, and the
 * group moving it from Terminating:Wait to Terminating:Proceed, which happens when its action is
 * completed: https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks-overview.html)
 * and Kiln's audit (who completed each action, and how).
 */
import { PutLifecycleHookCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { globalTimeoutSeconds } from '../../shared/domain/lifecycle';
import type { ServiceManifest } from '../../shared/domain/manifest/schema';
import type { AuditEntry, KilnStore } from '../../shared/store';
import type { Region } from '../region';
import type { TimedEntry } from '../core/timeline';
import { operatorStore, seedBaseImage } from './bake-kit';
import { storyCatalog } from './catalog';
import { sleep, waitUntilHealthy } from './fleet';
import {
  provisionRolloutEnvironment,
  recordRelease,
  rolloutManifest,
  seedReleaseImage,
  until,
} from './rollout-kit';
import { storySettings, type StorySettings } from './settings';
import { step } from './steps';
import type { Story, StoryCheck, StoryOptions, StoryResult } from './types';

const SERVICE = 'shop';
export const DRAIN_HOOK = 'kiln-drain';

export interface DrainSpec {
  /** Instances before the scale-in, and after it. */
  from: number;
  to: number;
  heartbeatTimeoutSeconds: number;
  stopCommand?: string;
}

/** One terminated instance as the timeline and the audit tell it (virtual seconds). */
export interface DrainRecord {
  instanceId: string;
  waitAt: number;
  proceedAt?: number;
  /** When its target left `draining` (became `unused`). */
  unusedAt?: number;
  audit?: AuditEntry;
}

export interface DrainRun {
  records: DrainRecord[];
  heartbeatTimeoutSeconds: number;
  /** Every API call of the handling (on-lifecycle and lifecycle-steps), by service. */
  calls: Map<string, number>;
  throttled: number;
  groupName: string;
}

/** Scales `spec.from` instances in to `spec.to` with Kiln's drain hook on, and reads what happened. */
export async function runDrain(region: Region, options: StoryOptions, spec: DrainSpec): Promise<DrainRun> {
  const aws = region.clientsFor('story:platform-team', 'operator');
  const store = operatorStore(region);
  const env = await step('setup', async () => {
    const imageId = seedReleaseImage(region, SERVICE, '1.0.0', seedBaseImage(region));
    const made = await provisionRolloutEnvironment(region, aws, {
      service: SERVICE,
      name: 'production',
      size: spec.from,
      imageId,
      settings: options.settings,
      declare: options.declareEnvironment,
    });
    await aws.autoScaling.send(
      new PutLifecycleHookCommand({
        AutoScalingGroupName: made.groupName,
        LifecycleHookName: DRAIN_HOOK,
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        HeartbeatTimeout: spec.heartbeatTimeoutSeconds,
        DefaultResult: 'ABANDON',
      }),
    );
    const manifest = structuredClone(rolloutManifest(region, SERVICE, [made], options.settings));
    const production = manifest.environments[0];
    if (production && spec.stopCommand !== undefined)
      production.lifecycle.drain.stopCommand = spec.stopCommand;
    await store.putServiceManifest(manifest, { actor: 'kiln-cli:platform-team' });
    await recordRelease(store, region, { service: SERVICE, version: '1.0.0', imageId });
    await waitUntilHealthy(aws, [made], 3600);
    options.print(
      `platform: ${made.groupName} with ${spec.from} healthy instances, Kiln's terminate hook ${DRAIN_HOOK}`,
    );
    return made;
  });
  const expected = spec.from - spec.to;
  // Counted as the timeline records them (rescanning a storm's timeline every probe costs seconds).
  let gone = 0;
  const stopCounting = region.engine.timeline.onRecord((e) => {
    if (e.kind === 'state' && e.resource.startsWith(`autoscaling:${env.groupName}/`) && e.to === 'Terminated')
      gone++;
  });
  try {
    await step('scale in', async () => {
      await aws.autoScaling.send(
        new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: env.groupName,
          MinSize: spec.to,
          DesiredCapacity: spec.to,
        }),
      );
      options.print(`scale-in: ${spec.from} → ${spec.to}`);
    });
    await step('drain', async () => {
      const limit = globalTimeoutSeconds(spec.heartbeatTimeoutSeconds) + 600;
      await until('every terminating instance gone', async () => (gone >= expected ? true : undefined), {
        everySeconds: 30,
        limitSeconds: limit,
      });
      // Let the last completions' audit writes land.
      await sleep(60);
    });
  } finally {
    stopCounting();
  }
  const audits = await auditsOf(store);
  const records = drainRecords(region, env.groupName, env.targetGroupArn, audits);
  const { calls, throttled } = handlingCalls(region.engine.timeline.entries);
  return {
    records,
    heartbeatTimeoutSeconds: spec.heartbeatTimeoutSeconds,
    calls,
    throttled,
    groupName: env.groupName,
  };
}

async function auditsOf(store: KilnStore<ServiceManifest>): Promise<AuditEntry[]> {
  const found: AuditEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listAudit(
      { service: SERVICE },
      { limit: 1000, ...(cursor === undefined ? {} : { cursor }) },
    );
    found.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return found.filter((a) => a.action.startsWith('lifecycle.'));
}

export function drainRecords(
  region: Region,
  groupName: string,
  targetGroupArn: string,
  audits: AuditEntry[],
): DrainRecord[] {
  const byInstance = new Map<string, DrainRecord>();
  const prefix = `autoscaling:${groupName}/`;
  for (const entry of region.engine.timeline.entries) {
    if (entry.kind !== 'state') continue;
    if (entry.resource.startsWith(prefix) && entry.to === 'Terminating:Wait') {
      const instanceId = entry.resource.slice(prefix.length);
      byInstance.set(instanceId, { instanceId, waitAt: entry.t });
    }
  }
  for (const entry of region.engine.timeline.entries) {
    if (entry.kind !== 'state') continue;
    if (entry.resource.startsWith(prefix) && entry.to === 'Terminating:Proceed') {
      const record = byInstance.get(entry.resource.slice(prefix.length));
      if (record) record.proceedAt = entry.t;
    } else if (entry.resource.startsWith(`${targetGroupArn}/`) && entry.to === 'unused') {
      const record = byInstance.get(entry.resource.slice(targetGroupArn.length + 1));
      if (record) record.unusedAt = entry.t;
    }
  }
  for (const audit of audits) {
    const instanceId = audit.target.split('/').pop() ?? '';
    const record = byInstance.get(instanceId);
    if (record) record.audit = audit;
  }
  return [...byInstance.values()].sort(
    (a, b) => a.waitAt - b.waitAt || a.instanceId.localeCompare(b.instanceId),
  );
}

const HANDLING_CALLERS = ['onLifecycle', 'lifecycleSteps'];

function handlingCalls(entries: readonly TimedEntry[]): { calls: Map<string, number>; throttled: number } {
  const calls = new Map<string, number>();
  let throttled = 0;
  for (const entry of entries) {
    if (entry.kind !== 'api' || !HANDLING_CALLERS.some((c) => entry.caller.includes(c))) continue;
    const key = entry.service;
    calls.set(key, (calls.get(key) ?? 0) + 1);
    if (!entry.ok && /throttl|rate exceeded|limit exceeded/i.test(entry.error ?? '')) throttled += 1;
  }
  return { calls, throttled };
}

function outcomeOf(record: DrainRecord): { result?: unknown; outcome?: unknown } {
  const after = record.audit?.after;
  return typeof after === 'object' && after !== null
    ? (after as { result?: unknown; outcome?: unknown })
    : {};
}

/** The rules both stories hold: drained before completed, completed by Kiln before the timeout, none lost. */
export function drainChecks(run: DrainRun, expected: number): StoryCheck[] {
  const { records } = run;
  const global = globalTimeoutSeconds(run.heartbeatTimeoutSeconds);
  const early = records.filter(
    (r) => r.proceedAt === undefined || r.unusedAt === undefined || r.proceedAt < r.unusedAt,
  );
  const late = records.filter((r) => r.proceedAt === undefined || r.proceedAt - r.waitAt >= global);
  const notByKiln = records.filter((r) => {
    const { result, outcome } = outcomeOf(r);
    return result !== 'CONTINUE' || outcome !== 'completed';
  });
  const list = (rs: DrainRecord[]) =>
    rs
      .slice(0, 5)
      .map((r) => r.instanceId)
      .join(', ');
  return [
    {
      name: `${expected} instances waited on the terminate hook`,
      ok: records.length === expected,
      detail: `${records.length} reached Terminating:Wait`,
    },
    {
      name: 'no action completed before its targets left draining',
      ok: early.length === 0,
      detail:
        early.length === 0
          ? `all ${records.length} drained first`
          : `${early.length} completed early: ${list(early)}`,
    },
    {
      name: 'every action completed before its timeout',
      ok: late.length === 0,
      detail:
        late.length === 0
          ? `longest wait ${Math.round(Math.max(0, ...records.map((r) => (r.proceedAt ?? 0) - r.waitAt)))} s of ${global} s`
          : `${late.length} waited too long: ${list(late)}`,
    },
    {
      name: 'Kiln completed every action CONTINUE (none lost, none left to the timeout)',
      ok: notByKiln.length === 0,
      detail:
        notByKiln.length === 0
          ? `${records.length} audited completions`
          : `${notByKiln.length} not completed by Kiln: ${list(notByKiln)}`,
    },
  ];
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/** Completion times (virtual seconds from Terminating:Wait) and API calls per instance. */
export function drainFigures(run: DrainRun): Record<string, number> {
  const waits = run.records.flatMap((r) => (r.proceedAt === undefined ? [] : [r.proceedAt - r.waitAt]));
  const total = [...run.calls.values()].reduce((a, b) => a + b, 0);
  const perInstance = (n: number) => Math.round((n / Math.max(1, run.records.length)) * 100) / 100;
  return {
    instances: run.records.length,
    'completion p50 (s)': percentile(waits, 50),
    'completion p99 (s)': percentile(waits, 99),
    'completion max (s)': Math.max(0, ...waits),
    'API calls per instance': perInstance(total),
    ...Object.fromEntries(
      [...run.calls]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([service, n]) => [`calls per instance: ${service}`, perInstance(n)]),
    ),
    'throttled calls': run.throttled,
  };
}

const DRAIN_SETTINGS: StorySettings = storySettings({
  strategy: {
    type: 'rolling',
    minHealthyPercentage: 50,
    maxHealthyPercentage: 100,
    instanceWarmupSeconds: 60,
  },
  targetGroup: { deregistrationDelaySeconds: 300 },
});

export const drainStory: Story = {
  name: 'drain',
  description: storyCatalog.drain,
  settings: DRAIN_SETTINGS,
  async run(region: Region, options: StoryOptions): Promise<StoryResult> {
    const run = await runDrain(region, options, {
      from: 8,
      to: 2,
      heartbeatTimeoutSeconds: 60,
      stopCommand: 'systemctl stop shop',
    });
    const stops = run.records.filter((r) => {
      const after = r.audit?.after as { stop?: unknown; heartbeats?: unknown } | undefined;
      return after?.stop === 'Success' && typeof after.heartbeats === 'number' && after.heartbeats > 0;
    });
    return {
      checks: [
        ...drainChecks(run, 6),
        {
          name: 'each instance heartbeated through the 300 s drain and stopped gracefully',
          ok: stops.length === run.records.length,
          detail: `${stops.length} of ${run.records.length} with heartbeats and a successful stop command`,
        },
      ],
      figures: drainFigures(run),
    };
  },
};

const STORM_SETTINGS: StorySettings = storySettings({
  strategy: {
    type: 'rolling',
    minHealthyPercentage: 50,
    maxHealthyPercentage: 100,
    instanceWarmupSeconds: 60,
  },
  targetGroup: { deregistrationDelaySeconds: 120, healthCheckIntervalSeconds: 30 },
});

/**
 * A drain storm of `instances` terminating at once. The catalog's `drain-storm` is 1,000 (the
 * bench's figure, bench/drain.ts); the test suite runs a smaller storm, still past the request
 * rates, where the same rules must hold.
 */
export function drainStorm(instances: number): Story {
  return {
    name: 'drain-storm',
    description: storyCatalog['drain-storm'],
    settings: STORM_SETTINGS,
    // EC2's and ELB's published request rates (sandbox/core/faults.ts): the storm's Describe calls
    // share ELB's 10-per-second bucket.
    // A thousand handlings wake at the same virtual instants: on a loaded machine one quiet moment
    // can take longer than the scheduler's default 10 s of wall time to come, which is not a hang.
    region: { rateLimits: true, limits: { maxSteps: 5_000_000, maxWallMs: 120_000 } },
    async run(region: Region, options: StoryOptions): Promise<StoryResult> {
      const run = await runDrain(region, options, { from: instances, to: 0, heartbeatTimeoutSeconds: 300 });
      return { checks: drainChecks(run, instances), figures: drainFigures(run) };
    },
  };
}

export const drainStormStory: Story = drainStorm(1000);
