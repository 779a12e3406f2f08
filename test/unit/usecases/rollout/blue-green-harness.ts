/**
 * Fakes of the rollout's ports (plain objects typed by shared/usecases/rollout/deps.ts) and a real
 * KilnStore on dynalite, for the blue/green use cases' unit tests. Every test builds its own.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseManifest, type ServiceManifest } from '../../../../shared/domain/manifest/schema';
import { KilnStore } from '../../../../shared/store';
import type {
  AlarmPort,
  AutoScalingPort,
  Capacity,
  EnvironmentRun,
  GroupDescription,
  GroupInstance,
  GroupSpec,
  LifecycleHookSpec,
  LoadBalancingPort,
  RolloutDeps,
  RolloutState,
  ScalingPolicySpec,
  TargetHealthEntry,
  TargetState,
} from '../../../../shared/usecases/rollout/deps';
import { ROLLOUT_LEASE_MS } from '../../../../shared/usecases/rollout/progress';
import type { LocalDynamo } from '../../../support/dynalite';

export const T0 = Date.parse('2026-03-01T12:00:00.000Z');
export const SERVICE = 'ledger';
export const ENV = 'production';
export const REGION = 'eu-central-1';
export const BLUE = 'ledger-production';
export const GREEN = 'ledger-production-kiln-2.0.0';
export const TG_API =
  'arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/ledger-prod-api/3c4d5e6f7a8b9c0d';
export const TG_ADMIN =
  'arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/ledger-prod-admin/4d5e6f7a8b9c0d1e';
export const DEPLOYMENT = 'D-BLUEGREEN-1';

/** examples/ledger.yml: production is blue/green, 2 target groups, gate 120 s / 1200 s, keeps 2 groups. */
export const ledger = (): ServiceManifest =>
  parseManifest(parseYaml(readFileSync(join(__dirname, '../../../../examples/ledger.yml'), 'utf8')));

export type Call = [string, string, ...unknown[]];

interface FakeGroup extends GroupDescription {
  hooks: LifecycleHookSpec[];
  policies: ScalingPolicySpec[];
}

/** An in-memory Auto Scaling: what the use cases asked for is in `calls`, in order. */
export class FakeAutoScaling implements AutoScalingPort {
  readonly groups = new Map<string, FakeGroup>();
  readonly calls: Call[] = [];
  private next = 1;

  addGroup(name: string, overrides: Partial<FakeGroup> = {}): FakeGroup {
    const group: FakeGroup = {
      name,
      arn: `arn:aws:autoscaling:${REGION}:123456789012:autoScalingGroup:x:autoScalingGroupName/${name}`,
      launchTemplate: { id: 'lt-0abc', version: '7' },
      capacity: { min: 2, max: 6, desired: 3 },
      subnets: ['subnet-a', 'subnet-b'],
      healthCheckType: 'ELB',
      healthCheckGracePeriod: 90,
      defaultInstanceWarmup: 60,
      targetGroupArns: [],
      tags: {},
      suspendedProcesses: [],
      instances: [],
      hooks: [],
      policies: [],
      ...overrides,
    };
    this.groups.set(name, group);
    return group;
  }

