/**
 * Differential conformance: the same CreateTargetGroup / DescribeTargetGroups calls against moto
 * and against the sandbox's Elbv2Sim (beneath a real SDK client), comparing response shapes and
 * error names. Where moto departs from AWS's documentation the sandbox follows AWS; those cases are
 * listed in `AWS_OVER_MOTO` below and asserted separately.
 */
import {
  CreateTargetGroupCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type {
  CreateTargetGroupInput,
  ServiceOutputTypes,
  TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import { Elbv2Sim } from '../../sandbox/services/elbv2';
import { createTestContext } from '../../sandbox/core/testing';
import { motoClientConfig, resetMoto } from './moto';

function simClient(vpcId: string): ElasticLoadBalancingV2Client {
  const sim = new Elbv2Sim(createTestContext(1), {
    ec2: {
      get: () => undefined,
      appHealth: () => 'down',
      behaviourOf: () => {
        throw new Error('no instances in this test');
      },
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

  describe('where the sandbox follows AWS rather than moto', () => {
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
