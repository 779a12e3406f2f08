/**
 * Small in-file stand-ins for the EC2 and ELBv2 sims that Auto Scaling consumes: instances run after
 * `bootSeconds`, targets turn healthy `healthySeconds` after registration when the app is healthy,
 * and deregistration drains for `drainSeconds`. Everything runs on the test context's clock.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AutoScalingGroup, AutoScalingGroupsType, Instance } from '@aws-sdk/client-auto-scaling';
import { AutoScalingSim } from '../../../sandbox/services/autoscaling';
import type { AutoScalingSimOptions } from '../../../sandbox/services/autoscaling';
import type { SimContext } from '../../../sandbox/core/context';
import { createTestContext } from '../../../sandbox/core/testing';
import type { TestSimContext } from '../../../sandbox/core/testing';
import type {
  AppBehaviour,
  Ec2Fleet,
  ElbFleet,
  InstanceState,
  LaunchRequest,
  ResolvedLaunchTemplate,
  SimInstance,
  TargetHealthState,
} from '../../../sandbox/services/fleet';

export interface FakeTemplate {
  id: string;
  name: string;
  /** version number → AMI id */
  versions: Record<number, string>;
  defaultVersion: number;
}

type Listener = (instance: SimInstance, from: InstanceState | null, to: InstanceState) => void;

export class FakeEc2 implements Ec2Fleet {
  bootSeconds = 30;
  shutdownSeconds = 5;
  /** Launch template versions whose application never passes health checks. */
  readonly failingVersions = new Set<number>();
  /** When true, new instances fail to boot (pending → terminated). */
  failBoot = false;
  readonly instances = new Map<string, SimInstance>();
  readonly launches: Array<{ at: number; instanceId: string; version: number }> = [];
  readonly terminations: Array<{ at: number; instanceId: string }> = [];
  private readonly listeners: Listener[] = [];
  private readonly templates: FakeTemplate[];

  constructor(
    private readonly ctx: SimContext,
    templates: FakeTemplate[],
  ) {
    this.templates = templates;
  }

  resolveLaunchTemplate(ref: {
    launchTemplateId?: string;
    launchTemplateName?: string;
    version?: string;
  }): ResolvedLaunchTemplate {
    const template = this.templates.find(
      (t) => t.id === ref.launchTemplateId || t.name === ref.launchTemplateName,
    );
    if (!template) {
      throw new Error(
        `The specified launch template, with template ${ref.launchTemplateId ? `ID ${ref.launchTemplateId}` : `name ${ref.launchTemplateName ?? ''}`}, does not exist.`,
      );
    }
    const numbers = Object.keys(template.versions).map(Number);
    const version =
      ref.version === undefined || ref.version === '$Default'
        ? template.defaultVersion
        : ref.version === '$Latest'
          ? Math.max(...numbers)
          : Number(ref.version);
    const imageId = template.versions[version];
    if (imageId === undefined) throw new Error(`Launch template version ${ref.version ?? ''} does not exist`);
    return {
      launchTemplateId: template.id,
      launchTemplateName: template.name,
      version,
      imageId,
      instanceType: 't3.micro',
      securityGroupIds: [],
      tags: {},
    };
  }

  launch(request: LaunchRequest): SimInstance {
    const instance: SimInstance = {
      instanceId: this.ctx.ids.next('i'),
      imageId: request.launchTemplate.imageId,
      instanceType: request.launchTemplate.instanceType,
      state: 'pending',
      availabilityZone: request.subnetId === 'subnet-b' ? 'us-east-1b' : 'us-east-1a',
      subnetId: request.subnetId,
      privateIpAddress: '10.0.0.1',
      launchTime: this.ctx.clock.now(),
      launchTemplate: {
        launchTemplateId: request.launchTemplate.launchTemplateId,
        launchTemplateName: request.launchTemplate.launchTemplateName,
        version: request.launchTemplate.version,
      },
      tags: { ...request.tags },
    };
    this.instances.set(instance.instanceId, instance);
    this.launches.push({
      at: this.ctx.clock.now(),
      instanceId: instance.instanceId,
      version: request.launchTemplate.version,
    });
    const failBoot = this.failBoot;
    this.ctx.clock.setTimeout(() => {
      if (instance.state !== 'pending') return;
      if (failBoot) this.move(instance, 'terminated');
      else {
        instance.runningSince = this.ctx.clock.now();
        this.move(instance, 'running');
      }
    }, this.bootSeconds * 1000);
    return instance;
  }

  terminate(instanceId: string): void {
    const instance = this.instances.get(instanceId);
    if (!instance || instance.state === 'terminated' || instance.state === 'shutting-down') return;
    this.terminations.push({ at: this.ctx.clock.now(), instanceId });
    this.move(instance, 'shutting-down');
    this.ctx.clock.setTimeout(() => this.move(instance, 'terminated'), this.shutdownSeconds * 1000);
  }

  get(instanceId: string): SimInstance | undefined {
    return this.instances.get(instanceId);
  }

  stateOf(instanceId: string): InstanceState | undefined {
    return this.instances.get(instanceId)?.state;
  }

  /** The tests change instances directly, so every read is a new version: nothing is reused. */
  private version = 0;
  instancesVersion(): number {
    return ++this.version;
  }

  onStateChange(listener: Listener): void {
    this.listeners.push(listener);
  }

  appHealth(instanceId: string): 'healthy' | 'unhealthy' | 'starting' | 'down' {
    const instance = this.instances.get(instanceId);
    if (!instance || instance.state !== 'running') return 'down';
    const version = instance.launchTemplate?.version;
    return version !== undefined && this.failingVersions.has(version) ? 'unhealthy' : 'healthy';
  }

