/**
 * What a platform team's CloudFormation would have made before Kiln takes over a service: a
 * launch template, a load balancer with a listener, a target group and an Auto Scaling group on
 * an explicit launch template version. Stories build it through the real SDK clients so every
 * call lands on the timeline.
 */
import { CreateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, type _InstanceType } from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { SandboxClients } from '../core/sdk';
import type { Region } from '../region';
import { TargetGroupSettingsSchema, type TargetGroupSettings } from './settings';
import { StoryDeadlineError } from './steps';

export interface FleetSpec {
  name: string;
  size: number;
  imageId: string;
  instanceType: _InstanceType;
  /** The target group's health check and draining (default: the settings schema's defaults). */
  targetGroup?: TargetGroupSettings;
  /**
   * Tags of the launch template and the group (propagated at launch), e.g. `kiln:managed=true`,
   * which Kiln's IAM conditions its mutations on (README, "Rollout").
   */
  tags?: Record<string, string>;
}

export interface Fleet {
  groupName: string;
  size: number;
  launchTemplateId: string;
  targetGroupArn: string;
  /** `targetgroup/name/id`, the CloudWatch dimension value. */
  targetGroupFullName: string;
  /** `app/name/id`, the CloudWatch dimension value. */
  loadBalancerFullName: string;
  loadBalancerName: string;
}

/** Sleeps on the virtual clock (the sandbox fakes setTimeout). */
export function sleep(seconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}

export function required<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`story: AWS returned no ${what}`);
  return value;
}

export async function provisionFleet(region: Region, aws: SandboxClients, spec: FleetSpec): Promise<Fleet> {
  const subnets = region.ec2.subnets();
  const vpcId = required(subnets[0], 'subnet').vpcId;
  const lt = await aws.ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: spec.name,
      ...(spec.tags === undefined
        ? {}
        : {
            TagSpecifications: [
              {
                ResourceType: 'launch-template',
                Tags: Object.entries(spec.tags).map(([Key, Value]) => ({ Key, Value })),
              },
            ],
          }),
      LaunchTemplateData: {
        ImageId: spec.imageId,
        InstanceType: spec.instanceType,
        SecurityGroupIds: ['sg-0123456789abcdef0'],
      },
    }),
  );
  const launchTemplateId = required(lt.LaunchTemplate?.LaunchTemplateId, 'launch template');
  const lb = await aws.elbv2.send(
    new CreateLoadBalancerCommand({ Name: spec.name, Subnets: subnets.map((s) => s.subnetId) }),
  );
  const loadBalancer = required(lb.LoadBalancers?.[0], 'load balancer');
  const loadBalancerArn = required(loadBalancer.LoadBalancerArn, 'load balancer ARN');
  const settings = spec.targetGroup ?? TargetGroupSettingsSchema.parse({});
  const tg = await aws.elbv2.send(
    new CreateTargetGroupCommand({
      Name: spec.name,
      Protocol: 'HTTP',
      Port: 8080,
      VpcId: vpcId,
      HealthCheckPath: settings.healthCheckPath,
      HealthCheckIntervalSeconds: settings.healthCheckIntervalSeconds,
      ...(settings.healthCheckTimeoutSeconds !== undefined
        ? { HealthCheckTimeoutSeconds: settings.healthCheckTimeoutSeconds }
        : {}),
      HealthyThresholdCount: settings.healthyThresholdCount,
      UnhealthyThresholdCount: settings.unhealthyThresholdCount,
    }),
  );
  const targetGroupArn = required(tg.TargetGroups?.[0]?.TargetGroupArn, 'target group ARN');
  if (settings.deregistrationDelaySeconds !== undefined) {
    await aws.elbv2.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: targetGroupArn,
        Attributes: [
          {
            Key: 'deregistration_delay.timeout_seconds',
            Value: String(settings.deregistrationDelaySeconds),
          },
        ],
      }),
    );
  }
  await aws.elbv2.send(
    new CreateListenerCommand({
      LoadBalancerArn: loadBalancerArn,
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
    }),
  );
  await aws.autoScaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: spec.name,
      LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: '1' },
      MinSize: spec.size,
      MaxSize: spec.size * 2,
      DesiredCapacity: spec.size,
      VPCZoneIdentifier: subnets.map((s) => s.subnetId).join(','),
      TargetGroupARNs: [targetGroupArn],
      HealthCheckType: 'ELB',
      HealthCheckGracePeriod: 60,
      ...(spec.tags === undefined
        ? {}
        : {
            Tags: Object.entries(spec.tags).map(([Key, Value]) => ({ Key, Value, PropagateAtLaunch: true })),
          }),
    }),
  );
  return {
    groupName: spec.name,
    size: spec.size,
    launchTemplateId,
    targetGroupArn,
    targetGroupFullName: targetGroupArn.slice(targetGroupArn.indexOf('targetgroup/')),
    loadBalancerFullName: loadBalancerArn.split(':loadbalancer/')[1] ?? '',
    loadBalancerName: loadBalancer.LoadBalancerName ?? spec.name,
  };
}

export async function healthyTargets(aws: SandboxClients, fleet: Fleet): Promise<number> {
  const health = await aws.elbv2.send(
    new DescribeTargetHealthCommand({ TargetGroupArn: fleet.targetGroupArn }),
  );
  return (health.TargetHealthDescriptions ?? []).filter((d) => d.TargetHealth?.State === 'healthy').length;
}

/**
 * Polls every 15 virtual seconds until every fleet's targets are all healthy; returns the wait.
 * Past `limitSeconds` it gives up with a StoryDeadlineError (a failed check, not a hang).
 */
export async function waitUntilHealthy(
  aws: SandboxClients,
  fleets: Fleet[],
  limitSeconds = 3600,
): Promise<number> {
  for (let waited = 0; ; waited += 15) {
    const counts = await Promise.all(fleets.map((fleet) => healthyTargets(aws, fleet)));
    if (counts.every((count, i) => count === fleets[i]?.size)) return waited;
    if (waited > limitSeconds) {
      const healthy = counts.map((count, i) => `${count}/${fleets[i]?.size ?? '?'}`).join(', ');
      throw new StoryDeadlineError(`fleets not all healthy within ${limitSeconds} s (healthy ${healthy})`);
    }
    await sleep(15);
  }
}

/** Instance refresh statuses that are still moving (the rest are final). */
export const REFRESH_IN_MOTION = ['Pending', 'InProgress', 'Baking', 'Cancelling', 'RollbackInProgress'];

/**
 * A refresh's final status, and when it did not succeed, which refresh it was and why: AWS's
 * StatusReason, and the RollbackReason when it rolled back.
 */
export function refreshOutcome(
  refreshId: string,
  status: string,
  statusReason: string,
  rollbackReason = '',
): string {
  if (status === 'Successful') return status;
  const why = [statusReason, rollbackReason !== '' ? `Rolled back because: ${rollbackReason}` : '']
    .filter((part) => part !== '')
    .join(' ');
  return `${status} (refresh ${refreshId})${why !== '' ? `: ${why}` : ''}`;
}