  /** Puts `count` instances in `state` into the group (ids i-<group>-<n>). */
  launch(name: string, count: number, lifecycleState = 'InService', healthStatus = 'Healthy'): string[] {
    const group = this.must(name);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const instance: GroupInstance = {
        instanceId: `i-${this.next++}`,
        lifecycleState,
        healthStatus,
        protectedFromScaleIn: false,
      };
      group.instances.push(instance);
      ids.push(instance.instanceId);
    }
    return ids;
  }

  must(name: string): FakeGroup {
    const group = this.groups.get(name);
    if (!group) throw new Error(`fake: no group ${name}`);
    return group;
  }

  callsOf(op: string): Call[] {
    return this.calls.filter((call) => call[0] === op);
  }

  async describeGroup(name: string): Promise<GroupDescription | undefined> {
    const group = this.groups.get(name);
    return group === undefined ? undefined : structuredClone(group);
  }
  async findGroupsByTags(tags: Record<string, string>): Promise<GroupDescription[]> {
    return [...this.groups.values()]
      .filter((group) => Object.entries(tags).every(([key, value]) => group.tags[key] === value))
      .map((group) => structuredClone(group));
  }
  async createGroup(spec: GroupSpec): Promise<'created' | 'already-exists'> {
    this.calls.push(['createGroup', spec.name, structuredClone(spec)]);
    if (this.groups.has(spec.name)) return 'already-exists';
    this.addGroup(spec.name, {
      launchTemplate: { id: spec.launchTemplate.id, version: String(spec.launchTemplate.version) },
      capacity: { ...spec.capacity },
      subnets: [...spec.subnets],
      healthCheckType: spec.healthCheckType,
      healthCheckGracePeriod: spec.healthCheckGracePeriod,
      ...(spec.defaultInstanceWarmup !== undefined
        ? { defaultInstanceWarmup: spec.defaultInstanceWarmup }
        : {}),
      targetGroupArns: [...spec.targetGroupArns],
      tags: { ...spec.tags },
      hooks: structuredClone(spec.lifecycleHooks),
    });
    return 'created';
  }
  async deleteGroup(name: string): Promise<'deleted' | 'already-gone'> {
    this.calls.push(['deleteGroup', name]);
    const group = this.groups.get(name);
    if (!group) return 'already-gone';
    group.status = 'Delete in progress';
    return 'deleted';
  }
  async updateGroup(
    name: string,
    change: { launchTemplate?: { id: string; version: number }; capacity?: Capacity },
  ) {
    this.calls.push(['updateGroup', name, structuredClone(change)]);
    const group = this.must(name);
    if (change.capacity) group.capacity = { ...change.capacity };
    if (change.launchTemplate)
      group.launchTemplate = { id: change.launchTemplate.id, version: String(change.launchTemplate.version) };
  }
  async suspendProcesses(name: string, processes: readonly string[]) {
    this.calls.push(['suspendProcesses', name, [...processes]]);
    const group = this.must(name);
    group.suspendedProcesses = [...new Set([...group.suspendedProcesses, ...processes])];
  }
  async resumeProcesses(name: string, processes: readonly string[]) {
    this.calls.push(['resumeProcesses', name, [...processes]]);
    const group = this.must(name);
    group.suspendedProcesses = group.suspendedProcesses.filter((process) => !processes.includes(process));
  }
  async attachTargetGroups(name: string, arns: readonly string[]) {
    this.calls.push(['attachTargetGroups', name, [...arns]]);
    const group = this.must(name);
    group.targetGroupArns = [...new Set([...group.targetGroupArns, ...arns])];
  }
  async detachTargetGroups(name: string, arns: readonly string[]) {
    this.calls.push(['detachTargetGroups', name, [...arns]]);
    const group = this.must(name);
    group.targetGroupArns = group.targetGroupArns.filter((arn) => !arns.includes(arn));
  }
  async lifecycleHooks(name: string): Promise<LifecycleHookSpec[]> {
    return structuredClone(this.must(name).hooks);
  }
  async scalingPolicies(name: string): Promise<ScalingPolicySpec[]> {
    return structuredClone(this.must(name).policies);
  }
  async putScalingPolicy(name: string, policy: ScalingPolicySpec) {
    this.calls.push(['putScalingPolicy', name, policy.name]);
    const group = this.must(name);
    const { arn: _theirs, ...copy } = structuredClone(policy);
    group.policies = [
      ...group.policies.filter((p) => p.name !== policy.name),
      { ...copy, arn: policyArn(name, policy.name) },
    ];
  }
  async tagGroup(name: string, tags: Record<string, string>) {
    this.calls.push(['tagGroup', name, { ...tags }]);
    const group = this.must(name);
    group.tags = { ...group.tags, ...tags };
  }
  startRefresh(): never {
    throw new Error('blue/green never refreshes');
  }
  describeRefresh(): never {
    throw new Error('blue/green never refreshes');
  }
  activeRefresh(): never {
    throw new Error('blue/green never refreshes');
  }
  rollbackRefresh(): never {
    throw new Error('blue/green never refreshes');
  }
}

