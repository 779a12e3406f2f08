import type { DescribeLifecycleHooksAnswer } from '@aws-sdk/client-auto-scaling';
import type { Harness } from './autoscaling-fakes';
import {
  TG,
  createHarness,
  errorOf,
  eventsOf,
  fixtureDetailKeys,
  groupInput,
  instancesOf,
} from './autoscaling-fakes';

const LAUNCH_EVENT = 'EC2 Instance-launch Lifecycle Action';
const TERMINATE_EVENT = 'EC2 Instance-terminate Lifecycle Action';

async function groupWithHook(h: Harness, hook: Record<string, unknown>, group: Record<string, unknown> = {}) {
  await h.call(
    'CreateAutoScalingGroup',
    groupInput({ DesiredCapacity: 0, MinSize: 0, TargetGroupARNs: [TG], ...group }),
  );
  await h.call('PutLifecycleHook', { AutoScalingGroupName: 'web-prod', ...hook });
}

async function onlyInstance(h: Harness) {
  const [instance] = await instancesOf(h);
  if (!instance?.InstanceId) throw new Error('no instance');
  return { id: instance.InstanceId, state: instance.LifecycleState };
}

describe('AutoScalingSim lifecycle hooks', () => {
  describe('launch hooks', () => {
    it('holds a booted instance in Pending:Wait and emits the launch lifecycle action in the documented shape', async () => {
      const h = createHarness();
      await groupWithHook(h, {
        LifecycleHookName: 'verify',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
        NotificationMetadata: 'kiln',
      });
      await h.call('SetDesiredCapacity', { AutoScalingGroupName: 'web-prod', DesiredCapacity: 1 });
      await h.advance(30);
      const { id, state } = await onlyInstance(h);
      expect(state).toBe('Pending:Wait');
      const [event] = eventsOf(h, LAUNCH_EVENT);
      expect(Object.keys(event?.detail ?? {}).sort()).toEqual(
        fixtureDetailKeys('instance-launch-lifecycle-action.json'),
      );
      expect(event?.detail).toMatchObject({
        AutoScalingGroupName: 'web-prod',
        LifecycleHookName: 'verify',
        EC2InstanceId: id,
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
        NotificationMetadata: 'kiln',
        Origin: 'EC2',
        Destination: 'AutoScalingGroup',
      });
      expect(h.elb.isRegistered(TG, id)).toBe(false);
    });

    it('puts the instance in service and registers it when the action completes with CONTINUE by instance id', async () => {
      const h = createHarness();
      await groupWithHook(h, {
        LifecycleHookName: 'verify',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
      });
      await h.call('SetDesiredCapacity', { AutoScalingGroupName: 'web-prod', DesiredCapacity: 1 });
      await h.advance(30);
      const { id } = await onlyInstance(h);
      await h.call('CompleteLifecycleAction', {
        AutoScalingGroupName: 'web-prod',
        LifecycleHookName: 'verify',
        InstanceId: id,
        LifecycleActionResult: 'CONTINUE',
      });
      expect((await onlyInstance(h)).state).toBe('InService');
      expect(h.elb.isRegistered(TG, id)).toBe(true);
    });

    it('accepts the LifecycleActionToken from the event instead of the instance id', async () => {
      const h = createHarness();
      await groupWithHook(h, {
        LifecycleHookName: 'verify',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
      });
      await h.call('SetDesiredCapacity', { AutoScalingGroupName: 'web-prod', DesiredCapacity: 1 });
      await h.advance(30);
      const token = String(eventsOf(h, LAUNCH_EVENT)[0]?.detail.LifecycleActionToken);
      await h.call('CompleteLifecycleAction', {
        AutoScalingGroupName: 'web-prod',
        LifecycleHookName: 'verify',
        LifecycleActionToken: token,
        LifecycleActionResult: 'CONTINUE',
      });
      expect((await onlyInstance(h)).state).toBe('InService');
    });

    it('terminates an ABANDONed launch, reports it unsuccessful and launches a replacement', async () => {
      const h = createHarness();
      await groupWithHook(h, {
        LifecycleHookName: 'verify',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
      });
      await h.call('SetDesiredCapacity', { AutoScalingGroupName: 'web-prod', DesiredCapacity: 1 });
      await h.advance(30);
      const { id } = await onlyInstance(h);
      await h.call('CompleteLifecycleAction', {
        AutoScalingGroupName: 'web-prod',
        LifecycleHookName: 'verify',
        InstanceId: id,
        LifecycleActionResult: 'ABANDON',
      });
      await h.advance(5);
      expect(h.ec2.get(id)?.state).toBe('terminated');
      const [unsuccessful] = eventsOf(h, 'EC2 Instance Launch Unsuccessful');
      expect(unsuccessful?.detail.StatusMessage).toContain('was abandoned');
      expect(h.ec2.launches).toHaveLength(2);
    });

    it('stops the other launch hooks’ actions when one is ABANDONed and terminates the instance', async () => {
      // "If you choose ABANDON, the Auto Scaling group stops any remaining actions and terminates the
      // instance immediately." https://docs.aws.amazon.com/autoscaling/ec2/userguide/adding-lifecycle-hooks.html
      const h = createHarness();
      await groupWithHook(h, {
        LifecycleHookName: 'verify',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
      });
      await h.call('PutLifecycleHook', {
        AutoScalingGroupName: 'web-prod',
        LifecycleHookName: 'warm-cache',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
      });
      await h.call('SetDesiredCapacity', { AutoScalingGroupName: 'web-prod', DesiredCapacity: 1 });
      await h.advance(30);
      const { id } = await onlyInstance(h);
      await h.call('CompleteLifecycleAction', {
        AutoScalingGroupName: 'web-prod',
        LifecycleHookName: 'verify',
        InstanceId: id,
        LifecycleActionResult: 'ABANDON',
      });
      expect(h.ec2.get(id)?.state).toBe('shutting-down');
      const [unsuccessful] = eventsOf(h, 'EC2 Instance Launch Unsuccessful');
      const abandonedToken = eventsOf(h, LAUNCH_EVENT).find((e) => e.detail.LifecycleHookName === 'verify')
        ?.detail.LifecycleActionToken;
      expect(unsuccessful?.detail.StatusMessage).toContain(`token ${String(abandonedToken)} was abandoned`);
    });

    it('answers a completed action with AWS’s ValidationError for an action that is no longer active', async () => {
      const h = createHarness();
      await groupWithHook(h, {
        LifecycleHookName: 'verify',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
      });
      await h.call('SetDesiredCapacity', { AutoScalingGroupName: 'web-prod', DesiredCapacity: 1 });
      await h.advance(30);
      const { id } = await onlyInstance(h);
      const complete = {
        AutoScalingGroupName: 'web-prod',
        LifecycleHookName: 'verify',
        InstanceId: id,
        LifecycleActionResult: 'CONTINUE',
      };
      await h.call('CompleteLifecycleAction', complete);
      const error = await errorOf(h.call('CompleteLifecycleAction', complete));
      expect(error.name).toBe('ValidationError');
      expect(error.message).toBe(`No active Lifecycle Action found with instance ID ${id}`);
    });
  });

  describe('timeouts', () => {
    it('applies DefaultResult, ABANDON unless set, when the heartbeat timeout passes', async () => {
      const h = createHarness();
      await groupWithHook(h, {
        LifecycleHookName: 'verify',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
        HeartbeatTimeout: 60,
      });
      await h.call('SetDesiredCapacity', { AutoScalingGroupName: 'web-prod', DesiredCapacity: 1 });
      await h.advance(30);
      const { id } = await onlyInstance(h);
      await h.advance(59);
      expect(h.ec2.get(id)?.state).toBe('running');
      await h.advance(1);
      expect(h.ec2.get(id)?.state).toBe('shutting-down');
    });

    it('restarts the heartbeat timeout on RecordLifecycleActionHeartbeat', async () => {
      const h = createHarness();
      await groupWithHook(h, {
        LifecycleHookName: 'verify',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
        HeartbeatTimeout: 60,
        DefaultResult: 'CONTINUE',
      });
      await h.call('SetDesiredCapacity', { AutoScalingGroupName: 'web-prod', DesiredCapacity: 1 });
      await h.advance(30 + 50);
      const { id } = await onlyInstance(h);
      await h.call('RecordLifecycleActionHeartbeat', {
        AutoScalingGroupName: 'web-prod',
        LifecycleHookName: 'verify',
        InstanceId: id,
      });
      await h.advance(50);
      expect((await onlyInstance(h)).state).toBe('Pending:Wait');
      await h.advance(10);
      expect((await onlyInstance(h)).state).toBe('InService');
    });

    it('ends the wait at the global timeout, 100 × the heartbeat timeout, however many heartbeats arrive', async () => {
      const h = createHarness();
      await groupWithHook(h, {
        LifecycleHookName: 'verify',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
        HeartbeatTimeout: 30,
        DefaultResult: 'CONTINUE',
      });
      await h.call('SetDesiredCapacity', { AutoScalingGroupName: 'web-prod', DesiredCapacity: 1 });
      await h.advance(30);
      const { id } = await onlyInstance(h);
      for (let elapsed = 0; elapsed < 2980; elapsed += 20) {
        await h.call('RecordLifecycleActionHeartbeat', {
          AutoScalingGroupName: 'web-prod',
          LifecycleHookName: 'verify',
          InstanceId: id,
        });
        await h.advance(20);
      }
      expect((await onlyInstance(h)).state).toBe('Pending:Wait');
      await h.advance(20);
      expect((await onlyInstance(h)).state).toBe('InService');
    });

    it('describes hooks with AWS’s defaults and the derived GlobalTimeout', async () => {
      const h = createHarness();
      await groupWithHook(h, {
        LifecycleHookName: 'drain',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      });
      await h.call('PutLifecycleHook', {
        AutoScalingGroupName: 'web-prod',
        LifecycleHookName: 'long',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
        HeartbeatTimeout: 7200,
      });
      const out = (await h.call('DescribeLifecycleHooks', {
        AutoScalingGroupName: 'web-prod',
      })) as DescribeLifecycleHooksAnswer;
      expect(
        out.LifecycleHooks?.map((hook) => [
          hook.LifecycleHookName,
          hook.HeartbeatTimeout,
          hook.GlobalTimeout,
          hook.DefaultResult,
        ]),
      ).toEqual([
        ['drain', 3600, 172800, 'ABANDON'],
        ['long', 7200, 172800, 'ABANDON'],
      ]);
    });

    it('rejects a heartbeat timeout outside 30–7200 seconds', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput());
      const error = await errorOf(
        h.call('PutLifecycleHook', {
          AutoScalingGroupName: 'web-prod',
          LifecycleHookName: 'verify',
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
          HeartbeatTimeout: 10,
        }),
      );
      expect(error.message).toContain('HeartbeatTimeout must be between 30 and 7200');
    });
  });

  describe('terminate hooks', () => {
    async function inServiceWithTerminateHook(h: Harness) {
      await groupWithHook(
        h,
        { LifecycleHookName: 'drain', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING' },
        {
          DesiredCapacity: 1,
          MinSize: 0,
        },
      );
      await h.advance(30);
      const { id } = await onlyInstance(h);
      await h.call('SetDesiredCapacity', { AutoScalingGroupName: 'web-prod', DesiredCapacity: 0 });
      return id;
    }

    it('deregisters and waits for draining before entering Terminating:Wait', async () => {
      const h = createHarness();
      const id = await inServiceWithTerminateHook(h);
      expect((await onlyInstance(h)).state).toBe('Terminating');
      expect(h.elb.deregistrations.map((d) => d.instanceId)).toEqual([id]);
      await h.advance(29);
      expect(eventsOf(h, TERMINATE_EVENT)).toHaveLength(0);
      await h.advance(1);
      expect((await onlyInstance(h)).state).toBe('Terminating:Wait');
      const [event] = eventsOf(h, TERMINATE_EVENT);
      expect(Object.keys(event?.detail ?? {}).sort()).toEqual(
        fixtureDetailKeys('instance-terminate-lifecycle-action.json').filter(
          (key) => key !== 'NotificationMetadata',
        ),
      );
      expect(event?.detail).toMatchObject({
        Origin: 'AutoScalingGroup',
        Destination: 'EC2',
        EC2InstanceId: id,
      });
    });

    it('terminates the instance after CONTINUE and emits EC2 Instance Terminate Successful', async () => {
      const h = createHarness();
      const id = await inServiceWithTerminateHook(h);
      await h.advance(30);
      await h.call('CompleteLifecycleAction', {
        AutoScalingGroupName: 'web-prod',
        LifecycleHookName: 'drain',
        InstanceId: id,
        LifecycleActionResult: 'CONTINUE',
      });
      expect((await onlyInstance(h)).state).toBe('Terminating:Proceed');
      await h.advance(5);
      expect(await instancesOf(h)).toEqual([]);
      expect(eventsOf(h, 'EC2 Instance Terminate Successful')[0]?.detail.EC2InstanceId).toBe(id);
    });

    describe('with two terminate hooks', () => {
      // "abandon stops any remaining actions, such as other lifecycle hooks, and continue allows any
      // other lifecycle hooks to complete." https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks.html
      async function inServiceWithTwoTerminateHooks(h: Harness) {
        const id = await inServiceWithTerminateHook(h);
        await h.call('PutLifecycleHook', {
          AutoScalingGroupName: 'web-prod',
          LifecycleHookName: 'archive-logs',
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        });
        return id;
      }

      it('terminates at once when the first action is ABANDONed, never waiting on the second hook', async () => {
        const h = createHarness();
        const id = await inServiceWithTwoTerminateHooks(h);
        await h.advance(30);
        expect(eventsOf(h, TERMINATE_EVENT).map((e) => e.detail.LifecycleHookName)).toEqual([
          'drain',
          'archive-logs',
        ]);
        await h.call('CompleteLifecycleAction', {
          AutoScalingGroupName: 'web-prod',
          LifecycleHookName: 'drain',
          InstanceId: id,
          LifecycleActionResult: 'ABANDON',
        });
        expect((await onlyInstance(h)).state).toBe('Terminating:Proceed');
        await h.advance(5);
        expect(await instancesOf(h)).toEqual([]);
        expect(eventsOf(h, 'EC2 Instance Terminate Successful')[0]?.detail.EC2InstanceId).toBe(id);
        // The second hook's action was stopped with the first: completing it is no longer possible.
        const late = await errorOf(
          h.call('CompleteLifecycleAction', {
            AutoScalingGroupName: 'web-prod',
            LifecycleHookName: 'archive-logs',
            InstanceId: id,
            LifecycleActionResult: 'CONTINUE',
          }),
        );
        expect(late.message).toBe(`No active Lifecycle Action found with instance ID ${id}`);
      });

      it('stops the remaining action when the first one times out with DefaultResult ABANDON', async () => {
        const h = createHarness();
        await groupWithHook(
          h,
          {
            LifecycleHookName: 'drain',
            LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
            HeartbeatTimeout: 60,
          },
          { DesiredCapacity: 1, MinSize: 0 },
        );
        await h.call('PutLifecycleHook', {
          AutoScalingGroupName: 'web-prod',
          LifecycleHookName: 'archive-logs',
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          DefaultResult: 'CONTINUE',
        });
        await h.advance(30);
        const { id } = await onlyInstance(h);
        await h.call('SetDesiredCapacity', { AutoScalingGroupName: 'web-prod', DesiredCapacity: 0 });
        await h.advance(30 + 59);
        expect((await onlyInstance(h)).state).toBe('Terminating:Wait');
        await h.advance(1);
        expect((await onlyInstance(h)).state).toBe('Terminating:Proceed');
        expect(h.ec2.get(id)?.state).toBe('shutting-down');
      });

      it('keeps waiting on the second hook after the first completes with CONTINUE', async () => {
        const h = createHarness();
        const id = await inServiceWithTwoTerminateHooks(h);
        await h.advance(30);
        await h.call('CompleteLifecycleAction', {
          AutoScalingGroupName: 'web-prod',
          LifecycleHookName: 'drain',
          InstanceId: id,
          LifecycleActionResult: 'CONTINUE',
        });
        expect((await onlyInstance(h)).state).toBe('Terminating:Wait');
        await h.call('CompleteLifecycleAction', {
          AutoScalingGroupName: 'web-prod',
          LifecycleHookName: 'archive-logs',
          InstanceId: id,
          LifecycleActionResult: 'CONTINUE',
        });
        expect((await onlyInstance(h)).state).toBe('Terminating:Proceed');
      });
    });

    it('completes outstanding actions when their hook is deleted', async () => {
      const h = createHarness();
      const id = await inServiceWithTerminateHook(h);
      await h.advance(30);
      await h.call('DeleteLifecycleHook', { AutoScalingGroupName: 'web-prod', LifecycleHookName: 'drain' });
      expect(h.ec2.get(id)?.state).toBe('shutting-down');
    });
  });
});
