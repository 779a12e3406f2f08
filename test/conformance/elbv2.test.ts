/**
 * Differential conformance: the same CreateTargetGroup / DescribeTargetGroups calls, and
 * DescribeTargetHealth of a draining target, against moto and against the sandbox's Elbv2Sim
 * (beneath a real SDK client), comparing response shapes and error names. Where moto departs from AWS's documentation the sandbox follows AWS; those cases are
 * listed in `AWS_OVER_MOTO` below and asserted separately.
 */
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type {
  CreateTargetGroupInput,
  ServiceOutputTypes,
  TargetGroup,
  TargetHealth,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  CreateVpcCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { Elbv2Sim } from '../../sandbox/services/elbv2';
import { createTestContext } from '../../sandbox/core/testing';
import { motoClientConfig, resetMoto } from './moto';
import { runningInstance } from './support/differential';

function simClient(vpcId: string, instanceIds: readonly string[] = []): ElasticLoadBalancingV2Client {
  const sim = new Elbv2Sim(createTestContext(1), {
    ec2: {
      get: (id) => (instanceIds.includes(id) ? runningInstance(id) : undefined),
      stateOf: (id) => (instanceIds.includes(id) ? 'running' : undefined),
      appHealth: () => 'healthy',
      behaviourOf: () => ({ appStartSeconds: 0, mode: 'healthy', errorRate: 0, latencySeconds: 0.05 }),
      instancesVersion: () => 0,
    },
    vpcExists: (id) => id === vpcId,
  });
  const client = new ElasticLoadBalancingV2Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  // Answers at finalizeRequest/low, inside the retry and signing middleware (TOOLCHAIN.md), so the
  // SDK's own exception handling sees the simulator's errors.
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      const operation = String(context.commandName).replace(/Command$/, '');
      const output = await sim.handle(operation, args.input);
      return { output: { ...output, $metadata: {} } as ServiceOutputTypes, response: {} };
    },
    { step: 'finalizeRequest', priority: 'low', name: 'sandboxElbv2' },
  );
  return client;
}

/**
 * Replaces the random parts of ARNs so both sides compare equal. moto leaves out an empty
 * LoadBalancerArns list, which the sandbox always returns (empty for a group no listener uses).
 */
