/**
 * The lifecycle handling's adapters (shared/aws/lifecycle.ts) against moto, and DeregisterTargets
 * as TargetDrain calls it against moto and against Elbv2Sim, comparing error names and outputs.
 *
 * What moto 5.2.1 lacks, and so is left to the sandbox tests (test/integration/sandbox):
 * - CompleteLifecycleAction and RecordLifecycleActionHeartbeat are not implemented (moto answers an
 *   HTML page, which the SDK reports as a 500), so LifecycleActions, and its reading of the
 *   ValidationError "No active Lifecycle Action found" as `no-active-action`, cannot be held to moto.
 * - moto reports a deregistered target `unused` at once, with no draining (AWS, and the sim, keep it
 *   `draining` for the deregistration delay; elbv2.test.ts holds the sim to AWS there). TargetDrain
 *   is tested here only on what moto answers as AWS does.
 *
 * Where moto departs from AWS's documentation the sim follows AWS: InvalidTarget's text. moto's is
 * "The specified target does not exist or is not in the same VPC as the target group."; the sim's
 * adds "or has an unsupported instance type" and the target id; only the code is compared (the
 * DeregisterTargets reference documents the code and cause, not the text:
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeregisterTargets.html).
 */
import {
  CreateTargetGroupCommand,
  DeregisterTargetsCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  CreateVpcCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { createTestContext } from '../../sandbox/core/testing';
import { Elbv2Sim } from '../../sandbox/services/elbv2';
import { InstanceViews, TargetDrain } from '../../shared/aws/lifecycle';
import { AwsRequestRefusedError } from '../../shared/domain/step-errors';
import { motoClientConfig, resetMoto } from './moto';
import { outcome, runningInstance, type Outcome } from './support/differential';

function elbv2Sim(vpcId: string, instanceIds: readonly string[]): Elbv2Sim {
  return new Elbv2Sim(createTestContext(1), {
    ec2: {
      get: (id) => (instanceIds.includes(id) ? runningInstance(id) : undefined),
      stateOf: (id) => (instanceIds.includes(id) ? 'running' : undefined),
      appHealth: () => 'healthy',
      behaviourOf: () => ({ appStartSeconds: 0, mode: 'healthy', errorRate: 0, latencySeconds: 0.05 }),
      instancesVersion: () => 0,
    },
    vpcExists: (id) => id === vpcId,
  });
}

interface World {
  ec2: EC2Client;
  elb: ElasticLoadBalancingV2Client;
  vpcId: string;
  /** Two running moto instances. */
  instanceIds: [string, string];
  targetGroupArn: string;
}

async function world(): Promise<World> {
  await resetMoto();
  const ec2 = new EC2Client(motoClientConfig());
  const elb = new ElasticLoadBalancingV2Client(motoClientConfig());
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
  const vpcId = vpc.Vpc?.VpcId ?? '';
  const run = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 2, MaxCount: 2 }));
  const [first, second] = (run.Instances ?? []).map((i) => i.InstanceId ?? '');
  if (first === undefined || second === undefined) throw new Error('moto launched too few instances');
  const created = await elb.send(
    new CreateTargetGroupCommand({ Name: 'web-blue', Protocol: 'HTTP', Port: 80, VpcId: vpcId }),
  );
  const targetGroupArn = created.TargetGroups?.[0]?.TargetGroupArn ?? '';
  return { ec2, elb, vpcId, instanceIds: [first, second], targetGroupArn };
}

let w: World;
beforeEach(async () => {
  w = await world();
});
afterEach(() => {
  w.ec2.destroy();
  w.elb.destroy();
});

