/**
 * What the rollout use case tests share: Kiln's real store on dynalite (a fresh table per test),
 * a hand-driven clock, and fake ports (plain objects typed by the ports of
 * shared/usecases/rollout/deps.ts) over a small model of one Region's groups, launch templates,
 * refreshes and alarms. The fakes record every mutation, so a test asserts what Kiln asked AWS.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseManifest, type ServiceManifest } from '../../../../shared/domain/manifest/schema';
import { KilnStore } from '../../../../shared/store';
import type {
  AlarmPort,
  AutoScalingPort,
  Capacity,
  GroupDescription,
  LaunchTemplatePort,
  LaunchTemplateVersionRef,
  RefreshPreferences,
  RefreshStatus,
  RolloutDeps,
  RolloutState,
} from '../../../../shared/usecases/rollout/deps';
import type { LocalDynamo } from '../../../support/dynalite';

export const T0 = Date.parse('2026-03-01T12:00:00.000Z');
export const LT = 'lt-0123456789abcdef0';
export const AMI_EAST = 'ami-0aaaaaaaaaaaaaaa1';
export const AMI_WEST = 'ami-0bbbbbbbbbbbbbbb2';
export const OLD_AMI = 'ami-0ccccccccccccccc3';

/** checkout's example manifest: staging (us-east-1, rolling) then production (us-west-2, approval). */
export function checkoutManifest(
  change: (doc: { environments: Array<Record<string, unknown>> }) => void = () => undefined,
): ServiceManifest {
  const doc = parse(readFileSync(join(__dirname, '../../../../examples/checkout.yml'), 'utf8')) as {
    environments: Array<Record<string, unknown>>;
  };
  change(doc);
  return parseManifest(doc);
}

export interface Call {
  operation: string;
  input: unknown;
}

/** One Region's Auto Scaling, launch templates and alarms, as the ports see them. */
export class FakeRegion {
  readonly calls: Call[] = [];
  readonly groups = new Map<string, GroupDescription>();
  /** Launch template versions: id → version → image. */
  readonly versions = new Map<string, Map<number, string>>();
  readonly refreshes: Array<RefreshStatus & { group: string; preferences?: RefreshPreferences }> = [];
  readonly alarmHistory: Array<{ name: string; at: number; reason?: string }> = [];
  private tokens = new Map<string, LaunchTemplateVersionRef>();

  addGroup(name: string, options: { version?: string; capacity?: Capacity; instances?: number } = {}): void {
    const version = options.version ?? '1';
    const capacity = options.capacity ?? { min: 2, max: 6, desired: 4 };
    if (!this.versions.has(LT)) this.versions.set(LT, new Map([[1, OLD_AMI]]));
    this.groups.set(name, {
      name,
      arn: `arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:uuid:autoScalingGroupName/${name}`,
      launchTemplate: { id: LT, version },
      capacity,
      subnets: ['subnet-1'],
      healthCheckType: 'ELB',
      healthCheckGracePeriod: 60,
      targetGroupArns: [],
      tags: { 'kiln:managed': 'true' },
      suspendedProcesses: [],
      instances: Array.from({ length: options.instances ?? capacity.desired }, (_, index) => ({
        instanceId: `i-${name}-${index}`,
        lifecycleState: 'InService',
        healthStatus: 'Healthy',
        launchTemplateVersion: version === '$Latest' ? '1' : version,
        protectedFromScaleIn: false,
      })),
    });
  }

  /** Moves the group's instances (or some of them) to a launch template version. */
  runInstancesOn(group: string, version: number, count?: number): void {
    const found = this.groups.get(group);
    if (!found) throw new Error(`no group ${group}`);
    found.instances.slice(0, count ?? found.instances.length).forEach((instance) => {
      instance.launchTemplateVersion = String(version);
    });
  }

  setRefresh(refreshId: string, change: Partial<RefreshStatus>): void {
    const refresh = this.refreshes.find((r) => r.refreshId === refreshId);
    if (!refresh) throw new Error(`no refresh ${refreshId}`);
    Object.assign(refresh, change);
  }

  readonly autoScaling: AutoScalingPort = {
    describeGroup: async (name) => structuredClone(this.groups.get(name)),
    findGroupsByTags: async () => [],
    // Blue/green's (main's port additions): the rolling steps tested here never call them.
    tagGroup: async () => undefined,
    createGroup: async () => 'created',
    deleteGroup: async () => 'deleted',
    updateGroup: async (name, change) => {
      this.calls.push({ operation: 'updateGroup', input: { name, ...change } });
      const group = this.groups.get(name);
      if (!group) throw new Error(`no group ${name}`);
      if (change.capacity) group.capacity = change.capacity;
      if (change.launchTemplate)
        group.launchTemplate = {
          id: change.launchTemplate.id,
          version: String(change.launchTemplate.version),
        };
    },
    suspendProcesses: async () => undefined,
    resumeProcesses: async () => undefined,
    attachTargetGroups: async () => undefined,
    detachTargetGroups: async () => undefined,
    lifecycleHooks: async () => [],
    scalingPolicies: async () => [],
    putScalingPolicy: async () => undefined,
    startRefresh: async (input) => {
      this.calls.push({ operation: 'startRefresh', input });
      const active = this.refreshes.find(
        (r) => r.group === input.group && ['Pending', 'InProgress'].includes(r.status),
      );
      if (active) return { refreshId: active.refreshId, outcome: 'already-started' };
      const refreshId = `refresh-${this.refreshes.length + 1}`;
      this.refreshes.push({
        refreshId,
        group: input.group,
        status: 'Pending',
        percentageComplete: 0,
        desiredLaunchTemplate: { id: input.launchTemplate.id, version: String(input.launchTemplate.version) },
        preferences: input.preferences,
      });
      return { refreshId, outcome: 'started' };
    },
    describeRefresh: async (group, refreshId) => {
      const found = this.refreshes.find((r) => r.group === group && r.refreshId === refreshId);
      if (!found) return undefined;
      const { group: _group, preferences: _preferences, ...status } = found;
      return { ...status };
    },
    activeRefresh: async (group) => {
      const found = this.refreshes.find(
        (r) =>
          r.group === group && ['Pending', 'InProgress', 'Baking', 'RollbackInProgress'].includes(r.status),
      );
      if (!found) return undefined;
      const { group: _group, preferences: _preferences, ...status } = found;
      return { ...status };
    },
    rollbackRefresh: async (group) => {
      this.calls.push({ operation: 'rollbackRefresh', input: { group } });
      const found = this.refreshes.find(
        (r) => r.group === group && ['Pending', 'InProgress', 'Baking'].includes(r.status),
      );
      if (!found) return 'none';
      found.status = 'RollbackInProgress';
      return { refreshId: found.refreshId };
    },
  };