/** Target health and deregistration delays (300 s, ELB's default, unless set) per target group, set by the test. */
export class FakeTargets implements LoadBalancingPort {
  readonly health = new Map<string, TargetHealthEntry[]>();
  readonly delays = new Map<string, number>();
  /** Target groups whose attributes were read, in order. */
  readonly attributeReads: string[] = [];
  set(arn: string, instanceIds: readonly string[], state: TargetState): void {
    const others = (this.health.get(arn) ?? []).filter((entry) => !instanceIds.includes(entry.instanceId));
    this.health.set(arn, [...others, ...instanceIds.map((instanceId) => ({ instanceId, state }))]);
  }
  remove(arn: string, instanceIds: readonly string[]): void {
    this.health.set(
      arn,
      (this.health.get(arn) ?? []).filter((entry) => !instanceIds.includes(entry.instanceId)),
    );
  }
  async targetHealth(arn: string): Promise<TargetHealthEntry[]> {
    return structuredClone(this.health.get(arn) ?? []);
  }
  async deregistrationDelaySeconds(arn: string): Promise<number> {
    this.attributeReads.push(arn);
    return this.delays.get(arn) ?? 300;
  }
}

/** The ARN Auto Scaling gives a group's policy (fake, but shaped like AWS's). */
export const policyArn = (group: string, name: string): string =>
  `arn:aws:autoscaling:${REGION}:123456789012:scalingPolicy:x:autoScalingGroupName/${group}:policyName/${name}`;

export class FakeAlarms implements AlarmPort {
  readonly history: Array<{ name: string; at: number; reason?: string }> = [];
  /** Each alarm's action lists. */
  readonly actions = new Map<string, { ok: string[]; alarm: string[]; insufficient: string[] }>();
  async alarmsWithAction(action: string): Promise<string[]> {
    return [...this.actions]
      .filter(([, lists]) => [...lists.ok, ...lists.alarm, ...lists.insufficient].includes(action))
      .map(([name]) => name)
      .sort();
  }
  async mirrorAlarmAction(alarmName: string, existing: string, added: string): Promise<void> {
    const lists = this.actions.get(alarmName);
    if (!lists) return;
    for (const list of [lists.ok, lists.alarm, lists.insufficient]) {
      if (list.includes(existing) && !list.includes(added)) list.push(added);
    }
  }
  async removeAlarmAction(alarmName: string, action: string): Promise<void> {
    const lists = this.actions.get(alarmName);
    if (!lists) return;
    for (const key of ['ok', 'alarm', 'insufficient'] as const)
      lists[key] = lists[key].filter((a) => a !== action);
  }
  async states() {
    return [];
  }
  async wentIntoAlarm(names: readonly string[], since: number) {
    return this.history.filter((entry) => names.includes(entry.name) && entry.at >= since);
  }
}

export interface Harness {
  store: KilnStore<ServiceManifest>;
  asg: FakeAutoScaling;
  targets: FakeTargets;
  alarms: FakeAlarms;
  woken: Array<{ token: string; output: unknown }>;
  deps: RolloutDeps;
  clock: { now: number };
  advance(seconds: number): void;
  /** The execution state at create-green: prepare-environment's `$.env` for a 1.0.0 → 2.0.0 rollout. */
  state(env?: Partial<EnvironmentRun>, rest?: Partial<RolloutState>): RolloutState;
}

