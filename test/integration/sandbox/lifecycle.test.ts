import {
  CompleteLifecycleActionCommand,
  DescribeAutoScalingInstancesCommand,
  PutLifecycleHookCommand,
  SetDesiredCapacityCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { createRegion, type Region } from '../../../sandbox/region';
import { provisionFleet, sleep, waitUntilHealthy, type Fleet } from '../../../sandbox/stories/fleet';

/**
 * Auto Scaling, EC2 and ELBv2 working together through the real SDK: a scale-in deregisters the
 * instance from its target group and waits for its requests in flight before the terminate hook
 * holds it in Terminating:Wait (the target still shows draining until the deregistration delay has
 * passed), and completing the hook lets it go.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks-overview.html
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#deregistration-delay
 */
describe('lifecycle hooks in a whole region', () => {
  let region: Region;
  let fleet: Fleet;

  beforeEach(async () => {
    region = await createRegion({ seed: 11 });
  });
  afterEach(() => region.dispose());

  /** A healthy group `web` of `size` instances with one hook whose default result is ABANDON. */
  async function healthyGroupWithHook(
    size: number,
    hookName: string,
    transition: 'autoscaling:EC2_INSTANCE_LAUNCHING' | 'autoscaling:EC2_INSTANCE_TERMINATING',
    heartbeatSeconds: number,
  ): Promise<void> {
    const aws = region.clientsFor('story:operator');
    const ami = region.ec2.seedImage({ name: 'web-1.0.0' });
    fleet = await provisionFleet(region, aws, { name: 'web', size, imageId: ami, instanceType: 'c7i.large' });
    await waitUntilHealthy(aws, [fleet]);
    await aws.autoScaling.send(
      new PutLifecycleHookCommand({
        AutoScalingGroupName: 'web',
        LifecycleHookName: hookName,
        LifecycleTransition: transition,
        HeartbeatTimeout: heartbeatSeconds,
        DefaultResult: 'ABANDON',
      }),
    );
  }

  it('holds the instance in Terminating:Wait once ELB has finished its requests in flight, while DescribeTargetHealth shows it draining until the delay has passed', async () => {
    const aws = region.clientsFor('story:operator');
    const result = await region.engine.run(async () => {
      await healthyGroupWithHook(2, 'kiln-drain', 'autoscaling:EC2_INSTANCE_TERMINATING', 900);
      await aws.autoScaling.send(
        new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'web', MinSize: 1 }),
      );
      const scaleInAt = region.engine.clock.now();
      await aws.autoScaling.send(
        new SetDesiredCapacityCommand({
          AutoScalingGroupName: 'web',
          DesiredCapacity: 1,
          HonorCooldown: false,
        }),
      );
      const states = async () =>
        (await aws.autoScaling.send(new DescribeAutoScalingInstancesCommand({}))).AutoScalingInstances ?? [];
      let leaving;
      for (;;) {
        leaving = (await states()).find((i) => i.LifecycleState === 'Terminating:Wait');
        if (leaving) break;
        await sleep(1);
      }
      const leavingId = leaving.InstanceId ?? '';
      const targetState = async () =>
        (
          await aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: fleet.targetGroupArn }))
        ).TargetHealthDescriptions?.find((d) => d.Target?.Id === leavingId)?.TargetHealth;
      const whileWaiting = await targetState();
      // What a drain step in the terminate hook sees: it waits until the target has left draining.
      while ((await targetState())?.State === 'draining') await sleep(15);
      const leftDrainingAfter = (region.engine.clock.now() - scaleInAt) / 1000;
      await aws.autoScaling.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: 'web',
          LifecycleHookName: 'kiln-drain',
          InstanceId: leavingId,
          LifecycleActionResult: 'CONTINUE',
        }),
      );
      await sleep(120);
      return { leavingId, whileWaiting, leftDrainingAfter, after: await states() };
    });
    const at = (resource: string, to: string) =>
      region.engine.timeline.entries.find((e) => e.kind === 'state' && e.resource === resource && e.to === to)
        ?.t ?? -1;
    const drainingAt = at(`${fleet.targetGroupArn}/${result.leavingId}`, 'draining');
    // The target was serving: its last requests take one response time of its application.
    expect(at(`autoscaling:web/${result.leavingId}`, 'Terminating:Wait') - drainingAt).toBeCloseTo(
      region.ec2.behaviourOf(result.leavingId).latencySeconds,
      6,
    );
    expect(result.whileWaiting).toEqual({
      State: 'draining',
      Reason: 'Target.DeregistrationInProgress',
      Description: 'Target deregistration is in progress',
    });
    // The default deregistration delay is 300 s; the target shows draining until it has passed.
    expect(at(`${fleet.targetGroupArn}/${result.leavingId}`, 'unused') - drainingAt).toBe(300);
    expect(result.leftDrainingAfter).toBeGreaterThanOrEqual(300);
    expect(result.after.map((i) => i.InstanceId)).not.toContain(result.leavingId);
    expect(result.after).toHaveLength(1);
    const lifecycleEvents = region.engine.timeline.entries.filter(
      (e) => e.kind === 'event' && e.detailType === 'EC2 Instance-terminate Lifecycle Action',
    );
    expect(lifecycleEvents).toHaveLength(1);
  });

  it('keeps a launching instance out of its target group until the launch hook completes, and abandons it at the heartbeat timeout', async () => {
    const aws = region.clientsFor('story:operator');
    const result = await region.engine.run(async () => {
      await healthyGroupWithHook(1, 'kiln-verify', 'autoscaling:EC2_INSTANCE_LAUNCHING', 300);
      await aws.autoScaling.send(
        new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 2 }),
      );
      const waiting = async () =>
        (
          (await aws.autoScaling.send(new DescribeAutoScalingInstancesCommand({}))).AutoScalingInstances ?? []
        ).filter((i) => i.LifecycleState === 'Pending:Wait');
      let first;
      for (;;) {
        [first] = await waiting();
        if (first) break;
        await sleep(5);
      }
      const targets = async () =>
        (
          (await aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: fleet.targetGroupArn })))
            .TargetHealthDescriptions ?? []
        ).map((d) => d.Target?.Id);
      const targetsWhileWaiting = await targets();
      // Nobody completes the action: after the 300 s heartbeat the default result (ABANDON) applies
      // and the group launches a replacement, which waits in turn.
      const detectedAt = region.engine.clock.now();
      let second;
      for (;;) {
        second = (await waiting()).find((i) => i.InstanceId !== first.InstanceId);
        if (second) break;
        await sleep(5);
      }
      const replacedAfterSeconds = (region.engine.clock.now() - detectedAt) / 1000;
      await aws.autoScaling.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: 'web',
          LifecycleHookName: 'kiln-verify',
          InstanceId: second.InstanceId,
          LifecycleActionResult: 'CONTINUE',
        }),
      );
      await waitUntilHealthy(aws, [{ ...fleet, size: 2 }]);
      return {
        first: first.InstanceId,
        second: second.InstanceId,
        replacedAfterSeconds,
        targetsWhileWaiting,
        targetsAfter: await targets(),
      };
    });
    expect(result.targetsWhileWaiting).not.toContain(result.first);
    expect(result.replacedAfterSeconds).toBeGreaterThanOrEqual(295);
    expect(result.second).not.toBe(result.first);
    expect(region.ec2.get(result.first ?? '')?.state).toMatch(/shutting-down|terminated/);
    expect(result.targetsAfter).toContain(result.second);
    expect(result.targetsAfter).not.toContain(result.first);
  });
});
