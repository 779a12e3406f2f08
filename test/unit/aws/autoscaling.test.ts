import {
  ActiveInstanceRefreshNotFoundFault,
  AlreadyExistsFault,
  AttachTrafficSourcesCommand,
  AutoScalingClient,
  AutoScalingServiceException,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  DescribeLifecycleHooksCommand,
  DescribePoliciesCommand,
  DetachLoadBalancerTargetGroupsCommand,
  DetachTrafficSourcesCommand,
  InstanceRefreshInProgressFault,
  PutScalingPolicyCommand,
  ResumeProcessesCommand,
  RollbackInstanceRefreshCommand,
  StartInstanceRefreshCommand,
  SuspendProcessesCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { AutoScalingGroups } from '../../../shared/aws/autoscaling';
import {
  AwsRequestRefusedError,
  RefreshInProgressError,
  TransientAwsError,
} from '../../../shared/domain/step-errors';
import type { GroupSpec, RefreshPreferences } from '../../../shared/usecases/rollout/deps';

const asgMock = mockClient(AutoScalingClient);

function validationError(message: string): AutoScalingServiceException {
  return new AutoScalingServiceException({
    name: 'ValidationError',
    $fault: 'client',
    message,
    $metadata: { httpStatusCode: 400 },
  });
}

function throttled(): AutoScalingServiceException {
  return new AutoScalingServiceException({
    name: 'Throttling',
    $fault: 'client',
    message: 'Rate exceeded',
    $metadata: { httpStatusCode: 400 },
  });
}

function rawGroup(overrides: Partial<AutoScalingGroup> = {}): AutoScalingGroup {
  return {
    AutoScalingGroupName: 'web-prod',
    AutoScalingGroupARN:
      'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:1:autoScalingGroupName/web-prod',
    LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '4' },
    MinSize: 2,
    MaxSize: 6,
    DesiredCapacity: 3,
    DefaultCooldown: 300,
    AvailabilityZones: ['us-east-1a', 'us-east-1b'],
    VPCZoneIdentifier: 'subnet-a,subnet-b',
    HealthCheckType: 'ELB',
    HealthCheckGracePeriod: 120,
    CreatedTime: new Date(0),
    ...overrides,
  };
}

const tgA = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-a/1111';
const tgB = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-b/2222';

const preferences: RefreshPreferences = {
  minHealthyPercentage: 90,
  maxHealthyPercentage: 110,
  instanceWarmupSeconds: 60,
  checkpoints: [50, 100],
  checkpointDelaySeconds: 300,
  bakeTimeSeconds: 0,
  skipMatching: true,
  autoRollback: true,
  alarms: ['web-5xx'],
  scaleInProtectedInstances: 'Wait',
  standbyInstances: 'Wait',
};