  readonly launchTemplates: LaunchTemplatePort = {
    createVersion: async (input) => {
      this.calls.push({ operation: 'createVersion', input });
      const known = this.tokens.get(input.clientToken);
      if (known) return known;
      const versions = this.versions.get(input.launchTemplateId);
      if (!versions) throw new Error(`no launch template ${input.launchTemplateId}`);
      const version = Math.max(...versions.keys()) + 1;
      versions.set(version, input.imageId);
      const ref = { id: input.launchTemplateId, version };
      this.tokens.set(input.clientToken, ref);
      return ref;
    },
    resolveVersion: async (id, version) => {
      const versions = this.versions.get(id);
      if (!versions) throw new Error(`no launch template ${id}`);
      if (version === '$Latest') return Math.max(...versions.keys());
      if (version === '$Default') return 1;
      return Number(version);
    },
    describeVersion: async (id, version) => {
      const image = this.versions.get(id)?.get(version);
      return image === undefined ? undefined : { version, imageId: image };
    },
  };

  readonly alarms: AlarmPort = {
    states: async () => [],
    // Blue/green's (main's port additions): the rolling steps tested here never call them.
    alarmsWithAction: async () => [],
    mirrorAlarmAction: async () => undefined,
    removeAlarmAction: async () => undefined,
    wentIntoAlarm: async (names, since) => {
      this.calls.push({ operation: 'wentIntoAlarm', input: { names, since } });
      return this.alarmHistory.filter((entry) => names.includes(entry.name) && entry.at >= since);
    },
  };
}

export interface World {
  store: KilnStore<ServiceManifest>;
  deps: RolloutDeps;
  regions: Record<string, FakeRegion>;
  /** Tokens woken, in order. */
  woken: Array<{ token: string; output: unknown }>;
  clock: { now: number };
  advance(ms: number): void;
  manifestVersion: number;
  /** A deployment of checkout@version (status moved to `status`) and the execution state for it. */
  deployment(options?: {
    id?: string;
    version?: string;
    status?: 'queued' | 'baking';
    environments?: string[];
    mode?: 'deploy' | 'rollback';
  }): Promise<RolloutState>;
}

export async function world(
  dynamo: LocalDynamo,
  manifest: ServiceManifest = checkoutManifest(),
): Promise<World> {
  const tableName = await dynamo.createTable();
  const clock = { now: T0 };
  let drawn = 0;
  const store = new KilnStore<ServiceManifest>({
    client: dynamo.client,
    tableName,
    now: () => clock.now,
    ids: { next: () => `writer-${++drawn}` },
  });
  const regions: Record<string, FakeRegion> = {
    'us-east-1': new FakeRegion(),
    'us-west-2': new FakeRegion(),
  };
  const woken: World['woken'] = [];
  const regionOf = (name: string): FakeRegion => {
    const region = regions[name];
    if (!region) throw new Error(`no fake Region ${name}`);
    return region;
  };
  const deps: RolloutDeps = {
    store,
    autoScaling: (name) => regionOf(name).autoScaling,
    launchTemplates: (name) => regionOf(name).launchTemplates,
    loadBalancing: () => ({ targetHealth: async () => [], deregistrationDelaySeconds: async () => 300 }),
    alarms: (name) => regionOf(name).alarms,
    wake: async (token, output) => {
      woken.push({ token, output });
    },
    now: () => clock.now,
    actor: 'deploy:rollout',
  };
  const { version: manifestVersion } = await store.putServiceManifest(manifest, { actor: 'test' });
  return {
    store,
    deps,
    regions,
    woken,
    clock,
    advance: (ms) => void (clock.now += ms),
    manifestVersion,
    async deployment(options = {}) {
      const id = options.id ?? 'd-1';
      const version = options.version ?? '1.4.2';
      await store.createDeployment({
        id,
        service: 'checkout',
        releaseVersion: version,
        environments: options.environments?.length ? options.environments : ['staging', 'production'],
        trigger: 'artifact',
        actor: 'test',
      });
      const status = options.status ?? 'baking';
      if (status === 'baking') await store.moveDeployment(id, { from: 'queued', to: 'baking' });
      return {
        deploymentId: id,
        service: 'checkout',
        version,
        manifestVersion,
        release: { version, amis: { 'us-east-1': AMI_EAST, 'us-west-2': AMI_WEST } },
        ...(options.environments === undefined ? {} : { environments: options.environments }),
        ...(options.mode === undefined ? {} : { mode: options.mode }),
      };
    },
  };
}
