import type { ActivitiesType, ActivityType } from '@aws-sdk/client-auto-scaling';
import {
  TG,
  createHarness,
  describeGroup,
  errorOf,
  eventsOf,
  fixtureDetailKeys,
  groupInput,
  instancesOf,
} from './autoscaling-fakes';

describe('AutoScalingSim groups', () => {
  describe('CreateAutoScalingGroup', () => {
    it('launches the desired capacity, InService once EC2 reports the instances running', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput({ DesiredCapacity: 3 }));
      expect((await instancesOf(h)).map((i) => i.LifecycleState)).toEqual(['Pending', 'Pending', 'Pending']);
      await h.advance(30);
      expect((await instancesOf(h)).map((i) => i.LifecycleState)).toEqual([
        'InService',
        'InService',
        'InService',
      ]);
    });

    it('starts at MinSize when DesiredCapacity is omitted', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput({ MinSize: 2, DesiredCapacity: undefined }));
      expect((await describeGroup(h)).DesiredCapacity).toBe(2);
      expect(h.ec2.launches).toHaveLength(2);
    });

    it('spreads instances across the subnets of VPCZoneIdentifier', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput({ DesiredCapacity: 4, MaxSize: 4 }));
      expect((await instancesOf(h)).map((i) => i.AvailabilityZone).sort()).toEqual([
        'us-east-1a',
        'us-east-1a',
        'us-east-1b',
        'us-east-1b',
      ]);
    });

    it('rejects MinSize greater than MaxSize with a ValidationError naming both bounds', async () => {
      const h = createHarness();
      const error = await errorOf(h.call('CreateAutoScalingGroup', groupInput({ MinSize: 3, MaxSize: 2 })));
      expect(error.name).toBe('ValidationError');
      expect(error.message).toBe('Max bound, 2, must be greater than or equal to min bound, 3');
    });

    it('rejects a DesiredCapacity outside min and max', async () => {
      const h = createHarness();
      const error = await errorOf(h.call('CreateAutoScalingGroup', groupInput({ DesiredCapacity: 9 })));
      expect(error.message).toBe(
        'Desired capacity:9 must be between the specified min size:1 and max size:4',
      );
    });

    it('rejects a second group with the same name with AlreadyExistsFault', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput());
      const error = await errorOf(h.call('CreateAutoScalingGroup', groupInput()));
      expect(error.name).toBe('AlreadyExistsFault');
      expect(error.message).toContain('A group with the name web-prod already exists');
    });

    it('rejects a request without any launch source', async () => {
      const h = createHarness();
      const error = await errorOf(
        h.call('CreateAutoScalingGroup', groupInput({ LaunchTemplate: undefined })),
      );
      expect(error.name).toBe('ValidationError');
      expect(error.message).toContain('Valid requests must contain either LaunchTemplate');
    });

    it('rejects a launch template EC2 does not know', async () => {
      const h = createHarness();
      const error = await errorOf(
        h.call(
          'CreateAutoScalingGroup',
          groupInput({ LaunchTemplate: { LaunchTemplateName: 'nope', Version: '1' } }),
        ),
      );
      expect(error.name).toBe('ValidationError');
      expect(error.message).toMatch(/^You must use a valid fully-formed launch template\. .*nope/);
    });

    it('rejects a missing MinSize naming the field', async () => {
      const h = createHarness();
      const error = await errorOf(h.call('CreateAutoScalingGroup', groupInput({ MinSize: undefined })));
      expect(error.message).toContain("Value null at 'minSize'");
    });

    it('rejects a group with neither Availability Zones nor subnets', async () => {
      const h = createHarness();
      const error = await errorOf(
        h.call('CreateAutoScalingGroup', groupInput({ VPCZoneIdentifier: undefined })),
      );
      expect(error.message).toBe('At least one Availability Zone or VPC Subnet is required.');
    });

    it('rejects a target group that does not exist', async () => {
      const h = createHarness();
      const error = await errorOf(
        h.call(
          'CreateAutoScalingGroup',
          groupInput({ TargetGroupARNs: ['arn:aws:elasticloadbalancing:x:1:targetgroup/none/1'] }),
        ),
      );
      expect(error.message).toContain('Provided Target Groups may not be valid');
    });
  });

  describe('DescribeAutoScalingGroups', () => {
    it('returns the documented group shape with each instance’s state, health, template version and protection', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput({ TargetGroupARNs: [TG], HealthCheckType: 'ELB' }));
      await h.advance(30);
      const group = await describeGroup(h);
      expect(group).toMatchObject({
        AutoScalingGroupName: 'web-prod',
        LaunchTemplate: { LaunchTemplateId: 'lt-0aaaaaaaaaaaaaaa1', LaunchTemplateName: 'web', Version: '1' },
        MinSize: 1,
        MaxSize: 4,
        DesiredCapacity: 2,
        HealthCheckType: 'ELB',
        HealthCheckGracePeriod: 0,
        TargetGroupARNs: [TG],
        VPCZoneIdentifier: 'subnet-a,subnet-b',
        SuspendedProcesses: [],
      });
      expect(group.AutoScalingGroupARN).toMatch(
        /^arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:[0-9a-f-]{36}:autoScalingGroupName\/web-prod$/,
      );
      expect(group.CreatedTime).toBeInstanceOf(Date);
      expect(group.Instances?.[0]).toEqual({
        InstanceId: expect.stringMatching(/^i-0[0-9a-f]{16}$/),
        InstanceType: 't3.micro',
        AvailabilityZone: expect.stringMatching(/^us-east-1[ab]$/),
        LifecycleState: 'InService',
        HealthStatus: 'Healthy',
        LaunchTemplate: { LaunchTemplateId: 'lt-0aaaaaaaaaaaaaaa1', LaunchTemplateName: 'web', Version: '1' },
        ProtectedFromScaleIn: false,
      });
    });

    it('resolves $Latest at launch time and reports the concrete version on each instance', async () => {
      const h = createHarness();
      await h.call(
        'CreateAutoScalingGroup',
        groupInput({ LaunchTemplate: { LaunchTemplateId: 'lt-0aaaaaaaaaaaaaaa1', Version: '$Latest' } }),
      );
      const group = await describeGroup(h);
      expect(group.LaunchTemplate?.Version).toBe('$Latest');
      expect(group.Instances?.map((i) => i.LaunchTemplate?.Version)).toEqual(['3', '3']);
    });

    it('returns only the named groups', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput());
      await h.call('CreateAutoScalingGroup', groupInput({ AutoScalingGroupName: 'web-staging' }));
      const out = (await h.call('DescribeAutoScalingGroups', { AutoScalingGroupNames: ['web-staging'] })) as {
        AutoScalingGroups: Array<{ AutoScalingGroupName: string }>;
      };
      expect(out.AutoScalingGroups.map((g) => g.AutoScalingGroupName)).toEqual(['web-staging']);
    });
  });

  describe('SetDesiredCapacity and UpdateAutoScalingGroup', () => {
    it('launches instances when desired capacity rises', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput());
      await h.call('SetDesiredCapacity', { AutoScalingGroupName: 'web-prod', DesiredCapacity: 4 });
      expect(await instancesOf(h)).toHaveLength(4);
    });

    it('terminates instances on the oldest launch template version first when desired capacity falls', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput());
      await h.advance(30);
      await h.call('UpdateAutoScalingGroup', {
        AutoScalingGroupName: 'web-prod',
        LaunchTemplate: { LaunchTemplateId: 'lt-0aaaaaaaaaaaaaaa1', Version: '2' },
        DesiredCapacity: 3,
      });
      await h.advance(30);
      await h.call('SetDesiredCapacity', { AutoScalingGroupName: 'web-prod', DesiredCapacity: 2 });
      const leaving = (await instancesOf(h)).filter((i) => i.LifecycleState?.startsWith('Terminating'));
      expect(leaving).toHaveLength(1);
      expect(leaving[0]?.LaunchTemplate?.Version).toBe('1');
    });

    it('rejects a desired capacity above MaxSize with AWS’s message', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput());
      const error = await errorOf(
        h.call('SetDesiredCapacity', { AutoScalingGroupName: 'web-prod', DesiredCapacity: 5 }),
      );
      expect(error.message).toBe(
        'New SetDesiredCapacity value 5 is above max value 4 for the AutoScalingGroup.',
      );
    });

    it('raises desired capacity to a new MinSize above it', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput());
      await h.call('UpdateAutoScalingGroup', { AutoScalingGroupName: 'web-prod', MinSize: 3 });
      expect((await describeGroup(h)).DesiredCapacity).toBe(3);
    });

    it('rejects an update of a group that does not exist', async () => {
      const h = createHarness();
      const error = await errorOf(
        h.call('UpdateAutoScalingGroup', { AutoScalingGroupName: 'ghost', MinSize: 1 }),
      );
      expect(error.message).toContain('AutoScalingGroup name not found');
    });
  });

  describe('health checks', () => {
    it('marks an instance Unhealthy and replaces it when its target is unhealthy after the grace period (ELB type)', async () => {
      const h = createHarness();
      h.ec2.failingVersions.add(1);
      await h.call(
        'CreateAutoScalingGroup',
        groupInput({
          DesiredCapacity: 1,
          TargetGroupARNs: [TG],
          HealthCheckType: 'ELB',
          HealthCheckGracePeriod: 60,
        }),
      );
      await h.advance(30 + 50);
      expect((await instancesOf(h)).map((i) => i.HealthStatus)).toEqual(['Healthy']);
      await h.advance(20);
      const [first, replacement] = await instancesOf(h);
      expect(first).toMatchObject({ HealthStatus: 'Unhealthy', LifecycleState: 'Terminating' });
      expect(replacement?.LifecycleState).toBe('Pending');
    });

    it('ignores target health when the health check type is EC2', async () => {
      const h = createHarness();
      h.ec2.failingVersions.add(1);
      await h.call('CreateAutoScalingGroup', groupInput({ DesiredCapacity: 1, TargetGroupARNs: [TG] }));
      await h.advance(300);
      expect((await instancesOf(h)).map((i) => [i.HealthStatus, i.LifecycleState])).toEqual([
        ['Healthy', 'InService'],
      ]);
    });

    it('keeps an unhealthy instance in place while ReplaceUnhealthy is suspended', async () => {
      const h = createHarness();
      h.ec2.failingVersions.add(1);
      await h.call(
        'CreateAutoScalingGroup',
        groupInput({ DesiredCapacity: 1, TargetGroupARNs: [TG], HealthCheckType: 'ELB' }),
      );
      await h.call('SuspendProcesses', {
        AutoScalingGroupName: 'web-prod',
        ScalingProcesses: ['ReplaceUnhealthy'],
      });
      await h.advance(120);
      expect((await instancesOf(h)).map((i) => [i.HealthStatus, i.LifecycleState])).toEqual([
        ['Unhealthy', 'InService'],
      ]);
    });
  });

  describe('processes and load balancers', () => {
    it('launches nothing while Launch is suspended and catches up on resume', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput({ MinSize: 0, DesiredCapacity: 0 }));
      await h.call('SuspendProcesses', { AutoScalingGroupName: 'web-prod', ScalingProcesses: ['Launch'] });
      await h.call('SetDesiredCapacity', { AutoScalingGroupName: 'web-prod', DesiredCapacity: 2 });
      expect(h.ec2.launches).toHaveLength(0);
      await h.call('ResumeProcesses', { AutoScalingGroupName: 'web-prod', ScalingProcesses: ['Launch'] });
      expect(h.ec2.launches).toHaveLength(2);
    });

    it('rejects an unknown process name', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput());
      const error = await errorOf(
        h.call('SuspendProcesses', { AutoScalingGroupName: 'web-prod', ScalingProcesses: ['Nap'] }),
      );
      expect(error.message).toContain('unknown process Nap');
    });

    it('registers instances with the target group only after AddToLoadBalancer resumes', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput({ DesiredCapacity: 1, TargetGroupARNs: [TG] }));
      await h.call('SuspendProcesses', {
        AutoScalingGroupName: 'web-prod',
        ScalingProcesses: ['AddToLoadBalancer'],
      });
      await h.advance(30);
      const id = (await instancesOf(h))[0]?.InstanceId ?? '';
      expect(h.elb.isRegistered(TG, id)).toBe(false);
      await h.call('ResumeProcesses', {
        AutoScalingGroupName: 'web-prod',
        ScalingProcesses: ['AddToLoadBalancer'],
      });
      expect(h.elb.isRegistered(TG, id)).toBe(true);
    });
  });

  describe('TerminateInstanceInAutoScalingGroup', () => {
    it('lowers desired capacity and launches no replacement when ShouldDecrementDesiredCapacity is true', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput());
      await h.advance(30);
      const id = (await instancesOf(h))[0]?.InstanceId;
      const out = (await h.call('TerminateInstanceInAutoScalingGroup', {
        InstanceId: id,
        ShouldDecrementDesiredCapacity: true,
      })) as ActivityType;
      expect(out.Activity?.Description).toBe(`Terminating EC2 instance: ${id}`);
      expect((await describeGroup(h)).DesiredCapacity).toBe(1);
      expect(h.ec2.launches).toHaveLength(2);
    });

    it('launches a replacement when ShouldDecrementDesiredCapacity is false', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput());
      await h.advance(30);
      const id = (await instancesOf(h))[0]?.InstanceId;
      await h.call('TerminateInstanceInAutoScalingGroup', {
        InstanceId: id,
        ShouldDecrementDesiredCapacity: false,
      });
      expect(h.ec2.launches).toHaveLength(3);
    });

    it('rejects a decrement that would go below MinSize', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput({ MinSize: 2 }));
      const id = (await instancesOf(h))[0]?.InstanceId;
      const error = await errorOf(
        h.call('TerminateInstanceInAutoScalingGroup', {
          InstanceId: id,
          ShouldDecrementDesiredCapacity: true,
        }),
      );
      expect(error.message).toContain(
        "Terminating instance without replacement will violate group's min size constraint",
      );
    });

    it('rejects an instance that belongs to no group', async () => {
      const h = createHarness();
      const error = await errorOf(
        h.call('TerminateInstanceInAutoScalingGroup', {
          InstanceId: 'i-0123',
          ShouldDecrementDesiredCapacity: false,
        }),
      );
      expect(error.message).toBe('Instance Id not found - No managed instance found for instance ID: i-0123');
    });

    it('emits EC2 Instance Terminate Successful in the documented shape once EC2 has terminated the instance', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput());
      await h.advance(30);
      const id = (await instancesOf(h))[0]?.InstanceId;
      await h.call('TerminateInstanceInAutoScalingGroup', {
        InstanceId: id,
        ShouldDecrementDesiredCapacity: true,
      });
      await h.advance(5);
      const [event] = eventsOf(h, 'EC2 Instance Terminate Successful');
      expect(Object.keys(event?.detail ?? {}).sort()).toEqual(
        fixtureDetailKeys('instance-terminate-successful.json'),
      );
      expect(event?.detail).toMatchObject({
        EC2InstanceId: id,
        Origin: 'AutoScalingGroup',
        Destination: 'EC2',
      });
      expect(event?.resources[1]).toBe(`arn:aws:ec2:us-east-1:123456789012:instance/${id}`);
    });
  });

  describe('DeleteAutoScalingGroup', () => {
    it('refuses to delete a group that still has instances', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput());
      await h.advance(30);
      const error = await errorOf(h.call('DeleteAutoScalingGroup', { AutoScalingGroupName: 'web-prod' }));
      expect(error.name).toBe('ResourceInUseFault');
    });

    it('refuses while instances are still launching', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput());
      const error = await errorOf(h.call('DeleteAutoScalingGroup', { AutoScalingGroupName: 'web-prod' }));
      expect(error.name).toBe('ScalingActivityInProgressFault');
    });

    it('with ForceDelete terminates the instances and then removes the group', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput());
      await h.advance(30);
      await h.call('DeleteAutoScalingGroup', { AutoScalingGroupName: 'web-prod', ForceDelete: true });
      expect((await describeGroup(h)).Status).toBe('Delete in progress');
      await h.advance(5);
      const out = (await h.call('DescribeAutoScalingGroups', { AutoScalingGroupNames: ['web-prod'] })) as {
        AutoScalingGroups: unknown[];
      };
      expect(out.AutoScalingGroups).toEqual([]);
      expect(h.ec2.live()).toHaveLength(0);
    });
  });

  describe('DescribeScalingActivities', () => {
    it('records each launch, newest first, as Successful once the instance is in service', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput());
      await h.advance(30);
      const out = (await h.call('DescribeScalingActivities', {
        AutoScalingGroupName: 'web-prod',
      })) as ActivitiesType;
      expect(out.Activities?.map((a) => a.StatusCode)).toEqual(['Successful', 'Successful']);
      expect(out.Activities?.[0]?.Description).toMatch(/^Launching a new EC2 instance: i-/);
    });

    it('emits EC2 Instance Launch Successful in the documented shape', async () => {
      const h = createHarness();
      await h.call('CreateAutoScalingGroup', groupInput({ DesiredCapacity: 1 }));
      await h.advance(30);
      const [event] = eventsOf(h, 'EC2 Instance Launch Successful');
      expect(event?.source).toBe('aws.autoscaling');
      expect(Object.keys(event?.detail ?? {}).sort()).toEqual(
        fixtureDetailKeys('instance-launch-successful.json'),
      );
    });

    it('reports a boot failure as EC2 Instance Launch Unsuccessful and retries later', async () => {
      const h = createHarness();
      h.ec2.failBoot = true;
      await h.call('CreateAutoScalingGroup', groupInput({ DesiredCapacity: 1 }));
      await h.advance(30);
      const [event] = eventsOf(h, 'EC2 Instance Launch Unsuccessful');
      expect(Object.keys(event?.detail ?? {}).sort()).toEqual(
        fixtureDetailKeys('instance-launch-unsuccessful.json'),
      );
      h.ec2.failBoot = false;
      await h.advance(10);
      expect(h.ec2.launches).toHaveLength(2);
    });
  });
});
