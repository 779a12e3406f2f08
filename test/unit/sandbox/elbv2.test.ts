import {
  DuplicateListenerException,
  DuplicateTargetGroupNameException,
  InvalidTargetException,
  ResourceInUseException,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type {
  CreateTargetGroupInput,
  CreateTargetGroupOutput,
  CreateLoadBalancerOutput,
  CreateListenerOutput,
  DescribeTargetHealthOutput,
  TargetGroupAttribute,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { Elbv2Sim } from '../../../sandbox/services/elbv2';
import { CloudWatchSim } from '../../../sandbox/services/cloudwatch';
import { createTestContext, SANDBOX_EPOCH } from '../../../sandbox/core/testing';
import type { TestSimContext } from '../../../sandbox/core/testing';
import type { AppBehaviour, Ec2Fleet, SimInstance } from '../../../sandbox/services/fleet';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** The slice of the EC2 sim that ELBv2 consumes, driven directly by the tests. */
class FakeEc2 implements Pick<
  Ec2Fleet,
  'appHealth' | 'behaviourOf' | 'get' | 'stateOf' | 'instancesVersion'
> {
  readonly instances = new Map<string, SimInstance>();
  readonly health = new Map<string, 'healthy' | 'unhealthy' | 'starting' | 'down'>();
  readonly behaviour = new Map<string, AppBehaviour>();

  add(
    id: string,
    health: 'healthy' | 'unhealthy' | 'starting' | 'down' = 'healthy',
    behaviour: Partial<AppBehaviour> = {},
  ) {
    this.instances.set(id, {
      instanceId: id,
      imageId: 'ami-0123456789abcdef0',
      instanceType: 't3.micro',
      state: 'running',
      availabilityZone: 'us-east-1a',
      subnetId: 'subnet-0123456789abcdef0',
      privateIpAddress: '10.0.0.10',
      launchTime: SANDBOX_EPOCH,
      tags: {},
    });
    this.health.set(id, health);
    this.behaviour.set(id, {
      appStartSeconds: 0,
      mode: 'healthy',
      errorRate: 0,
      latencySeconds: 0.1,
      ...behaviour,
    });
  }
  get(id: string) {
    return this.instances.get(id);
  }
  stateOf(id: string) {
    return this.instances.get(id)?.state;
  }
  /** The tests change health and behaviour directly, so every read is a new version: nothing is reused. */
  private version = 0;
  instancesVersion() {
    return ++this.version;
  }
  appHealth(id: string) {
    return this.health.get(id) ?? 'down';
  }
  behaviourOf(id: string): AppBehaviour {
    const b = this.behaviour.get(id);
    if (!b) throw new Error(`no behaviour for ${id}`);
    return b;
  }
}

function tgInput(overrides: Partial<CreateTargetGroupInput> = {}): CreateTargetGroupInput {
  return { Name: 'web-blue', Protocol: 'HTTP', Port: 80, VpcId: 'vpc-0123456789abcdef0', ...overrides };
}

describe('Elbv2Sim', () => {
  let ctx: TestSimContext;
  let ec2: FakeEc2;
  let cw: CloudWatchSim;
  let elb: Elbv2Sim;

  beforeEach(() => {
    ctx = createTestContext(3);
    ec2 = new FakeEc2();
    cw = new CloudWatchSim(ctx);
    elb = new Elbv2Sim(ctx, { ec2, metrics: cw, requestsPerSecond: 50 });
  });

  async function createTargetGroup(overrides: Partial<CreateTargetGroupInput> = {}): Promise<string> {
    const out = (await elb.handle('CreateTargetGroup', tgInput(overrides))) as CreateTargetGroupOutput;
    const arn = out.TargetGroups?.[0]?.TargetGroupArn;
    if (!arn) throw new Error('no target group arn');
    return arn;
  }

  async function createLoadBalancer(): Promise<string> {
    const out = (await elb.handle('CreateLoadBalancer', {
      Name: 'web',
      Subnets: ['subnet-a', 'subnet-b'],
    })) as CreateLoadBalancerOutput;
    const arn = out.LoadBalancers?.[0]?.LoadBalancerArn;
    if (!arn) throw new Error('no load balancer arn');
    return arn;
  }

  async function createListener(lbArn: string, forwards: Array<[string, number]>): Promise<string> {
    const out = (await elb.handle('CreateListener', {
      LoadBalancerArn: lbArn,
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: forwards.map(([TargetGroupArn, Weight]) => ({ TargetGroupArn, Weight })),
          },
        },
      ],
    })) as CreateListenerOutput;
    const arn = out.Listeners?.[0]?.ListenerArn;
    if (!arn) throw new Error('no listener arn');
    return arn;
  }

  /** A target group behind a listener, so its targets are health checked. */
  async function servingTargetGroup(overrides: Partial<CreateTargetGroupInput> = {}): Promise<string> {
    const tgArn = await createTargetGroup(overrides);
    await createListener(await createLoadBalancer(), [[tgArn, 1]]);
    return tgArn;
  }

  async function healthOf(tgArn: string, id: string) {
    const out = (await elb.handle('DescribeTargetHealth', {
      TargetGroupArn: tgArn,
      Targets: [{ Id: id }],
    })) as DescribeTargetHealthOutput;
    return out.TargetHealthDescriptions?.[0]?.TargetHealth;
  }

  describe('CreateTargetGroup', () => {
    it('applies the documented defaults for an HTTP instance target group', async () => {
      const out = (await elb.handle('CreateTargetGroup', tgInput())) as CreateTargetGroupOutput;
      expect(out.TargetGroups?.[0]).toMatchObject({
        TargetGroupName: 'web-blue',
        TargetGroupArn: expect.stringMatching(
          /^arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup\/web-blue\/[0-9a-f]{16}$/,
        ),
        HealthCheckProtocol: 'HTTP',
        HealthCheckPort: 'traffic-port',
        HealthCheckPath: '/',
        HealthCheckIntervalSeconds: 30,
        HealthCheckTimeoutSeconds: 5,
        HealthyThresholdCount: 5,
        UnhealthyThresholdCount: 2,
        Matcher: { HttpCode: '200' },
        TargetType: 'instance',
        LoadBalancerArns: [],
      });
    });

    it('defaults the deregistration delay to 300 seconds', async () => {
      const arn = await createTargetGroup();
      const out = (await elb.handle('DescribeTargetGroupAttributes', { TargetGroupArn: arn })) as {
        Attributes: TargetGroupAttribute[];
      };
      expect(out.Attributes).toContainEqual({ Key: 'deregistration_delay.timeout_seconds', Value: '300' });
    });

    it('returns the same target group when called again with the same settings (idempotent)', async () => {
      expect(await createTargetGroup()).toBe(await createTargetGroup());
    });

    it('rejects the same name with different settings as DuplicateTargetGroupName', async () => {
      await createTargetGroup();
      await expect(elb.handle('CreateTargetGroup', tgInput({ Port: 8080 }))).rejects.toBeInstanceOf(
        DuplicateTargetGroupNameException,
      );
    });

    it.each([
      ['a name longer than 32 characters', { Name: 'x'.repeat(33) }, /cannot be longer than '32'/],
      ['a name with an underscore', { Name: 'web_blue' }, /alphanumeric characters or hyphens/],
      ['a name ending in a hyphen', { Name: 'web-' }, /cannot begin or end with '-'/],
      ['an unknown protocol', { Protocol: 'FTP' as 'HTTP' }, /at 'protocol' failed to satisfy constraint/],
      ['port 0', { Port: 0 }, /at 'port' failed to satisfy constraint/],
      ['port 65536', { Port: 65536 }, /at 'port' failed to satisfy constraint/],
      ['an interval of 301 s', { HealthCheckIntervalSeconds: 301 }, /healthCheckIntervalSeconds/],
      ['a healthy threshold of 11', { HealthyThresholdCount: 11 }, /healthyThresholdCount/],
      [
        'a timeout not below the interval',
        { HealthCheckIntervalSeconds: 10, HealthCheckTimeoutSeconds: 10 },
        /timeout/,
      ],
    ])('rejects %s with ValidationError', async (_label, overrides, message) => {
      const error = await elb.handle('CreateTargetGroup', tgInput(overrides)).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'ValidationError', message: expect.stringMatching(message) });
    });

    it('rejects a missing VPC with ValidationError', async () => {
      const input = tgInput();
      delete input.VpcId;
      await expect(elb.handle('CreateTargetGroup', input)).rejects.toMatchObject({
        name: 'ValidationError',
        message: 'A VPC ID must be specified',
      });
    });
  });

  describe('DescribeTargetGroups', () => {
    it('finds target groups by name and by load balancer', async () => {
      const blue = await createTargetGroup();
      await createTargetGroup({ Name: 'web-green' });
      const lbArn = await createLoadBalancer();
      await createListener(lbArn, [[blue, 1]]);
      const byName = await elb.handle('DescribeTargetGroups', { Names: ['web-green'] });
      expect(byName).toMatchObject({
        TargetGroups: [{ TargetGroupName: 'web-green', LoadBalancerArns: [] }],
      });
      const byLb = await elb.handle('DescribeTargetGroups', { LoadBalancerArn: lbArn });
      expect(byLb).toMatchObject({ TargetGroups: [{ TargetGroupArn: blue, LoadBalancerArns: [lbArn] }] });
    });

    it('rejects an unknown name with TargetGroupNotFound', async () => {
      await expect(elb.handle('DescribeTargetGroups', { Names: ['nope'] })).rejects.toBeInstanceOf(
        TargetGroupNotFoundException,
      );
    });
  });

  describe('target health', () => {
    it('reports unused (Target.NotInUse) while no listener forwards to the group', async () => {
      const tgArn = await createTargetGroup();
      ec2.add('i-1');
      await elb.handle('RegisterTargets', { TargetGroupArn: tgArn, Targets: [{ Id: 'i-1' }] });
      await ctx.fakeClock.tickAsync(5 * MINUTE);
      expect(await healthOf(tgArn, 'i-1')).toMatchObject({ State: 'unused', Reason: 'Target.NotInUse' });
    });

    it('reports an unregistered target as unused (Target.NotRegistered)', async () => {
      const tgArn = await servingTargetGroup();
      expect(await healthOf(tgArn, 'i-9')).toMatchObject({ State: 'unused', Reason: 'Target.NotRegistered' });
    });

    it('starts initial (Elb.RegistrationInProgress) and turns healthy at the first passing check', async () => {
      const tgArn = await servingTargetGroup();
      ec2.add('i-1');
      await elb.handle('RegisterTargets', { TargetGroupArn: tgArn, Targets: [{ Id: 'i-1' }] });
      expect(await healthOf(tgArn, 'i-1')).toMatchObject({
        State: 'initial',
        Reason: 'Elb.RegistrationInProgress',
      });
      await ctx.fakeClock.tickAsync(30 * SECOND - 1);
      expect((await healthOf(tgArn, 'i-1'))?.State).toBe('initial');
      await ctx.fakeClock.tickAsync(1);
      expect(await healthOf(tgArn, 'i-1')).toEqual({ State: 'healthy' });
    });

    it('turns unhealthy after UnhealthyThresholdCount consecutive failures at the interval', async () => {
      const tgArn = await servingTargetGroup({ UnhealthyThresholdCount: 3, HealthCheckIntervalSeconds: 10 });
      ec2.add('i-1', 'unhealthy');
      await elb.handle('RegisterTargets', { TargetGroupArn: tgArn, Targets: [{ Id: 'i-1' }] });
      await ctx.fakeClock.tickAsync(20 * SECOND);
      expect(await healthOf(tgArn, 'i-1')).toMatchObject({
        State: 'initial',
        Reason: 'Elb.InitialHealthChecking',
      });
      await ctx.fakeClock.tickAsync(10 * SECOND);
      expect(await healthOf(tgArn, 'i-1')).toMatchObject({
        State: 'unhealthy',
        Reason: 'Target.ResponseCodeMismatch',
      });
    });

    it('reports Target.Timeout when nothing answers the check', async () => {
      const tgArn = await servingTargetGroup();
      ec2.add('i-1', 'down');
      await elb.handle('RegisterTargets', { TargetGroupArn: tgArn, Targets: [{ Id: 'i-1' }] });
      await ctx.fakeClock.tickAsync(MINUTE);
      expect(await healthOf(tgArn, 'i-1')).toMatchObject({ State: 'unhealthy', Reason: 'Target.Timeout' });
    });

    it('returns an unhealthy target to healthy only after HealthyThresholdCount consecutive successes', async () => {
      const tgArn = await servingTargetGroup({ HealthyThresholdCount: 3, HealthCheckIntervalSeconds: 10 });
      ec2.add('i-1', 'unhealthy');
      await elb.handle('RegisterTargets', { TargetGroupArn: tgArn, Targets: [{ Id: 'i-1' }] });
      await ctx.fakeClock.tickAsync(20 * SECOND);
      expect((await healthOf(tgArn, 'i-1'))?.State).toBe('unhealthy');
      ec2.health.set('i-1', 'healthy');
      await ctx.fakeClock.tickAsync(20 * SECOND);
      expect((await healthOf(tgArn, 'i-1'))?.State).toBe('unhealthy');
      await ctx.fakeClock.tickAsync(10 * SECOND);
      expect((await healthOf(tgArn, 'i-1'))?.State).toBe('healthy');
    });

    it('rejects registering an instance that is not running', async () => {
      const tgArn = await servingTargetGroup();
      ec2.add('i-1');
      const instance = ec2.instances.get('i-1');
      if (instance) instance.state = 'stopped';
      await expect(
        elb.handle('RegisterTargets', { TargetGroupArn: tgArn, Targets: [{ Id: 'i-1' }] }),
      ).rejects.toBeInstanceOf(InvalidTargetException);
    });
  });

  describe('deregistration', () => {
    /** A healthy target `i-1` in a target group with a 120 s delay that a listener forwards to with `weight`. */
    async function healthyTarget(behaviour: Partial<AppBehaviour>, weight = 1): Promise<string> {
      const tgArn = await createTargetGroup();
      const other = await createTargetGroup({ Name: 'web-other' });
      await createListener(await createLoadBalancer(), [
        [tgArn, weight],
        [other, 1],
      ]);
      await elb.handle('ModifyTargetGroupAttributes', {
        TargetGroupArn: tgArn,
        Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '120' }],
      });
      ec2.add('i-1', 'healthy', behaviour);
      elb.register(tgArn, 'i-1');
      await ctx.fakeClock.tickAsync(30 * SECOND);
      expect(elb.health(tgArn, 'i-1')).toBe('healthy');
      return tgArn;
    }

    const DRAINING = {
      State: 'draining',
      Reason: 'Target.DeregistrationInProgress',
      Description: 'Target deregistration is in progress',
    };

    it('completes the deregistration of a target with no requests in flight at once, yet shows it draining until the delay has passed', async () => {
      // Weight 0: the listener sends this target group no requests (blue/green after the switch).
      const tgArn = await healthyTarget({ latencySeconds: 20 }, 0);
      const deregistered = jest.fn();
      elb.deregister(tgArn, 'i-1', deregistered);
      await ctx.fakeClock.tickAsync(0);
      expect(deregistered).toHaveBeenCalledTimes(1);
      expect(await healthOf(tgArn, 'i-1')).toEqual(DRAINING);
      expect(ctx.entries.filter((e) => e.kind === 'state' && e.resource.startsWith(tgArn))).toContainEqual(
        expect.objectContaining({ resource: `${tgArn}/i-1#deregistration`, to: 'complete', t: 30 }),
      );
      await ctx.fakeClock.tickAsync(120 * SECOND - 1);
      expect(await healthOf(tgArn, 'i-1')).toEqual(DRAINING);
      await ctx.fakeClock.tickAsync(1);
      expect(elb.health(tgArn, 'i-1')).toBeUndefined();
      expect(await elb.handle('DescribeTargetHealth', { TargetGroupArn: tgArn })).toEqual({
        TargetHealthDescriptions: [],
      });
      expect(deregistered).toHaveBeenCalledTimes(1);
    });

    it('waits for the requests in flight (one response time) before completing the deregistration', async () => {
      const tgArn = await healthyTarget({ latencySeconds: 20 });
      const deregistered = jest.fn();
      elb.deregister(tgArn, 'i-1', deregistered);
      await ctx.fakeClock.tickAsync(20 * SECOND - 1);
      expect(deregistered).not.toHaveBeenCalled();
      await ctx.fakeClock.tickAsync(1);
      expect(deregistered).toHaveBeenCalledTimes(1);
      expect(await healthOf(tgArn, 'i-1')).toEqual(DRAINING);
      await ctx.fakeClock.tickAsync(100 * SECOND);
      expect(elb.health(tgArn, 'i-1')).toBeUndefined();
    });

    it('completes the deregistration when the delay ends if requests are still in flight', async () => {
      const tgArn = await healthyTarget({ latencySeconds: 200 });
      const deregistered = jest.fn();
      elb.deregister(tgArn, 'i-1', deregistered);
      await ctx.fakeClock.tickAsync(120 * SECOND - 1);
      expect(deregistered).not.toHaveBeenCalled();
      expect(elb.health(tgArn, 'i-1')).toBe('draining');
      await ctx.fakeClock.tickAsync(1);
      expect(deregistered).toHaveBeenCalledTimes(1);
      expect(elb.health(tgArn, 'i-1')).toBeUndefined();
    });

    it('finds no requests in flight on an unhealthy target while healthy ones take the traffic', async () => {
      const tgArn = await servingTargetGroup();
      ec2.add('i-1', 'unhealthy', { latencySeconds: 20 });
      ec2.add('i-2');
      elb.register(tgArn, 'i-1');
      elb.register(tgArn, 'i-2');
      await ctx.fakeClock.tickAsync(MINUTE);
      expect(elb.health(tgArn, 'i-1')).toBe('unhealthy');
      const deregistered = jest.fn();
      elb.deregister(tgArn, 'i-1', deregistered);
      await ctx.fakeClock.tickAsync(0);
      expect(deregistered).toHaveBeenCalledTimes(1);
      expect(elb.health(tgArn, 'i-1')).toBe('draining');
    });

    it('drains the same way through DeregisterTargets', async () => {
      const tgArn = await healthyTarget({ latencySeconds: 20 });
      await elb.handle('DeregisterTargets', { TargetGroupArn: tgArn, Targets: [{ Id: 'i-1' }] });
      const deregistered = jest.fn();
      elb.deregister(tgArn, 'i-1', deregistered);
      await ctx.fakeClock.tickAsync(20 * SECOND - 1);
      expect(deregistered).not.toHaveBeenCalled();
      await ctx.fakeClock.tickAsync(1);
      expect(deregistered).toHaveBeenCalledTimes(1);
      expect(await healthOf(tgArn, 'i-1')).toEqual(DRAINING);
    });

    it('calls back at once for an instance that was never registered', () => {
      const drained = jest.fn();
      elb.deregister('arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/x/0', 'i-1', drained);
      expect(drained).toHaveBeenCalledTimes(1);
    });

    it('rejects a deregistration delay above 3600 seconds', async () => {
      const tgArn = await createTargetGroup();
      await expect(
        elb.handle('ModifyTargetGroupAttributes', {
          TargetGroupArn: tgArn,
          Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '3601' }],
        }),
      ).rejects.toMatchObject({ name: 'ValidationError' });
    });

    it('refuses to delete a target group a listener still uses', async () => {
      const tgArn = await servingTargetGroup();
      await expect(elb.handle('DeleteTargetGroup', { TargetGroupArn: tgArn })).rejects.toBeInstanceOf(
        ResourceInUseException,
      );
    });
  });

  describe('listeners and rules', () => {
    it('describes a single-group forward with a weighted ForwardConfig, as AWS does', async () => {
      const tgArn = await createTargetGroup();
      const lbArn = await createLoadBalancer();
      await elb.handle('CreateListener', {
        LoadBalancerArn: lbArn,
        Protocol: 'HTTP',
        Port: 80,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: tgArn }],
      });
      const out = await elb.handle('DescribeListeners', { LoadBalancerArn: lbArn });
      expect(out).toMatchObject({
        Listeners: [
          {
            DefaultActions: [
              {
                Type: 'forward',
                TargetGroupArn: tgArn,
                ForwardConfig: { TargetGroups: [{ TargetGroupArn: tgArn, Weight: 1 }] },
              },
            ],
          },
        ],
      });
    });

    it('rejects a second listener on the same port', async () => {
      const tgArn = await createTargetGroup();
      const lbArn = await createLoadBalancer();
      await createListener(lbArn, [[tgArn, 1]]);
      await expect(createListener(lbArn, [[tgArn, 1]])).rejects.toBeInstanceOf(DuplicateListenerException);
    });

    it('rejects a forward weight above 999', async () => {
      const tgArn = await createTargetGroup();
      await expect(createListener(await createLoadBalancer(), [[tgArn, 1000]])).rejects.toMatchObject({
        name: 'ValidationError',
      });
    });

    it('starts health checks when ModifyRule first forwards to a group', async () => {
      const blue = await createTargetGroup();
      const green = await createTargetGroup({ Name: 'web-green' });
      const listenerArn = await createListener(await createLoadBalancer(), [[blue, 1]]);
      const rule = (await elb.handle('CreateRule', {
        ListenerArn: listenerArn,
        Priority: 10,
        Conditions: [{ Field: 'path-pattern', Values: ['/*'] }],
        Actions: [{ Type: 'forward', TargetGroupArn: blue }],
      })) as { Rules: Array<{ RuleArn: string }> };
      ec2.add('i-g');
      elb.register(green, 'i-g');
      expect(elb.health(green, 'i-g')).toBe('unused');
      await elb.handle('ModifyRule', {
        RuleArn: rule.Rules[0]?.RuleArn,
        Actions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: blue, Weight: 90 },
                { TargetGroupArn: green, Weight: 10 },
              ],
            },
          },
        ],
      });
      expect(elb.health(green, 'i-g')).toBe('initial');
      await ctx.fakeClock.tickAsync(30 * SECOND);
      expect(elb.health(green, 'i-g')).toBe('healthy');
    });
  });

  describe('traffic and metrics', () => {
    async function sumOf(metric: string, tgArn: string, minute: number): Promise<number | undefined> {
      const dimension = tgArn.slice(tgArn.indexOf('targetgroup/'));
      const out = (await cw.handle('GetMetricStatistics', {
        Namespace: 'AWS/ApplicationELB',
        MetricName: metric,
        Dimensions: [{ Name: 'TargetGroup', Value: dimension }],
        StartTime: new Date(SANDBOX_EPOCH + minute * MINUTE),
        EndTime: new Date(SANDBOX_EPOCH + (minute + 1) * MINUTE),
        Period: 60,
        Statistics: ['Sum', 'Average'],
      })) as { Datapoints: Array<{ Sum?: number }> };
      return out.Datapoints[0]?.Sum;
    }

    it('splits the request rate across target groups by weight (90/10)', async () => {
      const blue = await createTargetGroup();
      const green = await createTargetGroup({ Name: 'web-green' });
      await createListener(await createLoadBalancer(), [
        [blue, 90],
        [green, 10],
      ]);
      ec2.add('i-b');
      ec2.add('i-g');
      elb.register(blue, 'i-b');
      elb.register(green, 'i-g');
      await ctx.fakeClock.tickAsync(3 * MINUTE);
      // Minute 1 is the first in which both targets were healthy throughout (checks pass at 00:30).
      expect(await sumOf('RequestCount', blue, 1)).toBe(2700);
      expect(await sumOf('RequestCount', green, 1)).toBe(300);
    });

    it('publishes target 5xx from the behaviour of the serving targets', async () => {
      const tgArn = await servingTargetGroup();
      ec2.add('i-1', 'healthy', { mode: 'errors', errorRate: 0.2 });
      ec2.add('i-2');
      elb.register(tgArn, 'i-1');
      elb.register(tgArn, 'i-2');
      await ctx.fakeClock.tickAsync(2 * MINUTE);
      expect(await sumOf('RequestCount', tgArn, 1)).toBe(3000);
      expect(await sumOf('HTTPCode_Target_5XX_Count', tgArn, 1)).toBe(300);
    });

    it('omits HTTPCode_Target_5XX_Count in a minute without errors (reported only when nonzero)', async () => {
      const tgArn = await servingTargetGroup();
      ec2.add('i-1');
      elb.register(tgArn, 'i-1');
      await ctx.fakeClock.tickAsync(2 * MINUTE);
      expect(await sumOf('RequestCount', tgArn, 1)).toBe(3000);
      expect(await sumOf('HTTPCode_Target_5XX_Count', tgArn, 1)).toBeUndefined();
    });

    it('sends no traffic to draining targets', async () => {
      const tgArn = await servingTargetGroup();
      ec2.add('i-1', 'healthy', { mode: 'errors', errorRate: 1 });
      ec2.add('i-2');
      elb.register(tgArn, 'i-1');
      elb.register(tgArn, 'i-2');
      await ctx.fakeClock.tickAsync(MINUTE);
      elb.deregister(tgArn, 'i-1', () => undefined);
      await ctx.fakeClock.tickAsync(MINUTE);
      expect(await sumOf('HTTPCode_Target_5XX_Count', tgArn, 1)).toBeUndefined();
    });

    it('drives a 5xx alarm to ALARM after M of N bad minutes', async () => {
      const tgArn = await servingTargetGroup();
      ec2.add('i-1', 'healthy', { mode: 'errors', errorRate: 0.5 });
      elb.register(tgArn, 'i-1');
      await cw.handle('PutMetricAlarm', {
        AlarmName: 'web-5xx',
        Namespace: 'AWS/ApplicationELB',
        MetricName: 'HTTPCode_Target_5XX_Count',
        Dimensions: [{ Name: 'TargetGroup', Value: tgArn.slice(tgArn.indexOf('targetgroup/')) }],
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
        Threshold: 100,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      });
      // Errors from 00:30 (first healthy check): minute 0 has 750, minute 1 has 1500.
      await ctx.fakeClock.tickAsync(MINUTE + 10 * SECOND);
      expect(cw.alarmState('web-5xx')).toBe('OK');
      await ctx.fakeClock.tickAsync(MINUTE);
      expect(cw.alarmState('web-5xx')).toBe('ALARM');
      expect(ctx.events.at(-1)).toMatchObject({ 'detail-type': 'CloudWatch Alarm State Change' });
    });
  });
});