describe('DeregisterTargets conformance (moto vs Elbv2Sim), as TargetDrain calls it', () => {
  /** The same group and registrations on both sides; `input` gets each side's group ARN. */
  async function both(
    input: { Targets: Array<{ Id: string }>; TargetGroupArn?: string },
    register: readonly string[] = [],
  ): Promise<[Outcome, Outcome]> {
    const sim = elbv2Sim(w.vpcId, w.instanceIds);
    const simGroup = (await sim.handle('CreateTargetGroup', {
      Name: 'web-blue',
      Protocol: 'HTTP',
      Port: 80,
      VpcId: w.vpcId,
    })) as { TargetGroups?: Array<{ TargetGroupArn?: string }> };
    const simArn = simGroup.TargetGroups?.[0]?.TargetGroupArn ?? '';
    if (register.length > 0) {
      const Targets = register.map((Id) => ({ Id }));
      await w.elb.send(new RegisterTargetsCommand({ TargetGroupArn: w.targetGroupArn, Targets }));
      await sim.handle('RegisterTargets', { TargetGroupArn: simArn, Targets });
    }
    return [
      await outcome(() =>
        w.elb.send(
          new DeregisterTargetsCommand({
            TargetGroupArn: input.TargetGroupArn ?? w.targetGroupArn,
            ...input,
          }),
        ),
      ),
      await outcome(() =>
        sim.handle('DeregisterTargets', { TargetGroupArn: input.TargetGroupArn ?? simArn, ...input }),
      ),
    ];
  }

  it('answers an empty output for a registered target', async () => {
    const [id] = w.instanceIds;
    const [m, s] = await both({ Targets: [{ Id: id }] }, [id]);
    expect(s).toEqual(m);
    expect(s).toEqual({ ok: true, value: {} });
  });

  it('refuses a target that is not registered with InvalidTarget', async () => {
    const [registered, other] = w.instanceIds;
    const [m, s] = await both({ Targets: [{ Id: other }] }, [registered]);
    if (m.ok || s.ok) throw new Error(JSON.stringify({ m, s }));
    expect(s.name).toBe('InvalidTargetException');
    expect(s.name).toBe(m.name);
  });

  it('refuses a target group that does not exist with TargetGroupNotFound', async () => {
    const missing = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/gone/0123456789abcdef';
    const [m, s] = await both({ TargetGroupArn: missing, Targets: [{ Id: w.instanceIds[0] }] });
    if (m.ok || s.ok) throw new Error(JSON.stringify({ m, s }));
    expect(s.name).toBe('TargetGroupNotFoundException');
    expect(s.name).toBe(m.name);
  });
});

describe('TargetDrain against moto', () => {
  it('deregisters a registered target, then reads a second deregistration as not-registered', async () => {
    const [id] = w.instanceIds;
    await w.elb.send(new RegisterTargetsCommand({ TargetGroupArn: w.targetGroupArn, Targets: [{ Id: id }] }));
    const drain = new TargetDrain(w.elb);
    await expect(drain.deregister(w.targetGroupArn, id)).resolves.toBe('deregistered');
    await expect(drain.deregister(w.targetGroupArn, id)).resolves.toBe('not-registered');
  });

  it('refuses a missing target group as an AWS refusal naming the instance and group', async () => {
    const missing = w.targetGroupArn.replace(/[0-9a-f]+$/, '0000000000000000');
    const refusal = new TargetDrain(w.elb).deregister(missing, w.instanceIds[0]);
    await expect(refusal).rejects.toBeInstanceOf(AwsRequestRefusedError);
    await expect(refusal).rejects.toMatchObject({
      code: 'TargetGroupNotFoundException',
      message: expect.stringContaining(`deregister ${w.instanceIds[0]} from ${missing}`),
    });
  });

  // moto reports a new target healthy at once; AWS starts it `initial` until its checks pass.
  it('reads the state moto gives a registered target (healthy) and a deregistered one (unused)', async () => {
    const [id] = w.instanceIds;
    await w.elb.send(new RegisterTargetsCommand({ TargetGroupArn: w.targetGroupArn, Targets: [{ Id: id }] }));
    const drain = new TargetDrain(w.elb);
    await expect(drain.targetState(w.targetGroupArn, id)).resolves.toBe('healthy');
    await drain.deregister(w.targetGroupArn, id);
    await expect(drain.targetState(w.targetGroupArn, id)).resolves.toBe('unused');
  });

  it('reads a target of a missing target group as unused', async () => {
    const missing = w.targetGroupArn.replace(/[0-9a-f]+$/, '0000000000000000');
    await expect(new TargetDrain(w.elb).targetState(missing, w.instanceIds[0])).resolves.toBe('unused');
  });

  it('reads the deregistration delay: the default 300, or the value set', async () => {
    await expect(new TargetDrain(w.elb).deregistrationDelaySeconds(w.targetGroupArn)).resolves.toBe(300);
    await w.elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: w.targetGroupArn,
        Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }],
      }),
    );
    await expect(new TargetDrain(w.elb).deregistrationDelaySeconds(w.targetGroupArn)).resolves.toBe(30);
  });
});

describe('InstanceViews against moto', () => {
  it("reads a running instance's AMI and state", async () => {
    await expect(new InstanceViews(w.ec2).describe(w.instanceIds[0])).resolves.toEqual({
      imageId: 'ami-12c6146b',
      state: 'running',
    });
  });

  it('reads a terminated instance as terminated', async () => {
    await w.ec2.send(new TerminateInstancesCommand({ InstanceIds: [w.instanceIds[0]] }));
    await expect(new InstanceViews(w.ec2).describe(w.instanceIds[0])).resolves.toMatchObject({
      state: 'terminated',
    });
  });

  it('reads an instance EC2 does not know (InvalidInstanceID.NotFound) as undefined', async () => {
    await expect(new InstanceViews(w.ec2).describe('i-0123456789abcdef0')).resolves.toBeUndefined();
  });
});
