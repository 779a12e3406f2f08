/**
 * The rollout's adapters against moto: their requests are ones the APIs accept (moto validates
 * shapes and parameters) and they read moto's AWS-shaped answers, including the error codes they
 * turn into "not found" or "already gone". Behaviour over time is tested against the sandbox
 * (test/integration/sandbox/rollout-adapters.test.ts).
 *
 * What moto 5.2.1 lacks or does not do as AWS does, and so is left to the sandbox test:
 * - StartInstanceRefresh, DescribeInstanceRefreshes and RollbackInstanceRefresh, the traffic source
 *   calls (AttachTrafficSources, DetachTrafficSources) and CloudWatch's DescribeAlarmHistory are not
 *   implemented (moto answers an HTML page);
 * - CreateAutoScalingGroup ignores LifecycleHookSpecificationList (hooks are read here after
 *   PutLifecycleHook, and moto describes each with a NotificationTargetARN and RoleARN of its own,
 *   whatever was put) and silently replaces a group of the same name instead of refusing
 *   AlreadyExists;
 * - CreateLaunchTemplateVersion ignores ClientToken (a repeat makes another version) and
 *   SourceVersion (the version holds only the data given).
 */
import {
  AttachLoadBalancerTargetGroupsCommand,
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  PutLifecycleHookCommand,
} from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateLaunchTemplateCommand,
  DescribeImagesCommand,
  DescribeSubnetsCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { AutoScalingGroups } from '../../shared/aws/autoscaling';
import { Alarms } from '../../shared/aws/cloudwatch';
import { TargetGroups } from '../../shared/aws/elbv2';
import { LaunchTemplates } from '../../shared/aws/launch-templates';
import { AwsRequestRefusedError } from '../../shared/domain/step-errors';
import type { GroupSpec } from '../../shared/usecases/rollout/deps';
import { motoClientConfig, resetMoto } from './moto';

interface World {
  ec2: EC2Client;
  autoScaling: AutoScalingClient;
  elbv2: ElasticLoadBalancingV2Client;
  cloudWatch: CloudWatchClient;
  groups: AutoScalingGroups;
  templates: LaunchTemplates;
  targetGroups: TargetGroups;
  alarms: Alarms;
  templateId: string;
  imageId: string;
  subnetIds: string[];
  vpcId: string;
}

const clients: Array<{ destroy: () => void }> = [];

afterAll(() => {
  for (const client of clients) client.destroy();
});

async function world(): Promise<World> {
  await resetMoto();
  const ec2 = new EC2Client(motoClientConfig());
  const autoScaling = new AutoScalingClient(motoClientConfig());
  const elbv2 = new ElasticLoadBalancingV2Client(motoClientConfig());
  const cloudWatch = new CloudWatchClient(motoClientConfig());
  clients.push(ec2, autoScaling, elbv2, cloudWatch);
  const { Subnets = [] } = await ec2.send(new DescribeSubnetsCommand({}));
  const { Images = [] } = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
  const imageId = Images.find((image) => image.State === 'available')?.ImageId;
  const vpcId = Subnets[0]?.VpcId;
  if (imageId === undefined || vpcId === undefined) throw new Error('moto has no default subnet or AMI');
  const created = await ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: 'web',
      LaunchTemplateData: { ImageId: imageId, InstanceType: 't3.micro' },
    }),
  );
  const templateId = created.LaunchTemplate?.LaunchTemplateId;
  if (templateId === undefined) throw new Error('moto returned no launch template id');
  return {
    ec2,
    autoScaling,
    elbv2,
    cloudWatch,
    groups: new AutoScalingGroups(autoScaling),
    templates: new LaunchTemplates(ec2),
    targetGroups: new TargetGroups(elbv2),
    alarms: new Alarms(cloudWatch),
    templateId,
    imageId,
    subnetIds: Subnets.slice(0, 2).flatMap((subnet) => subnet.SubnetId ?? []),
    vpcId,
  };
}