  behaviourOf(): AppBehaviour {
    return { appStartSeconds: 0, mode: 'healthy', errorRate: 0, latencySeconds: 0.05 };
  }

  private move(instance: SimInstance, to: InstanceState): void {
    const from = instance.state;
    instance.state = to;
    for (const listener of this.listeners) listener(instance, from, to);
  }

  /** Instances currently pending or running. */
  live(): SimInstance[] {
    return [...this.instances.values()].filter((i) => i.state === 'pending' || i.state === 'running');
  }
}

export class FakeElb implements ElbFleet {
  healthySeconds = 20;
  drainSeconds = 30;
  readonly targetGroups = new Set<string>();
  /** targetGroup → instanceId → registration time, or 'draining' */
  private readonly targets = new Map<string, Map<string, number | 'draining'>>();
  readonly deregistrations: Array<{ at: number; targetGroupArn: string; instanceId: string }> = [];

  constructor(
    private readonly ctx: SimContext,
    private readonly ec2: FakeEc2,
  ) {}

  addTargetGroup(arn: string): void {
    this.targetGroups.add(arn);
    this.targets.set(arn, new Map());
  }

  targetGroupExists(targetGroupArn: string): boolean {
    return this.targetGroups.has(targetGroupArn);
  }

  register(targetGroupArn: string, instanceId: string): void {
    this.targets.get(targetGroupArn)?.set(instanceId, this.ctx.clock.now());
  }

  deregister(targetGroupArn: string, instanceId: string, onDrained: () => void): void {
    const group = this.targets.get(targetGroupArn);
    if (!group?.has(instanceId)) {
      onDrained();
      return;
    }
    this.deregistrations.push({ at: this.ctx.clock.now(), targetGroupArn, instanceId });
    group.set(instanceId, 'draining');
    this.ctx.clock.setTimeout(() => {
      group.delete(instanceId);
      onDrained();
    }, this.drainSeconds * 1000);
  }

  health(targetGroupArn: string, instanceId: string): TargetHealthState | undefined {
    const registered = this.targets.get(targetGroupArn)?.get(instanceId);
    if (registered === undefined) return undefined;
    if (registered === 'draining') return 'draining';
    if (this.ctx.clock.now() < registered + this.healthySeconds * 1000) return 'initial';
    return this.ec2.appHealth(instanceId) === 'healthy' ? 'healthy' : 'unhealthy';
  }

  isRegistered(targetGroupArn: string, instanceId: string): boolean {
    const state = this.targets.get(targetGroupArn)?.get(instanceId);
    return state !== undefined && state !== 'draining';
  }
}

export const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef';

export interface Harness {
  ctx: TestSimContext;
  ec2: FakeEc2;
  elb: FakeElb;
  asg: AutoScalingSim;
  /** Calls the sim with the SDK operation name and input. */
  call: (operation: string, input: object) => Promise<object>;
  /** Advances virtual time by whole seconds. */
  advance: (seconds: number) => Promise<void>;
}

export function createHarness(options: AutoScalingSimOptions = {}): Harness {
  const ctx = createTestContext(7);
  const ec2 = new FakeEc2(ctx, [
    {
      id: 'lt-0aaaaaaaaaaaaaaa1',
      name: 'web',
      versions: { 1: 'ami-0000000000000001', 2: 'ami-0000000000000002', 3: 'ami-0000000000000003' },
      defaultVersion: 1,
    },
  ]);
  const elb = new FakeElb(ctx, ec2);
  elb.addTargetGroup(TG);
  const asg = new AutoScalingSim(ctx, ec2, elb, options);
  return {
    ctx,
    ec2,
    elb,
    asg,
    call: (operation, input) => asg.handle(operation, input),
    advance: async (seconds) => {
      await ctx.fakeClock.tickAsync(seconds * 1000);
    },
  };
}

/** A minimal valid CreateAutoScalingGroup input; override what a test is about. */
export function groupInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    AutoScalingGroupName: 'web-prod',
    LaunchTemplate: { LaunchTemplateId: 'lt-0aaaaaaaaaaaaaaa1', Version: '1' },
    MinSize: 1,
    MaxSize: 4,
    DesiredCapacity: 2,
    VPCZoneIdentifier: 'subnet-a,subnet-b',
    ...overrides,
  };
}

export async function describeGroup(h: Harness, name = 'web-prod'): Promise<AutoScalingGroup> {
  const out = (await h.call('DescribeAutoScalingGroups', {
    AutoScalingGroupNames: [name],
  })) as AutoScalingGroupsType;
  const group = out.AutoScalingGroups?.[0];
  if (!group) throw new Error(`group ${name} not found`);
  return group;
}

export async function instancesOf(h: Harness, name = 'web-prod'): Promise<Instance[]> {
  return (await describeGroup(h, name)).Instances ?? [];
}

/** The error a call rejects with (fails the test when it resolves). */
export async function errorOf(
  promise: Promise<unknown>,
): Promise<{ name: string; message: string; $fault?: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error as Error & { $fault?: string };
    throw error;
  }
  throw new Error('expected the call to fail');
}

/** The detail keys of a documented sample event, for shape comparisons. */
export function fixtureDetailKeys(file: string): string[] {
  const text = readFileSync(join(__dirname, '../../fixtures/events/autoscaling', file), 'utf8');
  const sample = JSON.parse(text) as { detail: Record<string, unknown> };
  return Object.keys(sample.detail).sort();
}

export function eventsOf(h: Harness, detailType: string) {
  return h.ctx.events.filter((event) => event['detail-type'] === detailType);
}