describe('AutoScalingGroups', () => {
  let groups: AutoScalingGroups;
  beforeEach(() => {
    asgMock.reset();
    groups = new AutoScalingGroups(new AutoScalingClient({ region: 'us-east-1', maxAttempts: 1 }));
  });

  describe('describeGroup', () => {
    it('speaks Kiln’s types: capacity, subnets, tags, processes and instances with their template version', async () => {
      asgMock.on(DescribeAutoScalingGroupsCommand).resolves({
        AutoScalingGroups: [
          rawGroup({
            DefaultInstanceWarmup: 30,
            Tags: [{ Key: 'kiln:managed', Value: 'true', ResourceId: 'web-prod', PropagateAtLaunch: true }],
            SuspendedProcesses: [{ ProcessName: 'AZRebalance', SuspensionReason: 'User suspended' }],
            Instances: [
              {
                InstanceId: 'i-1',
                AvailabilityZone: 'us-east-1a',
                LifecycleState: 'InService',
                HealthStatus: 'Healthy',
                LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '4' },
                ProtectedFromScaleIn: true,
              },
              {
                InstanceId: 'i-2',
                AvailabilityZone: 'us-east-1b',
                LifecycleState: 'Pending',
                HealthStatus: 'Healthy',
                ProtectedFromScaleIn: false,
              },
            ],
            Status: 'Delete in progress',
          }),
        ],
      });

      expect(await groups.describeGroup('web-prod')).toEqual({
        name: 'web-prod',
        arn: 'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:1:autoScalingGroupName/web-prod',
        launchTemplate: { id: 'lt-1', version: '4' },
        capacity: { min: 2, max: 6, desired: 3 },
        subnets: ['subnet-a', 'subnet-b'],
        healthCheckType: 'ELB',
        healthCheckGracePeriod: 120,
        defaultInstanceWarmup: 30,
        targetGroupArns: [],
        tags: { 'kiln:managed': 'true' },
        suspendedProcesses: ['AZRebalance'],
        instances: [
          {
            instanceId: 'i-1',
            lifecycleState: 'InService',
            healthStatus: 'Healthy',
            launchTemplateVersion: '4',
            protectedFromScaleIn: true,
          },
          {
            instanceId: 'i-2',
            lifecycleState: 'Pending',
            healthStatus: 'Healthy',
            protectedFromScaleIn: false,
          },
        ],
        status: 'Delete in progress',
      });
      expect(asgMock.commandCalls(DescribeAutoScalingGroupsCommand)[0]?.args[0].input).toEqual({
        AutoScalingGroupNames: ['web-prod'],
      });
    });

    it('lists target groups attached as traffic sources and through the older API, once each', async () => {
      asgMock.on(DescribeAutoScalingGroupsCommand).resolves({
        AutoScalingGroups: [
          rawGroup({
            TargetGroupARNs: [tgA],
            TrafficSources: [
              { Identifier: tgA, Type: 'elbv2' },
              { Identifier: tgB, Type: 'elbv2' },
              { Identifier: 'my-classic-lb', Type: 'elb' },
            ],
          }),
        ],
      });

      expect((await groups.describeGroup('web-prod'))?.targetGroupArns).toEqual([tgA, tgB]);
    });

    it('answers undefined for a group that does not exist', async () => {
      asgMock.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
      expect(await groups.describeGroup('nope')).toBeUndefined();
    });

    it('turns throttling into TransientAwsError', async () => {
      asgMock.on(DescribeAutoScalingGroupsCommand).rejects(throttled());
      await expect(groups.describeGroup('web-prod')).rejects.toBeInstanceOf(TransientAwsError);
    });
  });

  describe('findGroupsByTags', () => {
    it('filters by tag:KEY on every page and keeps only groups carrying every tag', async () => {
      const tagged = (name: string, tags: Record<string, string>) =>
        rawGroup({
          AutoScalingGroupName: name,
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value, ResourceId: name })),
        });
      asgMock
        .on(DescribeAutoScalingGroupsCommand)
        .resolvesOnce({
          AutoScalingGroups: [
            tagged('web-prod-kiln-1', { 'kiln:service': 'web', 'kiln:environment': 'prod' }),
          ],
          NextToken: 'page-2',
        })
        .resolvesOnce({
          AutoScalingGroups: [
            tagged('web-prod-kiln-2', { 'kiln:service': 'web', 'kiln:environment': 'prod' }),
            tagged('web-staging', { 'kiln:service': 'web', 'kiln:environment': 'staging' }),
          ],
        });

      const found = await groups.findGroupsByTags({ 'kiln:service': 'web', 'kiln:environment': 'prod' });

      expect(found.map((group) => group.name)).toEqual(['web-prod-kiln-1', 'web-prod-kiln-2']);
      const inputs = asgMock.commandCalls(DescribeAutoScalingGroupsCommand).map((call) => call.args[0].input);
      const filters = [
        { Name: 'tag:kiln:service', Values: ['web'] },
        { Name: 'tag:kiln:environment', Values: ['prod'] },
      ];
      expect(inputs).toEqual([{ Filters: filters }, { Filters: filters, NextToken: 'page-2' }]);
    });
  });

  describe('createGroup', () => {
    const spec: GroupSpec = {
      name: 'web-prod-kiln-1',
      launchTemplate: { id: 'lt-1', version: 5 },
      capacity: { min: 2, max: 6, desired: 3 },
      subnets: ['subnet-a', 'subnet-b'],
      healthCheckType: 'ELB',
      healthCheckGracePeriod: 120,
      defaultInstanceWarmup: 30,
      tags: { 'kiln:managed': 'true', 'kiln:role': 'green' },
      lifecycleHooks: [
        {
          name: 'warm-up',
          transition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
          heartbeatTimeoutSeconds: 600,
          defaultResult: 'ABANDON',
        },
      ],
      targetGroupArns: [],
    };

    it('creates the group with its hooks, its tags propagated at launch and a numbered version', async () => {
      asgMock.on(CreateAutoScalingGroupCommand).resolves({});

      expect(await groups.createGroup(spec)).toBe('created');
      expect(asgMock.commandCalls(CreateAutoScalingGroupCommand)[0]?.args[0].input).toEqual({
        AutoScalingGroupName: 'web-prod-kiln-1',
        LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '5' },
        MinSize: 2,
        MaxSize: 6,
        DesiredCapacity: 3,
        VPCZoneIdentifier: 'subnet-a,subnet-b',
        HealthCheckType: 'ELB',
        HealthCheckGracePeriod: 120,
        DefaultInstanceWarmup: 30,
        LifecycleHookSpecificationList: [
          {
            LifecycleHookName: 'warm-up',
            LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
            HeartbeatTimeout: 600,
            DefaultResult: 'ABANDON',
          },
        ],
        Tags: [
          {
            Key: 'kiln:managed',
            Value: 'true',
            ResourceId: 'web-prod-kiln-1',
            ResourceType: 'auto-scaling-group',
            PropagateAtLaunch: true,
          },
          {
            Key: 'kiln:role',
            Value: 'green',
            ResourceId: 'web-prod-kiln-1',
            ResourceType: 'auto-scaling-group',
            PropagateAtLaunch: true,
          },
        ],
      });
    });

    it('attaches target groups at creation as traffic sources when given', async () => {
      asgMock.on(CreateAutoScalingGroupCommand).resolves({});
      await groups.createGroup({ ...spec, targetGroupArns: [tgA] });
      expect(asgMock.commandCalls(CreateAutoScalingGroupCommand)[0]?.args[0].input.TrafficSources).toEqual([
        { Identifier: tgA, Type: 'elbv2' },
      ]);
    });

    it('answers already-exists when the name is taken (a retried step)', async () => {
      asgMock
        .on(CreateAutoScalingGroupCommand)
        .rejects(
          new AlreadyExistsFault({ message: 'AutoScalingGroup by this name already exists', $metadata: {} }),
        );
      expect(await groups.createGroup(spec)).toBe('already-exists');
    });

    it('refuses a template version that is not a number before calling AWS', async () => {
      await expect(
        groups.createGroup({ ...spec, launchTemplate: { id: 'lt-1', version: 0 } }),
      ).rejects.toThrow('version 0 is not a version number');
      expect(asgMock.commandCalls(CreateAutoScalingGroupCommand)).toHaveLength(0);
    });

    it('turns another refusal into AwsRequestRefusedError naming the code', async () => {
      asgMock.on(CreateAutoScalingGroupCommand).rejects(validationError('Invalid subnet'));
      const attempt = groups.createGroup(spec);
      await expect(attempt).rejects.toBeInstanceOf(AwsRequestRefusedError);
      await expect(attempt).rejects.toMatchObject({ code: 'ValidationError' });
    });
  });

  describe('deleteGroup', () => {
    it('force-deletes the group', async () => {
      asgMock.on(DeleteAutoScalingGroupCommand).resolves({});
      expect(await groups.deleteGroup('web-prod-kiln-1')).toBe('deleted');
      expect(asgMock.commandCalls(DeleteAutoScalingGroupCommand)[0]?.args[0].input).toEqual({
        AutoScalingGroupName: 'web-prod-kiln-1',
        ForceDelete: true,
      });
    });

    it('answers already-gone when Auto Scaling no longer knows the group', async () => {
      asgMock
        .on(DeleteAutoScalingGroupCommand)
        .rejects(validationError("AutoScalingGroup name not found - AutoScalingGroup 'x' not found"));
      expect(await groups.deleteGroup('x')).toBe('already-gone');
    });

    it('refuses any other ValidationError', async () => {
      asgMock.on(DeleteAutoScalingGroupCommand).rejects(validationError('Something else is wrong'));
      await expect(groups.deleteGroup('x')).rejects.toBeInstanceOf(AwsRequestRefusedError);
    });
  });

  describe('updateGroup', () => {
    it('sends only the launch template when only it changes, as a version number', async () => {
      asgMock.on(UpdateAutoScalingGroupCommand).resolves({});
      await groups.updateGroup('web-prod', { launchTemplate: { id: 'lt-1', version: 7 } });
      expect(asgMock.commandCalls(UpdateAutoScalingGroupCommand)[0]?.args[0].input).toEqual({
        AutoScalingGroupName: 'web-prod',
        LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '7' },
      });
    });

    it('sends only the capacity when only it changes', async () => {
      asgMock.on(UpdateAutoScalingGroupCommand).resolves({});
      await groups.updateGroup('web-prod', { capacity: { min: 0, max: 0, desired: 0 } });
      expect(asgMock.commandCalls(UpdateAutoScalingGroupCommand)[0]?.args[0].input).toEqual({
        AutoScalingGroupName: 'web-prod',
        MinSize: 0,
        MaxSize: 0,
        DesiredCapacity: 0,
      });
    });

    it('calls nothing when nothing changes', async () => {
      await groups.updateGroup('web-prod', {});
      expect(asgMock.calls()).toHaveLength(0);
    });
  });

  describe('suspendProcesses and resumeProcesses', () => {
    it('names the processes', async () => {
      asgMock.on(SuspendProcessesCommand).resolves({}).on(ResumeProcessesCommand).resolves({});
      await groups.suspendProcesses('web-prod', ['AZRebalance', 'ScheduledActions']);
      await groups.resumeProcesses('web-prod', ['AZRebalance']);
      expect(asgMock.commandCalls(SuspendProcessesCommand)[0]?.args[0].input).toEqual({
        AutoScalingGroupName: 'web-prod',
        ScalingProcesses: ['AZRebalance', 'ScheduledActions'],
      });
      expect(asgMock.commandCalls(ResumeProcessesCommand)[0]?.args[0].input).toEqual({
        AutoScalingGroupName: 'web-prod',
        ScalingProcesses: ['AZRebalance'],
      });
    });

    it('sends nothing for an empty list, which AWS would take as every process', async () => {
      await groups.suspendProcesses('web-prod', []);
      await groups.resumeProcesses('web-prod', []);
      expect(asgMock.calls()).toHaveLength(0);
    });
  });

  describe('attachTargetGroups and detachTargetGroups', () => {
    it('attaches as elbv2 traffic sources', async () => {
      asgMock.on(AttachTrafficSourcesCommand).resolves({});
      await groups.attachTargetGroups('web-prod-kiln-1', [tgA, tgB]);
      expect(asgMock.commandCalls(AttachTrafficSourcesCommand)[0]?.args[0].input).toEqual({
        AutoScalingGroupName: 'web-prod-kiln-1',
        TrafficSources: [
          { Identifier: tgA, Type: 'elbv2' },
          { Identifier: tgB, Type: 'elbv2' },
        ],
      });
    });

    it('detaches each target group through the API that attached it, and skips one not attached', async () => {
      const tgC = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-c/3333';
      asgMock
        .on(DescribeAutoScalingGroupsCommand)
        .resolves({
          AutoScalingGroups: [
            rawGroup({ TargetGroupARNs: [tgA], TrafficSources: [{ Identifier: tgB, Type: 'elbv2' }] }),
          ],
        })
        .on(DetachTrafficSourcesCommand)
        .resolves({})
        .on(DetachLoadBalancerTargetGroupsCommand)
        .resolves({});

      await groups.detachTargetGroups('web-prod', [tgA, tgB, tgC]);

      expect(asgMock.commandCalls(DetachTrafficSourcesCommand).map((call) => call.args[0].input)).toEqual([
        { AutoScalingGroupName: 'web-prod', TrafficSources: [{ Identifier: tgB, Type: 'elbv2' }] },
      ]);
      expect(
        asgMock.commandCalls(DetachLoadBalancerTargetGroupsCommand).map((call) => call.args[0].input),
      ).toEqual([{ AutoScalingGroupName: 'web-prod', TargetGroupARNs: [tgA] }]);
    });

    it('detaches nothing from a group that is gone', async () => {
      asgMock.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
      await groups.detachTargetGroups('gone', [tgA]);
      expect(asgMock.commandCalls(DetachTrafficSourcesCommand)).toHaveLength(0);
      expect(asgMock.commandCalls(DetachLoadBalancerTargetGroupsCommand)).toHaveLength(0);
    });
  });

  describe('lifecycleHooks', () => {
    it('answers the hooks as specs that can re-create them', async () => {
      asgMock.on(DescribeLifecycleHooksCommand).resolves({
        LifecycleHooks: [
          {
            LifecycleHookName: 'drain',
            AutoScalingGroupName: 'web-prod',
            LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
            HeartbeatTimeout: 300,
            GlobalTimeout: 30000,
            DefaultResult: 'CONTINUE',
            NotificationTargetARN: 'arn:aws:sqs:us-east-1:123456789012:hooks',
            RoleARN: 'arn:aws:iam::123456789012:role/hooks',
            NotificationMetadata: '{"k":"v"}',
          },
        ],
      });

      expect(await groups.lifecycleHooks('web-prod')).toEqual([
        {
          name: 'drain',
          transition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          heartbeatTimeoutSeconds: 300,
          defaultResult: 'CONTINUE',
          notificationTargetArn: 'arn:aws:sqs:us-east-1:123456789012:hooks',
          roleArn: 'arn:aws:iam::123456789012:role/hooks',
          notificationMetadata: '{"k":"v"}',
        },
      ]);
    });
  });

  describe('scalingPolicies and putScalingPolicy', () => {
    const targetTracking = {
      TargetValue: 50,
      PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' as const },
    };

    it('reads every page and keeps PutScalingPolicy’s parameters only, and the policy ARN beside them', async () => {
      asgMock
        .on(DescribePoliciesCommand)
        .resolvesOnce({
          ScalingPolicies: [
            {
              AutoScalingGroupName: 'web-prod',
              PolicyName: 'cpu50',
              PolicyARN: 'arn:aws:autoscaling:…:policy/cpu50',
              PolicyType: 'TargetTrackingScaling',
              TargetTrackingConfiguration: targetTracking,
              Alarms: [{ AlarmName: 'TargetTracking-web-prod-AlarmHigh', AlarmARN: 'arn:alarm' }],
              Enabled: true,
            },
          ],
          NextToken: 'page-2',
        })
        .resolvesOnce({
          ScalingPolicies: [
            {
              PolicyName: 'step-out',
              PolicyType: 'StepScaling',
              AdjustmentType: 'ChangeInCapacity',
              StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 2 }],
              MetricAggregationType: 'Average',
              Enabled: true,
            },
          ],
        });

      expect(await groups.scalingPolicies('web-prod')).toEqual([
        {
          name: 'cpu50',
          policyType: 'TargetTrackingScaling',
          parameters: { TargetTrackingConfiguration: targetTracking, Enabled: true },
          arn: 'arn:aws:autoscaling:…:policy/cpu50',
        },
        {
          name: 'step-out',
          policyType: 'StepScaling',
          parameters: {
            AdjustmentType: 'ChangeInCapacity',
            StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 2 }],
            MetricAggregationType: 'Average',
            Enabled: true,
          },
        },
      ]);
      expect(asgMock.commandCalls(DescribePoliciesCommand).map((call) => call.args[0].input)).toEqual([
        { AutoScalingGroupName: 'web-prod' },
        { AutoScalingGroupName: 'web-prod', NextToken: 'page-2' },
      ]);
    });

    it('copies only the parameters the policy’s type takes (an empty StepAdjustments on target tracking stays behind)', async () => {
      asgMock.on(DescribePoliciesCommand).resolves({
        ScalingPolicies: [
          {
            PolicyName: 'cpu50',
            PolicyType: 'TargetTrackingScaling',
            TargetTrackingConfiguration: targetTracking,
            StepAdjustments: [],
            Cooldown: 300,
            Enabled: true,
          },
        ],
      });

      expect(await groups.scalingPolicies('web-prod')).toEqual([
        {
          name: 'cpu50',
          policyType: 'TargetTrackingScaling',
          parameters: { TargetTrackingConfiguration: targetTracking, Enabled: true },
        },
      ]);
    });

    it('puts a policy on another group with its parameters, and nothing it does not take', async () => {
      asgMock.on(PutScalingPolicyCommand).resolves({});
      await groups.putScalingPolicy('web-prod-kiln-1', {
        name: 'cpu50',
        policyType: 'TargetTrackingScaling',
        parameters: {
          TargetTrackingConfiguration: targetTracking,
          PolicyARN: 'arn:old',
          StepAdjustments: [],
          Enabled: true,
        },
      });
      expect(asgMock.commandCalls(PutScalingPolicyCommand)[0]?.args[0].input).toEqual({
        AutoScalingGroupName: 'web-prod-kiln-1',
        PolicyName: 'cpu50',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingConfiguration: targetTracking,
        Enabled: true,
      });
    });
  });

  describe('startRefresh', () => {
    const input = { group: 'web-prod', launchTemplate: { id: 'lt-1', version: 5 }, preferences };

    it('starts a rolling refresh to the numbered version with every preference explicit', async () => {
      asgMock.on(StartInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-1' });

      expect(await groups.startRefresh(input)).toEqual({ refreshId: 'r-1', outcome: 'started' });
      expect(asgMock.commandCalls(StartInstanceRefreshCommand)[0]?.args[0].input).toEqual({
        AutoScalingGroupName: 'web-prod',
        Strategy: 'Rolling',
        DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '5' } },
        Preferences: {
          MinHealthyPercentage: 90,
          MaxHealthyPercentage: 110,
          InstanceWarmup: 60,
          CheckpointPercentages: [50, 100],
          CheckpointDelay: 300,
          SkipMatching: true,
          AutoRollback: true,
          AlarmSpecification: { Alarms: ['web-5xx'] },
          ScaleInProtectedInstances: 'Wait',
          StandbyInstances: 'Wait',
          BakeTime: 0,
        },
      });
    });

    it('sends no AlarmSpecification and no checkpoints when there are none', async () => {
      asgMock.on(StartInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-1' });
      await groups.startRefresh({ ...input, preferences: { ...preferences, alarms: [], checkpoints: [] } });
      const sent = asgMock.commandCalls(StartInstanceRefreshCommand)[0]?.args[0].input.Preferences;
      expect(sent).not.toHaveProperty('AlarmSpecification');
      expect(sent).not.toHaveProperty('CheckpointPercentages');
    });

    it('adopts a refresh in progress to the same version (a retried start)', async () => {
      asgMock
        .on(StartInstanceRefreshCommand)
        .rejects(
          new InstanceRefreshInProgressFault({
            message: 'An Instance Refresh is already in progress',
            $metadata: {},
          }),
        )
        .on(DescribeInstanceRefreshesCommand)
        .resolves({
          InstanceRefreshes: [
            {
              InstanceRefreshId: 'r-1',
              AutoScalingGroupName: 'web-prod',
              Status: 'InProgress',
              DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '5' } },
            },
            { InstanceRefreshId: 'r-0', Status: 'Successful' },
          ],
        });

      expect(await groups.startRefresh(input)).toEqual({ refreshId: 'r-1', outcome: 'already-started' });
    });

    it('refuses with RefreshInProgressError when the refresh in progress goes to another version', async () => {
      asgMock
        .on(StartInstanceRefreshCommand)
        .rejects(
          new InstanceRefreshInProgressFault({
            message: 'An Instance Refresh is already in progress',
            $metadata: {},
          }),
        )
        .on(DescribeInstanceRefreshesCommand)
        .resolves({
          InstanceRefreshes: [
            {
              InstanceRefreshId: 'r-9',
              Status: 'InProgress',
              DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '4' } },
            },
          ],
        });

      const attempt = groups.startRefresh(input);
      await expect(attempt).rejects.toBeInstanceOf(RefreshInProgressError);
      await expect(attempt).rejects.toMatchObject({
        refreshId: 'r-9',
        desired: { id: 'lt-1', version: '4' },
        message: expect.stringContaining('r-9 InProgress to lt-1 version 4, not to lt-1 version 5'),
      });
    });

    it('does not adopt a refresh to the same version that is being cancelled', async () => {
      asgMock
        .on(StartInstanceRefreshCommand)
        .rejects(new InstanceRefreshInProgressFault({ message: 'in progress', $metadata: {} }))
        .on(DescribeInstanceRefreshesCommand)
        .resolves({
          InstanceRefreshes: [
            {
              InstanceRefreshId: 'r-1',
              Status: 'Cancelling',
              DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '5' } },
            },
          ],
        });
      await expect(groups.startRefresh(input)).rejects.toBeInstanceOf(RefreshInProgressError);
    });
  });

  describe('describeRefresh and activeRefresh', () => {
    it('describes one refresh by id in Kiln’s words', async () => {
      asgMock.on(DescribeInstanceRefreshesCommand).resolves({
        InstanceRefreshes: [
          {
            InstanceRefreshId: 'r-1',
            Status: 'RollbackSuccessful',
            StatusReason: 'Alarm web-5xx went into ALARM',
            PercentageComplete: 40,
            InstancesToUpdate: 3,
            DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '5' } },
            RollbackDetails: { RollbackReason: 'alarm' },
          },
        ],
      });

      expect(await groups.describeRefresh('web-prod', 'r-1')).toEqual({
        refreshId: 'r-1',
        status: 'RollbackSuccessful',
        statusReason: 'Alarm web-5xx went into ALARM',
        percentageComplete: 40,
        instancesToUpdate: 3,
        desiredLaunchTemplate: { id: 'lt-1', version: '5' },
        rollbackReason: 'alarm',
      });
      expect(asgMock.commandCalls(DescribeInstanceRefreshesCommand)[0]?.args[0].input).toEqual({
        AutoScalingGroupName: 'web-prod',
        InstanceRefreshIds: ['r-1'],
      });
    });

    it('answers undefined for an unknown refresh or a group that is gone', async () => {
      asgMock
        .on(DescribeInstanceRefreshesCommand)
        .resolvesOnce({ InstanceRefreshes: [] })
        .rejectsOnce(validationError("AutoScalingGroup name not found - AutoScalingGroup 'gone' not found"));
      expect(await groups.describeRefresh('web-prod', 'r-x')).toBeUndefined();
      expect(await groups.describeRefresh('gone', 'r-1')).toBeUndefined();
    });

    it('finds the active refresh on a later page', async () => {
      asgMock
        .on(DescribeInstanceRefreshesCommand)
        .resolvesOnce({
          InstanceRefreshes: [{ InstanceRefreshId: 'r-3', Status: 'Cancelled' }],
          NextToken: 't',
        })
        .resolvesOnce({ InstanceRefreshes: [{ InstanceRefreshId: 'r-2', Status: 'Baking' }] });
      expect(await groups.activeRefresh('web-prod')).toMatchObject({ refreshId: 'r-2', status: 'Baking' });
      expect(asgMock.commandCalls(DescribeInstanceRefreshesCommand)[1]?.args[0].input).toEqual({
        AutoScalingGroupName: 'web-prod',
        NextToken: 't',
      });
    });

    it('answers undefined when no refresh is active', async () => {
      asgMock
        .on(DescribeInstanceRefreshesCommand)
        .resolves({ InstanceRefreshes: [{ InstanceRefreshId: 'r-1', Status: 'Successful' }] });
      expect(await groups.activeRefresh('web-prod')).toBeUndefined();
    });
  });

  describe('rollbackRefresh', () => {
    it('answers the rollback’s refresh id', async () => {
      asgMock.on(RollbackInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-1' });
      expect(await groups.rollbackRefresh('web-prod')).toEqual({ refreshId: 'r-1' });
    });

    it('answers none when no refresh is in progress', async () => {
      asgMock
        .on(RollbackInstanceRefreshCommand)
        .rejects(
          new ActiveInstanceRefreshNotFoundFault({ message: 'No in progress refresh', $metadata: {} }),
        );
      expect(await groups.rollbackRefresh('web-prod')).toBe('none');
    });
  });
});