async function targetGroup(w: World, name: string): Promise<string> {
  const created = await w.elbv2.send(
    new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 80, VpcId: w.vpcId }),
  );
  const arn = created.TargetGroups?.[0]?.TargetGroupArn;
  if (arn === undefined) throw new Error('moto returned no target group ARN');
  return arn;
}

function greenSpec(w: World, overrides: Partial<GroupSpec> = {}): GroupSpec {
  return {
    name: 'web-kiln-1',
    launchTemplate: { id: w.templateId, version: 1 },
    capacity: { min: 1, max: 3, desired: 2 },
    subnets: w.subnetIds,
    healthCheckType: 'ELB',
    healthCheckGracePeriod: 60,
    tags: { 'kiln:managed': 'true', 'kiln:service': 'web', 'kiln:role': 'green' },
    lifecycleHooks: [],
    targetGroupArns: [],
    ...overrides,
  };
}

describe('the rollout adapters against moto', () => {
  describe('LaunchTemplates', () => {
    it('creates a version and reads its number and image back', async () => {
      const w = await world();

      const version = await w.templates.createVersion({
        launchTemplateId: w.templateId,
        sourceVersion: 1,
        imageId: w.imageId,
        description: 'web 1.1.0',
        clientToken: 'token-1',
      });

      expect(version).toEqual({ id: w.templateId, version: 2 });
      expect(await w.templates.describeVersion(w.templateId, 2)).toEqual({ version: 2, imageId: w.imageId });
    });

    it('resolves $Latest and $Default to numbers', async () => {
      const w = await world();
      await w.templates.createVersion({
        launchTemplateId: w.templateId,
        sourceVersion: 1,
        imageId: w.imageId,
        description: 'web 1.1.0',
        clientToken: 'token-1',
      });

      expect(await w.templates.resolveVersion(w.templateId, '$Latest')).toBe(2);
      expect(await w.templates.resolveVersion(w.templateId, '$Default')).toBe(1);
    });

    it('answers undefined for a version or a template EC2 does not know', async () => {
      const w = await world();
      expect(await w.templates.describeVersion(w.templateId, 9)).toBeUndefined();
      expect(await w.templates.describeVersion('lt-0123456789abcdef0', 1)).toBeUndefined();
    });

    it('refuses a version of a template that does not exist, naming the code', async () => {
      const w = await world();
      const attempt = w.templates.createVersion({
        launchTemplateId: 'lt-0123456789abcdef0',
        sourceVersion: 1,
        imageId: w.imageId,
        description: 'x',
        clientToken: 'token-2',
      });
      await expect(attempt).rejects.toBeInstanceOf(AwsRequestRefusedError);
      await expect(attempt).rejects.toMatchObject({ code: 'InvalidLaunchTemplateId.NotFound' });
    });
  });

  describe('AutoScalingGroups', () => {
    it('creates a group that describes back with its version, capacity, subnets and tags', async () => {
      const w = await world();

      expect(await w.groups.createGroup(greenSpec(w))).toBe('created');

      const group = await w.groups.describeGroup('web-kiln-1');
      expect(group).toMatchObject({
        name: 'web-kiln-1',
        launchTemplate: { id: w.templateId, version: '1' },
        capacity: { min: 1, max: 3, desired: 2 },
        subnets: w.subnetIds,
        healthCheckType: 'ELB',
        healthCheckGracePeriod: 60,
        tags: { 'kiln:managed': 'true', 'kiln:service': 'web', 'kiln:role': 'green' },
      });
      expect(group?.instances.map((instance) => instance.launchTemplateVersion)).toEqual(['1', '1']);
      const raw = await w.autoScaling.send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web-kiln-1'] }),
      );
      expect(raw.AutoScalingGroups?.[0]?.Tags?.every((tag) => tag.PropagateAtLaunch === true)).toBe(true);
    });

    it('finds groups by tags with the tag:KEY filter', async () => {
      const w = await world();
      await w.groups.createGroup(greenSpec(w));
      await w.groups.createGroup(
        greenSpec(w, { name: 'api-kiln-1', tags: { 'kiln:service': 'api', 'kiln:role': 'green' } }),
      );

      const found = await w.groups.findGroupsByTags({ 'kiln:service': 'web', 'kiln:role': 'green' });

      expect(found.map((group) => group.name)).toEqual(['web-kiln-1']);
    });

    it('changes only what is given, suspends and resumes processes', async () => {
      const w = await world();
      await w.groups.createGroup(greenSpec(w));
      const version = await w.templates.createVersion({
        launchTemplateId: w.templateId,
        sourceVersion: 1,
        imageId: w.imageId,
        description: 'web 1.1.0',
        clientToken: 'token-1',
      });

      await w.groups.updateGroup('web-kiln-1', { launchTemplate: version });
      await w.groups.updateGroup('web-kiln-1', { capacity: { min: 0, max: 0, desired: 0 } });
      await w.groups.suspendProcesses('web-kiln-1', ['AZRebalance', 'ScheduledActions']);
      await w.groups.resumeProcesses('web-kiln-1', ['ScheduledActions']);

      expect(await w.groups.describeGroup('web-kiln-1')).toMatchObject({
        launchTemplate: { id: w.templateId, version: '2' },
        capacity: { min: 0, max: 0, desired: 0 },
        suspendedProcesses: ['AZRebalance'],
      });
    });

    it('reads target groups attached through the older API, and detaches them through it', async () => {
      const w = await world();
      const arn = await targetGroup(w, 'web');
      await w.groups.createGroup(greenSpec(w));
      await w.autoScaling.send(
        new AttachLoadBalancerTargetGroupsCommand({
          AutoScalingGroupName: 'web-kiln-1',
          TargetGroupARNs: [arn],
        }),
      );
      expect((await w.groups.describeGroup('web-kiln-1'))?.targetGroupArns).toEqual([arn]);

      await w.groups.detachTargetGroups('web-kiln-1', [arn]);

      expect((await w.groups.describeGroup('web-kiln-1'))?.targetGroupArns).toEqual([]);
    });

    it('reads a group’s lifecycle hooks as specs', async () => {
      const w = await world();
      await w.groups.createGroup(greenSpec(w));
      await w.autoScaling.send(
        new PutLifecycleHookCommand({
          AutoScalingGroupName: 'web-kiln-1',
          LifecycleHookName: 'drain',
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          HeartbeatTimeout: 300,
          DefaultResult: 'CONTINUE',
        }),
      );

      // moto describes every hook with a fixed NotificationTargetARN and RoleARN of its own.
      const hooks = await w.groups.lifecycleHooks('web-kiln-1');
      expect(hooks).toHaveLength(1);
      expect(hooks[0]).toMatchObject({
        name: 'drain',
        transition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        heartbeatTimeoutSeconds: 300,
        defaultResult: 'CONTINUE',
      });
    });

    it('copies scaling policies from one group to another', async () => {
      const w = await world();
      await w.autoScaling.send(
        new CreateAutoScalingGroupCommand({
          AutoScalingGroupName: 'web',
          LaunchTemplate: { LaunchTemplateId: w.templateId, Version: '1' },
          MinSize: 1,
          MaxSize: 3,
          VPCZoneIdentifier: w.subnetIds.join(','),
        }),
      );
      await w.groups.createGroup(greenSpec(w));
      await w.groups.putScalingPolicy('web', {
        name: 'cpu50',
        policyType: 'TargetTrackingScaling',
        parameters: {
          TargetTrackingConfiguration: {
            TargetValue: 50,
            PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' },
          },
        },
      });
      await w.groups.putScalingPolicy('web', {
        name: 'step-out',
        policyType: 'StepScaling',
        parameters: {
          AdjustmentType: 'ChangeInCapacity',
          StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }],
          MetricAggregationType: 'Average',
        },
      });

      const policies = await w.groups.scalingPolicies('web');
      for (const policy of policies) await w.groups.putScalingPolicy('web-kiln-1', policy);

      expect(policies.map((policy) => [policy.name, policy.policyType])).toEqual([
        ['cpu50', 'TargetTrackingScaling'],
        ['step-out', 'StepScaling'],
      ]);
      // The copies equal blue's policies, each under its own ARN (which names green's group).
      const copies = await w.groups.scalingPolicies('web-kiln-1');
      const withoutArn = (list: typeof policies) => list.map(({ arn: _arn, ...policy }) => policy);
      expect(withoutArn(copies)).toEqual(withoutArn(policies));
      expect(copies.map((policy) => policy.arn)).toEqual([
        expect.stringContaining(':autoScalingGroupName/web-kiln-1:policyName/cpu50'),
        expect.stringContaining(':autoScalingGroupName/web-kiln-1:policyName/step-out'),
      ]);
    });

    it('force-deletes a group, and answers already-gone for one that is not there', async () => {
      const w = await world();
      await w.groups.createGroup(greenSpec(w));

      expect(await w.groups.deleteGroup('web-kiln-1')).toBe('deleted');
      expect(await w.groups.deleteGroup('web-kiln-1')).toBe('already-gone');
      expect(await w.groups.describeGroup('web-kiln-1')).toBeUndefined();
    });
  });

  describe('TargetGroups', () => {
    it('answers each registered instance with a target state', async () => {
      const w = await world();
      const arn = await targetGroup(w, 'web');
      const run = await w.ec2.send(
        new RunInstancesCommand({ ImageId: w.imageId, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' }),
      );
      const instanceId = run.Instances?.[0]?.InstanceId ?? '';
      await w.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: instanceId }] }));

      const health = await w.targetGroups.targetHealth(arn);

      expect(health.map((entry) => entry.instanceId)).toEqual([instanceId]);
      expect(['initial', 'healthy', 'unhealthy', 'unused', 'draining', 'unavailable']).toContain(
        health[0]?.state,
      );
    });

    it("reads the deregistration delay: ELB's default 300 s, then what was set", async () => {
      const w = await world();
      const arn = await targetGroup(w, 'web');
      expect(await w.targetGroups.deregistrationDelaySeconds(arn)).toBe(300);

      await w.elbv2.send(
        new ModifyTargetGroupAttributesCommand({
          TargetGroupArn: arn,
          Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '45' }],
        }),
      );

      expect(await w.targetGroups.deregistrationDelaySeconds(arn)).toBe(45);
    });

    it('refuses a target group that does not exist, naming the code', async () => {
      const w = await world();
      const attempt = w.targetGroups.targetHealth(
        'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/nope/0123456789abcdef',
      );
      await expect(attempt).rejects.toBeInstanceOf(AwsRequestRefusedError);
      await expect(attempt).rejects.toMatchObject({ code: 'TargetGroupNotFoundException' });
    });
  });

  describe('Alarms', () => {
    it('reads the current state of the alarms that exist', async () => {
      const w = await world();
      await w.cloudWatch.send(
        new PutMetricAlarmCommand({
          AlarmName: 'web-5xx',
          Namespace: 'AWS/ApplicationELB',
          MetricName: 'HTTPCode_Target_5XX_Count',
          Statistic: 'Sum',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 10,
          ComparisonOperator: 'GreaterThanThreshold',
        }),
      );
      await w.cloudWatch.send(
        new SetAlarmStateCommand({ AlarmName: 'web-5xx', StateValue: 'ALARM', StateReason: '5xx above 10' }),
      );

      const states = await w.alarms.states(['web-5xx', 'missing']);

      expect(states).toEqual([
        {
          name: 'web-5xx',
          kind: 'metric',
          state: 'ALARM',
          reason: '5xx above 10',
          updatedAt: expect.any(Number),
        },
      ]);
    });
  });
});
