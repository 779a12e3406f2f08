/**
 * EnterStandby / ExitStandby: an InService instance leaves service without being terminated and
 * comes back later.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-enter-exit-standby.html
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_EnterStandby.html
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_ExitStandby.html
 */
import type { Activity } from '@aws-sdk/client-auto-scaling';
import type { Harness } from './autoscaling-fakes';
import {
  TG,
  createHarness,
  describeGroup,
  errorOf,
  eventsOf,
  groupInput,
  instancesOf,
} from './autoscaling-fakes';

async function readyGroup(h: Harness, overrides: Record<string, unknown> = {}) {
  await h.call(
    'CreateAutoScalingGroup',
    groupInput({ MinSize: 0, MaxSize: 4, DesiredCapacity: 2, TargetGroupARNs: [TG], ...overrides }),
  );
  await h.advance(60);
}

async function firstId(h: Harness): Promise<string> {
  const [instance] = await instancesOf(h);
  if (!instance?.InstanceId) throw new Error('no instance');
  return instance.InstanceId;
}

async function stateOf(h: Harness, id: string): Promise<string | undefined> {
  return (await instancesOf(h)).find((i) => i.InstanceId === id)?.LifecycleState;
}

async function enter(h: Harness, ids: string[], decrement = true): Promise<Activity[]> {
  const out = (await h.call('EnterStandby', {
    AutoScalingGroupName: 'web-prod',
    InstanceIds: ids,
    ShouldDecrementDesiredCapacity: decrement,
  })) as { Activities?: Activity[] };
  return out.Activities ?? [];
}

async function exit(h: Harness, ids: string[]): Promise<Activity[]> {
  const out = (await h.call('ExitStandby', { AutoScalingGroupName: 'web-prod', InstanceIds: ids })) as {
    Activities?: Activity[];
  };
  return out.Activities ?? [];
}