/** A fresh table, manifest, deployment and lock for each test; blue serves 3 healthy instances in both target groups. */
export async function harness(dynamo: LocalDynamo): Promise<Harness> {
  const clock = { now: T0 };
  const tableName = await dynamo.createTable();
  let drawn = 0;
  const store = new KilnStore<ServiceManifest>({
    client: dynamo.client,
    tableName,
    now: () => clock.now,
    ids: { next: () => `id-${++drawn}` },
  });
  await store.putServiceManifest(ledger(), { actor: 'test' });
  await store.createDeployment({
    id: DEPLOYMENT,
    service: SERVICE,
    releaseVersion: '2.0.0',
    environments: [ENV],
    trigger: 'cli',
    actor: 'test',
  });
  await store.acquireLock(SERVICE, ENV, {
    holder: DEPLOYMENT,
    deploymentId: DEPLOYMENT,
    leaseMs: ROLLOUT_LEASE_MS,
  });
  const asg = new FakeAutoScaling();
  const targets = new FakeTargets();
  const alarms = new FakeAlarms();
  // The platform's alarm invokes blue's step policy; Auto Scaling's own alarm invokes the target tracking one.
  alarms.actions.set('ledger-queue-deep', {
    ok: [],
    alarm: [policyArn(BLUE, 'queue-out')],
    insufficient: [],
  });
  alarms.actions.set('TargetTracking-ledger-production-AlarmHigh', {
    ok: [],
    alarm: [policyArn(BLUE, 'cpu-50')],
    insufficient: [],
  });
  asg.addGroup(BLUE, {
    targetGroupArns: [TG_API, TG_ADMIN],
    tags: { team: 'finance-platform', 'kiln:managed': 'true' },
    hooks: [
      { name: 'drain', transition: 'autoscaling:EC2_INSTANCE_TERMINATING', heartbeatTimeoutSeconds: 300 },
    ],
    policies: [
      {
        name: 'cpu-50',
        policyType: 'TargetTrackingScaling',
        parameters: { TargetValue: 50 },
        arn: policyArn(BLUE, 'cpu-50'),
      },
      {
        name: 'queue-out',
        policyType: 'StepScaling',
        parameters: { AdjustmentType: 'ChangeInCapacity' },
        arn: policyArn(BLUE, 'queue-out'),
      },
    ],
  });
  const blueIds = asg.launch(BLUE, 3);
  targets.set(TG_API, blueIds, 'healthy');
  targets.set(TG_ADMIN, blueIds, 'healthy');
  const woken: Array<{ token: string; output: unknown }> = [];
  const deps: RolloutDeps = {
    store,
    autoScaling: () => asg,
    launchTemplates: () => {
      throw new Error('blue/green makes no launch template version');
    },
    loadBalancing: () => targets,
    alarms: () => alarms,
    wake: async (token, output) => void woken.push({ token, output }),
    now: () => clock.now,
    actor: 'deploy:rollout',
  };
  const state = (env: Partial<EnvironmentRun> = {}, rest: Partial<RolloutState> = {}): RolloutState => ({
    deploymentId: DEPLOYMENT,
    service: SERVICE,
    version: '2.0.0',
    manifestVersion: 1,
    rollout: { mode: 'deploy', environments: [ENV], index: 0, done: false },
    env: {
      name: ENV,
      region: REGION,
      strategy: 'blue-green',
      before: {
        release: '1.0.0',
        group: BLUE,
        launchTemplate: { id: 'lt-0abc', version: 7 },
        capacity: { min: 2, max: 6, desired: 3 },
        since: new Date(T0 - 86_400_000).toISOString(),
      },
      target: {
        release: '2.0.0',
        imageId: 'ami-0new',
        launchTemplate: { id: 'lt-0abc', version: 8 },
        group: GREEN,
        capacity: { min: 2, max: 6, desired: 3 },
      },
      targetGroupArns: [TG_API, TG_ADMIN],
      startedAt: T0,
      ...env,
    },
    ...rest,
  });
  return {
    store,
    asg,
    targets,
    alarms,
    woken,
    deps,
    clock,
    advance: (seconds) => void (clock.now += seconds * 1000),
    state,
  };
}