function normalize(group: TargetGroup | undefined): unknown {
  const copy: TargetGroup = { ...group };
  if (copy.LoadBalancerArns?.length === 0) delete copy.LoadBalancerArns;
  return JSON.parse(JSON.stringify(copy).replace(/targetgroup\/([^/"]+)\/[0-9a-f]+/g, 'targetgroup/$1/ID'));
}

async function errorName(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'no error';
  } catch (error) {
    return (error as Error).name;
  }
}

describe('ELBv2 conformance with moto', () => {
  let moto: ElasticLoadBalancingV2Client;
  let sim: ElasticLoadBalancingV2Client;
  let ec2: EC2Client;
  let vpcId: string;

  beforeEach(async () => {
    await resetMoto();
    ec2 = new EC2Client(motoClientConfig());
    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
    vpcId = vpc.Vpc?.VpcId ?? '';
    moto = new ElasticLoadBalancingV2Client(motoClientConfig());
    sim = simClient(vpcId);
  });

  afterEach(() => {
    for (const client of [moto, sim, ec2]) client.destroy();
  });

  function input(overrides: Partial<CreateTargetGroupInput> = {}): CreateTargetGroupInput {
    return { Name: 'web-blue', Protocol: 'HTTP', Port: 80, VpcId: vpcId, ...overrides };
  }

  /** Registers instance i-1 with a target group a listener uses, deregisters it, and describes it. */
  async function deregisteredOnSim(): Promise<TargetHealth | undefined> {
    const client = simClient(vpcId, ['i-1']);
    try {
      const created = await client.send(new CreateTargetGroupCommand(input()));
      const TargetGroupArn = created.TargetGroups?.[0]?.TargetGroupArn;
      const lb = await client.send(new CreateLoadBalancerCommand({ Name: 'web', Subnets: ['subnet-a'] }));
      await client.send(
        new CreateListenerCommand({
          LoadBalancerArn: lb.LoadBalancers?.[0]?.LoadBalancerArn,
          Protocol: 'HTTP',
          Port: 80,
          DefaultActions: [{ Type: 'forward', TargetGroupArn }],
        }),
      );
      await client.send(new RegisterTargetsCommand({ TargetGroupArn, Targets: [{ Id: 'i-1' }] }));
      await client.send(new DeregisterTargetsCommand({ TargetGroupArn, Targets: [{ Id: 'i-1' }] }));
      const health = await client.send(
        new DescribeTargetHealthCommand({ TargetGroupArn, Targets: [{ Id: 'i-1' }] }),
      );
      return health.TargetHealthDescriptions?.[0]?.TargetHealth;
    } finally {
      client.destroy();
    }
  }

  /** Registers a moto instance, then takes it away with `leave`, and describes its target. */
  async function onMoto(leave: 'terminate' | 'deregister'): Promise<TargetHealth | undefined> {
    const run = await ec2.send(
      new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1 }),
    );
    const Id = run.Instances?.[0]?.InstanceId;
    const created = await moto.send(new CreateTargetGroupCommand(input()));
    const TargetGroupArn = created.TargetGroups?.[0]?.TargetGroupArn;
    await moto.send(new RegisterTargetsCommand({ TargetGroupArn, Targets: [{ Id }] }));
    if (leave === 'terminate') await ec2.send(new TerminateInstancesCommand({ InstanceIds: [Id ?? ''] }));
    else await moto.send(new DeregisterTargetsCommand({ TargetGroupArn, Targets: [{ Id }] }));
    const health = await moto.send(new DescribeTargetHealthCommand({ TargetGroupArn, Targets: [{ Id }] }));
    return health.TargetHealthDescriptions?.[0]?.TargetHealth;
  }

  describe('CreateTargetGroup', () => {
    it('returns the same target group description for an HTTP target group', async () => {
      const [fromMoto, fromSim] = await Promise.all([
        moto.send(new CreateTargetGroupCommand(input())),
        sim.send(new CreateTargetGroupCommand(input())),
      ]);
      expect(normalize(fromSim.TargetGroups?.[0])).toEqual(normalize(fromMoto.TargetGroups?.[0]));
    });

    it('returns the same description when health check settings are given', async () => {
      const custom = input({
        HealthCheckPath: '/health',
        HealthCheckIntervalSeconds: 10,
        HealthCheckTimeoutSeconds: 5,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 3,
        Matcher: { HttpCode: '200-299' },
      });
      const [fromMoto, fromSim] = await Promise.all([
        moto.send(new CreateTargetGroupCommand(custom)),
        sim.send(new CreateTargetGroupCommand(custom)),
      ]);
      expect(normalize(fromSim.TargetGroups?.[0])).toEqual(normalize(fromMoto.TargetGroups?.[0]));
    });

    it.each([
      ['an unknown protocol', { Protocol: 'FTP' as 'HTTP' }],
      ['a name longer than 32 characters', { Name: 'x'.repeat(33) }],
      ['a name with invalid characters', { Name: 'web_blue' }],
      ['a name ending in a hyphen', { Name: 'web-' }],
      ['a missing port', { Port: undefined }],
      ['a missing protocol', { Protocol: undefined }],
      ['a missing VPC', { VpcId: undefined }],
      ['a VPC that does not exist', { VpcId: 'vpc-0123456789abcdef0' }],
      ['a timeout not below the interval', { HealthCheckIntervalSeconds: 10, HealthCheckTimeoutSeconds: 10 }],
    ])('fails the same way for %s', async (_label, overrides) => {
      const bad = { ...input(), ...overrides } as CreateTargetGroupInput;
      const [motoError, simError] = await Promise.all([
        errorName(moto.send(new CreateTargetGroupCommand(bad))),
        errorName(sim.send(new CreateTargetGroupCommand(bad))),
      ]);
      expect(motoError).not.toBe('no error');
      expect(simError).toBe(motoError);
    });
  });

  describe('CreateTargetGroup with a taken name', () => {
    it('fails the same way for a duplicate name with other settings', async () => {
      await moto.send(new CreateTargetGroupCommand(input()));
      await sim.send(new CreateTargetGroupCommand(input()));
      const [motoError, simError] = await Promise.all([
        errorName(moto.send(new CreateTargetGroupCommand(input({ Port: 8080 })))),
        errorName(sim.send(new CreateTargetGroupCommand(input({ Port: 8080 })))),
      ]);
      expect(simError).toBe(motoError);
      expect(simError).toBe('DuplicateTargetGroupNameException');
    });
  });

  describe('DescribeTargetGroups', () => {
    it('returns the same list by name', async () => {
      for (const client of [moto, sim]) {
        await client.send(new CreateTargetGroupCommand(input()));
        await client.send(new CreateTargetGroupCommand(input({ Name: 'web-green' })));
      }
      const [fromMoto, fromSim] = await Promise.all([
        moto.send(new DescribeTargetGroupsCommand({ Names: ['web-green', 'web-blue'] })),
        sim.send(new DescribeTargetGroupsCommand({ Names: ['web-green', 'web-blue'] })),
      ]);
      expect(fromSim.TargetGroups?.map(normalize)).toEqual(fromMoto.TargetGroups?.map(normalize));
    });

    it('fails the same way for an unknown name', async () => {
      const [motoError, simError] = await Promise.all([
        errorName(moto.send(new DescribeTargetGroupsCommand({ Names: ['nope'] }))),
        errorName(sim.send(new DescribeTargetGroupsCommand({ Names: ['nope'] }))),
      ]);
      expect(simError).toBe(motoError);
      expect(simError).toBe('TargetGroupNotFoundException');
    });
  });

  describe('a deregistered target', () => {
    it('is described draining with the reason and description moto gives a draining target', async () => {
      // moto drains only the targets of terminated instances.
      const [fromMoto, fromSim] = [await onMoto('terminate'), await deregisteredOnSim()];
      expect(fromMoto?.State).toBe('draining');
      expect(fromSim).toEqual(fromMoto);
    });
  });

  describe('where the sandbox follows AWS rather than moto', () => {
    it('keeps a deregistered target draining until the deregistration delay has passed (moto reports it unused at once)', async () => {
      // "The initial state of a deregistering target is draining." (ALB guide, deregistration delay)
      expect((await deregisteredOnSim())?.State).toBe('draining');
      expect(await onMoto('deregister')).toMatchObject({ State: 'unused', Reason: 'Target.NotRegistered' });
    });

    it('succeeds when the same target group is created twice with the same settings (moto rejects it)', async () => {
      // API_CreateTargetGroup: "If you attempt to create multiple target groups with the same settings, each call succeeds."
      const first = await sim.send(new CreateTargetGroupCommand(input()));
      const second = await sim.send(new CreateTargetGroupCommand(input()));
      expect(second.TargetGroups?.[0]?.TargetGroupArn).toBe(first.TargetGroups?.[0]?.TargetGroupArn);
      await moto.send(new CreateTargetGroupCommand(input()));
      expect(await errorName(moto.send(new CreateTargetGroupCommand(input())))).toBe(
        'DuplicateTargetGroupNameException',
      );
    });
  });
});