describe('AutoScalingSim standby', () => {
  describe('EnterStandby', () => {
    it('deregisters the instance and holds it in EnteringStandby while it drains, then Standby', async () => {
      const h = createHarness();
      await readyGroup(h);
      const id = await firstId(h);
      await enter(h, [id]);
      expect(await stateOf(h, id)).toBe('EnteringStandby');
      expect(h.elb.isRegistered(TG, id)).toBe(false);
      await h.advance(h.elb.drainSeconds);
      expect(await stateOf(h, id)).toBe('Standby');
      expect(h.ec2.get(id)?.state).toBe('running');
    });

    it('answers with the documented activity and decrements desired capacity when asked', async () => {
      const h = createHarness();
      await readyGroup(h);
      const id = await firstId(h);
      const [activity] = await enter(h, [id]);
      expect(activity).toMatchObject({
        Description: `Moving EC2 instance to Standby: ${id}`,
        StatusCode: 'InProgress',
        Progress: 50,
      });
      expect(activity?.Cause).toMatch(
        new RegExp(
          `^At \\S+Z instance ${id} was moved to standby in response to a user request, shrinking the capacity from 2 to 1\\.$`,
        ),
      );
      expect((await describeGroup(h)).DesiredCapacity).toBe(1);
      await h.advance(120);
      expect(h.ec2.launches).toHaveLength(2);
    });

    it('launches a replacement when the desired capacity is not decremented', async () => {
      const h = createHarness();
      await readyGroup(h);
      const id = await firstId(h);
      const [activity] = await enter(h, [id], false);
      expect(activity?.Cause).toMatch(/was moved to standby in response to a user request\.$/);
      expect((await describeGroup(h)).DesiredCapacity).toBe(2);
      await h.advance(60);
      expect(h.ec2.launches).toHaveLength(3);
      const inService = (await instancesOf(h)).filter((i) => i.LifecycleState === 'InService');
      expect(inService).toHaveLength(2);
    });

    it('refuses to decrement below the group’s minimum size and changes nothing', async () => {
      const h = createHarness();
      await readyGroup(h, { MinSize: 2 });
      const id = await firstId(h);
      const error = await errorOf(enter(h, [id]));
      expect(error.name).toBe('ValidationError');
      expect(error.message).toContain('MinSize');
      expect(await stateOf(h, id)).toBe('InService');
      expect((await describeGroup(h)).DesiredCapacity).toBe(2);
    });

    it('refuses an instance that is not InService, or not in the group, naming it', async () => {
      const h = createHarness();
      await readyGroup(h);
      const id = await firstId(h);
      await enter(h, [id]);
      expect((await errorOf(enter(h, [id]))).message).toBe(`The instance ${id} is not in InService.`);
      expect((await errorOf(enter(h, ['i-0000000000000dead']))).message).toBe(
        'The instance i-0000000000000dead is not part of Auto Scaling group web-prod.',
      );
    });

    it('refuses more than 20 instances', async () => {
      const h = createHarness();
      await readyGroup(h);
      const many = Array.from({ length: 21 }, (_, i) => `i-${String(i).padStart(17, '0')}`);
      const error = await errorOf(enter(h, many));
      expect(error.message).toBe('InstanceIds: you can specify up to 20 instances, got 21');
    });

    it('runs no lifecycle hooks', async () => {
      const h = createHarness();
      await readyGroup(h);
      await h.call('PutLifecycleHook', {
        AutoScalingGroupName: 'web-prod',
        LifecycleHookName: 'drain',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      });
      await h.call('PutLifecycleHook', {
        AutoScalingGroupName: 'web-prod',
        LifecycleHookName: 'verify',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
      });
      const id = await firstId(h);
      await enter(h, [id]);
      await h.advance(60);
      await exit(h, [id]);
      await h.advance(1);
      expect(await stateOf(h, id)).toBe('InService');
      expect(eventsOf(h, 'EC2 Instance-terminate Lifecycle Action')).toHaveLength(0);
      expect(eventsOf(h, 'EC2 Instance-launch Lifecycle Action')).toHaveLength(0);
    });

    it('keeps instances in Standby out of scale in', async () => {
      const h = createHarness();
      await readyGroup(h, { DesiredCapacity: 3 });
      const id = await firstId(h);
      await enter(h, [id]);
      await h.advance(60);
      await h.call('SetDesiredCapacity', { AutoScalingGroupName: 'web-prod', DesiredCapacity: 0 });
      await h.advance(120);
      expect(await stateOf(h, id)).toBe('Standby');
      expect(h.ec2.get(id)?.state).toBe('running');
    });
  });

  describe('ExitStandby', () => {
    it('moves the instance through Pending back to InService, registers it and increments desired capacity', async () => {
      const h = createHarness();
      await readyGroup(h);
      const id = await firstId(h);
      await enter(h, [id]);
      await h.advance(60);
      const [activity] = await exit(h, [id]);
      expect(activity).toMatchObject({
        Description: `Moving EC2 instance out of Standby: ${id}`,
        StatusCode: 'PreInService',
        Progress: 30,
      });
      expect(activity?.Cause).toMatch(
        /was moved out of standby in response to a user request, increasing the capacity from 1 to 2\.$/,
      );
      expect(await stateOf(h, id)).toBe('Pending');
      await h.advance(1);
      expect(await stateOf(h, id)).toBe('InService');
      expect(h.elb.isRegistered(TG, id)).toBe(true);
      expect((await describeGroup(h)).DesiredCapacity).toBe(2);
      expect(h.ec2.launches).toHaveLength(2);
    });

    it('refuses an instance that is not in Standby', async () => {
      const h = createHarness();
      await readyGroup(h);
      const id = await firstId(h);
      const error = await errorOf(exit(h, [id]));
      expect(error.name).toBe('ValidationError');
      expect(error.message).toBe(`The instance ${id} is not in Standby.`);
    });

    it('refuses to raise desired capacity above the group’s maximum size and changes nothing', async () => {
      const h = createHarness();
      await readyGroup(h, { MaxSize: 2 });
      const id = await firstId(h);
      await enter(h, [id], false);
      await h.advance(120);
      const error = await errorOf(exit(h, [id]));
      expect(error.name).toBe('ValidationError');
      expect(error.message).toContain('MaxSize');
      expect(await stateOf(h, id)).toBe('Standby');
    });
  });
});
