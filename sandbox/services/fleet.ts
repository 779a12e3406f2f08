/**
 * In-process interfaces between the simulated services. Auto Scaling launches and terminates
 * instances through EC2 and registers them with ELBv2; ELBv2 health checks ask EC2 how each
 * instance's application is doing; CloudWatch reads the metrics ELBv2 produces. These are the
 * simulator's internals (AWS does the same behind its APIs), never reachable through the SDK.
 */
import type { VirtualMs } from '../core/context';

export type InstanceState = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';

/** How the application baked into an image behaves once its instance runs (sandbox-only knob). */
export interface AppBehaviour {
  /** Seconds from `running` until the application answers health checks. */
  appStartSeconds: number;
  /** 'healthy' answers checks; 'failing-health' never does; 'errors' passes checks but serves 5xx. */
  mode: 'healthy' | 'failing-health' | 'errors';
  /** Fraction of requests answered with 5xx when mode is 'errors' (0–1). */
  errorRate: number;
  /** Mean target response time in seconds. */
  latencySeconds: number;
}

export interface SimInstance {
  instanceId: string;
  imageId: string;
  instanceType: string;
  state: InstanceState;
  availabilityZone: string;
  subnetId: string;
  privateIpAddress: string;
  launchTime: VirtualMs;
  /** When the instance entered `running` (undefined while pending). */
  runningSince?: VirtualMs;
  launchTemplate?: { launchTemplateId: string; launchTemplateName: string; version: number };
  tags: Record<string, string>;
}

export interface ResolvedLaunchTemplate {
  launchTemplateId: string;
  launchTemplateName: string;
  /** Always a number: Auto Scaling resolves $Latest/$Default at launch time. */
  version: number;
  imageId: string;
  instanceType: string;
  securityGroupIds: string[];
  tags: Record<string, string>;
}

export interface LaunchRequest {
  launchTemplate: ResolvedLaunchTemplate;
  subnetId: string;
  tags: Record<string, string>;
}

/** What EC2 offers the other simulated services. */
export interface Ec2Fleet {
  /** Resolves a launch template reference ($Latest, $Default or a number) to a concrete version. */
  resolveLaunchTemplate(ref: {
    launchTemplateId?: string;
    launchTemplateName?: string;
    version?: string;
  }): ResolvedLaunchTemplate;
  /** Starts an instance (pending → running after its boot time, or boot failure → terminated). */
  launch(request: LaunchRequest): SimInstance;
  terminate(instanceId: string): void;
  get(instanceId: string): SimInstance | undefined;
  /**
   * Only the instance's state, copying nothing: what the periodic checks (every target's health
   * check, every group's health tick) need, over the whole fleet, many times a virtual minute.
   */
  stateOf(instanceId: string): InstanceState | undefined;
  /** Subscribes to every instance state change. */
  onStateChange(
    listener: (instance: SimInstance, from: InstanceState | null, to: InstanceState) => void,
  ): void;
  /** Application health as a load-balancer health check would see it now. */
  appHealth(instanceId: string): 'healthy' | 'unhealthy' | 'starting' | 'down';
  /** The behaviour of the application on this instance (from its image). */
  behaviourOf(instanceId: string): AppBehaviour;
  /** Moves whenever an instance appears, goes, or changes state, tags or behaviour. */
  instancesVersion(): number;
}

export type TargetHealthState = 'initial' | 'healthy' | 'unhealthy' | 'unused' | 'draining' | 'unavailable';

/** What ELBv2 offers Auto Scaling (target group attachment). */
export interface ElbFleet {
  targetGroupExists(targetGroupArn: string): boolean;
  /** Registers an instance (Auto Scaling does this when the instance enters InService). */
  register(targetGroupArn: string, instanceId: string): void;
  /**
   * Deregisters the instance: it stops receiving requests and shows `draining`. `onDeregistered`
   * fires when ELB completes the deregistration, which is when the requests in flight to it have
   * finished (at once when there are none) or the deregistration delay has passed, whichever comes
   * first; at once too if it was not registered. The target keeps showing `draining` (in `health`
   * and DescribeTargetHealth) until the delay has passed, so a caller tells "deregistered" from
   * "still shows draining" by the callback against `health`.
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#deregistration-delay
   */
  deregister(targetGroupArn: string, instanceId: string, onDeregistered: () => void): void;
  /** The target's state as DescribeTargetHealth reports it; undefined once it has left the group. */
  health(targetGroupArn: string, instanceId: string): TargetHealthState | undefined;
}
