/**
 * Simulated Elastic Load Balancing v2 (Application Load Balancers only): target groups with health
 * checks driven by the simulated EC2 fleet, deregistration delay, a minimal load balancer with
 * listeners and rules (weighted forwards for blue/green), and a synthetic traffic model that
 * publishes per-minute AWS/ApplicationELB metrics to the simulated CloudWatch.
 *
 * Sources (cited again beside each rule):
 * - API: https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
 * - Health checks: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
 * - Deregistration delay: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#deregistration-delay
 * - Metrics: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
 */
import {
  DuplicateListenerException,
  DuplicateLoadBalancerNameException,
  DuplicateTargetGroupNameException,
  ElasticLoadBalancingV2ServiceException,
  InvalidTargetException,
  ListenerNotFoundException,
  LoadBalancerNotFoundException,
  PriorityInUseException,
  ResourceInUseException,
  RuleNotFoundException,
  TargetGroupNotFoundException,
  TooManyTargetGroupsException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type {
  Action,
  CreateListenerInput,
  CreateLoadBalancerInput,
  CreateRuleInput,
  CreateTargetGroupInput,
  DeleteListenerInput,
  DeleteRuleInput,
  DeleteTargetGroupInput,
  DeregisterTargetsInput,
  DescribeListenersInput,
  DescribeLoadBalancersInput,
  DescribeRulesInput,
  DescribeTargetGroupAttributesInput,
  DescribeTargetGroupsInput,
  DescribeTargetHealthInput,
  Listener,
  LoadBalancer,
  ModifyListenerInput,
  ModifyRuleInput,
  ModifyTargetGroupAttributesInput,
  ProtocolEnum,
  RegisterTargetsInput,
  Rule,
  RuleCondition,
  TargetGroup,
  TargetGroupAttribute,
  TargetHealthDescription,
  TargetHealthReasonEnum,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import type { SimContext, SimService, TimerHandle, VirtualMs } from '../core/context';
import type { Ec2Fleet, ElbFleet, TargetHealthState } from './fleet';
import type { MetricSink } from './cloudwatch';

export interface Elbv2SimOptions {
  ec2: Pick<Ec2Fleet, 'appHealth' | 'behaviourOf' | 'get'>;
  /** Where per-minute AWS/ApplicationELB metrics go (the CloudWatch sim). */
  metrics?: MetricSink;
  /** Steady client request rate per load balancer, split evenly across its listeners. */
  requestsPerSecond?: number;
  /** Whether a VPC exists (EC2 owns VPCs); defaults to accepting any well-formed VPC id. */
  vpcExists?: (vpcId: string) => boolean;
}

type TargetState = Exclude<TargetHealthState, 'unused' | 'unavailable'>;

interface TargetRecord {
  id: string;
  port: number;
  state: TargetState;
  reason?: TargetHealthReasonEnum;
  description?: string;
  successes: number;
  failures: number;
  checkTimer?: TimerHandle;
  drainTimer?: TimerHandle;
  onDrained: Array<() => void>;
}

interface TargetGroupRecord {
  arn: string;
  /** targetgroup/name/id, the CloudWatch TargetGroup dimension. */
  dimension: string;
  name: string;
  description: TargetGroup;
  attributes: Map<string, string>;
  targets: Map<string, TargetRecord>;
  inUse: boolean;
}

interface LoadBalancerRecord {
  arn: string;
  /** app/name/id, the CloudWatch LoadBalancer dimension. */
  dimension: string;
  description: LoadBalancer;
}

interface ListenerRecord {
  description: Listener;
}

interface RuleRecord {
  listenerArn: string;
  description: Rule;
}

const ALL_PROTOCOLS: readonly ProtocolEnum[] = [
  'HTTP',
  'HTTPS',
  'TCP',
  'TLS',
  'UDP',
  'TCP_UDP',
  'GENEVE',
  'QUIC',
  'TCP_QUIC',
];
const LISTENER_PROTOCOLS: readonly string[] = ['HTTP', 'HTTPS'];
const TRAFFIC_TICK_MS = 10_000;
const METRIC_PERIOD_MS = 60_000;

function validationError(message: string): ElasticLoadBalancingV2ServiceException {
  // ValidationError is a common query-protocol error the SDK does not model; it arrives as the
  // service's base exception carrying that name, exactly as the SDK parses it from AWS.
  return new ElasticLoadBalancingV2ServiceException({
    name: 'ValidationError',
    $fault: 'client',
    message,
    $metadata: { httpStatusCode: 400 },
  });
}

function metadata(status = 400) {
  return { $metadata: { httpStatusCode: status } };
}

function hexId(ctx: SimContext): string {
  return ctx.ids.next('x').slice(-16);
}

function checkRange(field: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min) {
    throw validationError(
      `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: Member must have value greater than or equal to ${min}`,
    );
  }
  if (value > max) {
    throw validationError(
      `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: Member must have value less than or equal to ${max}`,
    );
  }
}

/** Target group and load balancer names share AWS's rule. */
function checkName(kind: 'Target group' | 'Load balancer', name: string): void {
  if (name.length > 32) throw validationError(`${kind} name '${name}' cannot be longer than '32' characters`);
  if (!/^[A-Za-z0-9-]+$/.test(name)) {
    throw validationError(
      `${kind} name '${name}' can only contain characters that are alphanumeric characters or hyphens(-)`,
    );
  }
  if (name.startsWith('-') || name.endsWith('-')) {
    throw validationError(`${kind} name '${name}' cannot begin or end with '-'`);
  }
}

/** A rule condition that every request satisfies (path-pattern '*' or '/*'). */
function matchesEveryRequest(condition: RuleCondition): boolean {
  const values = condition.PathPatternConfig?.Values ?? condition.Values ?? [];
  return condition.Field === 'path-pattern' && values.some((v) => v === '*' || v === '/*');
}

interface TrafficTotals {
  requests: number;
  target5xx: number;
  latencySum: number;
  latencyMin: number;
  latencyMax: number;
  healthy: number[];
  unhealthy: number[];
}

export class Elbv2Sim implements SimService, ElbFleet {
  readonly serviceId = 'Elastic Load Balancing v2';
  private readonly targetGroups = new Map<string, TargetGroupRecord>();
  private readonly loadBalancers = new Map<string, LoadBalancerRecord>();
  private readonly listeners = new Map<string, ListenerRecord>();
  private readonly rules = new Map<string, RuleRecord>();
  private readonly requestsPerSecond: number;
  private readonly vpcExists: (vpcId: string) => boolean;
  private trafficTimer?: TimerHandle;
  /** Per `${lbArn}|${tgArn}` traffic of the current minute. */
  private totals = new Map<string, TrafficTotals>();
  private elb5xx = new Map<string, number>();

  constructor(
    private readonly ctx: SimContext,
    private readonly options: Elbv2SimOptions,
  ) {
    this.requestsPerSecond = options.requestsPerSecond ?? 50;
    this.vpcExists = options.vpcExists ?? ((id) => /^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/.test(id));
  }

  async handle(operation: string, input: unknown): Promise<object> {
    switch (operation) {
      case 'CreateTargetGroup':
        return this.createTargetGroup(input as CreateTargetGroupInput);
      case 'DescribeTargetGroups':
        return this.describeTargetGroups(input as DescribeTargetGroupsInput);
      case 'DescribeTargetGroupAttributes':
        return this.describeTargetGroupAttributes(input as DescribeTargetGroupAttributesInput);
      case 'ModifyTargetGroupAttributes':
        return this.modifyTargetGroupAttributes(input as ModifyTargetGroupAttributesInput);
      case 'DeleteTargetGroup':
        return this.deleteTargetGroup(input as DeleteTargetGroupInput);
      case 'RegisterTargets':
        return this.registerTargets(input as RegisterTargetsInput);
      case 'DeregisterTargets':
        return this.deregisterTargets(input as DeregisterTargetsInput);
      case 'DescribeTargetHealth':
        return this.describeTargetHealth(input as DescribeTargetHealthInput);
      case 'CreateLoadBalancer':
        return this.createLoadBalancer(input as CreateLoadBalancerInput);
      case 'DescribeLoadBalancers':
        return this.describeLoadBalancers(input as DescribeLoadBalancersInput);
      case 'CreateListener':
        return this.createListener(input as CreateListenerInput);
      case 'DescribeListeners':
        return this.describeListeners(input as DescribeListenersInput);
      case 'ModifyListener':
        return this.modifyListener(input as ModifyListenerInput);
      case 'DeleteListener':
        return this.deleteListener(input as DeleteListenerInput);
      case 'CreateRule':
        return this.createRule(input as CreateRuleInput);
      case 'ModifyRule':
        return this.modifyRule(input as ModifyRuleInput);
      case 'DescribeRules':
        return this.describeRules(input as DescribeRulesInput);
      case 'DeleteRule':
        return this.deleteRule(input as DeleteRuleInput);
      default:
        throw validationError(`The sandbox's Elastic Load Balancing does not implement ${operation}`);
    }
  }

  // ---------------------------------------------------------------- ElbFleet (for Auto Scaling)

  targetGroupExists(targetGroupArn: string): boolean {
    return this.targetGroups.has(targetGroupArn);
  }

  register(targetGroupArn: string, instanceId: string): void {
    const tg = this.targetGroups.get(targetGroupArn);
    if (!tg) throw new Error(`register: target group ${targetGroupArn} does not exist`);
    this.registerTarget(tg, instanceId, tg.description.Port ?? 80);
  }

  deregister(targetGroupArn: string, instanceId: string, onDrained: () => void): void {
    const tg = this.targetGroups.get(targetGroupArn);
    const target = tg?.targets.get(instanceId);
    if (!tg || !target) {
      onDrained();
      return;
    }
    target.onDrained.push(onDrained);
    this.deregisterTarget(tg, target);
  }

  health(targetGroupArn: string, instanceId: string): TargetHealthState | undefined {
    const tg = this.targetGroups.get(targetGroupArn);
    const target = tg?.targets.get(instanceId);
    if (!tg || !target) return undefined;
    return this.visibleHealth(tg, target).state;
  }

  // ---------------------------------------------------------------- target groups

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
  private createTargetGroup(input: CreateTargetGroupInput): object {
    if (!input.Name) throw validationError('A target group name must be specified');
    checkName('Target group', input.Name);
    const targetType = input.TargetType ?? 'instance';
    if (targetType !== 'instance' && targetType !== 'ip') {
      throw validationError(
        `TargetType '${targetType}' is not simulated by the sandbox (instance or ip only)`,
      );
    }
    if (input.Protocol !== undefined && !ALL_PROTOCOLS.includes(input.Protocol)) {
      throw validationError(
        `1 validation error detected: Value '${input.Protocol}' at 'protocol' failed to satisfy constraint: Member must satisfy enum value set: [${ALL_PROTOCOLS.join(', ')}]`,
      );
    }
    if (input.HealthCheckProtocol !== undefined && !ALL_PROTOCOLS.includes(input.HealthCheckProtocol)) {
      throw validationError(
        `1 validation error detected: Value '${input.HealthCheckProtocol}' at 'healthCheckProtocol' failed to satisfy constraint: Member must satisfy enum value set: [${ALL_PROTOCOLS.join(', ')}]`,
      );
    }
    // "If the target is a Lambda function, this parameter does not apply. Otherwise, this parameter is required."
    if (!input.Protocol) throw validationError('A protocol must be specified');
    if (input.Port === undefined) throw validationError('A port must be specified');
    checkRange('port', input.Port, 1, 65535);
    if (!input.VpcId) throw validationError('A VPC ID must be specified');
    if (!this.vpcExists(input.VpcId)) throw validationError(`The VPC ID '${input.VpcId}' is not found`);
    // Ranges from the API reference: interval 5-300, timeout 2-120, thresholds 2-10.
    checkRange('healthCheckIntervalSeconds', input.HealthCheckIntervalSeconds, 5, 300);
    checkRange('healthCheckTimeoutSeconds', input.HealthCheckTimeoutSeconds, 2, 120);
    checkRange('healthyThresholdCount', input.HealthyThresholdCount, 2, 10);
    checkRange('unhealthyThresholdCount', input.UnhealthyThresholdCount, 2, 10);

    const http = input.Protocol === 'HTTP' || input.Protocol === 'HTTPS';
    // Defaults for instance/ip targets from the ALB guide's health check settings table: interval 30,
    // timeout 5, healthy 5, unhealthy 2. (The API reference now says 6 s for HTTP and 10 s for HTTPS
    // timeouts; the guide, moto and this brief agree on 5, and Kiln never relies on the value.)
    const interval = input.HealthCheckIntervalSeconds ?? 30;
    const timeout = input.HealthCheckTimeoutSeconds ?? (http ? 5 : 10);
    if (timeout >= interval) {
      throw validationError(
        `Health check timeout '${timeout}' must be smaller than the interval '${interval}'`,
      );
    }
    const description: TargetGroup = {
      TargetGroupName: input.Name,
      Protocol: input.Protocol,
      Port: input.Port,
      VpcId: input.VpcId,
      HealthCheckProtocol: input.HealthCheckProtocol ?? (http ? input.Protocol : 'TCP'),
      HealthCheckPort: input.HealthCheckPort ?? 'traffic-port',
      HealthCheckEnabled: true,
      HealthCheckIntervalSeconds: interval,
      HealthCheckTimeoutSeconds: timeout,
      HealthyThresholdCount: input.HealthyThresholdCount ?? 5,
      UnhealthyThresholdCount: input.UnhealthyThresholdCount ?? 2,
      TargetType: targetType,
      IpAddressType: input.IpAddressType ?? 'ipv4',
      LoadBalancerArns: [],
    };
    if (http) {
      description.HealthCheckPath = input.HealthCheckPath ?? '/';
      description.Matcher = input.Matcher ?? { HttpCode: '200' };
      description.ProtocolVersion = input.ProtocolVersion ?? 'HTTP1';
    }

    const existing = [...this.targetGroups.values()].find((tg) => tg.name === input.Name);
    if (existing) {
      // "This operation is idempotent … If you attempt to create multiple target groups with the same
      // settings, each call succeeds." A different setting under the same name is a duplicate.
      const same = (Object.keys(description) as Array<keyof TargetGroup>)
        .filter((key) => key !== 'LoadBalancerArns')
        .every((key) => JSON.stringify(description[key]) === JSON.stringify(existing.description[key]));
      if (!same) {
        throw new DuplicateTargetGroupNameException({
          message: 'A target group with the same name exists, but with different settings',
          ...metadata(),
        });
      }
      return { TargetGroups: [this.describeTargetGroup(existing)] };
    }
    // Default quota: 3000 target groups per Region.
    // https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html
    if (this.targetGroups.size >= 3000) {
      throw new TooManyTargetGroupsException({
        message: 'You have reached the limit on the number of target groups',
        ...metadata(),
      });
    }
    const dimension = `targetgroup/${input.Name}/${hexId(this.ctx)}`;
    const arn = `arn:aws:elasticloadbalancing:${this.ctx.region}:${this.ctx.accountId}:${dimension}`;
    description.TargetGroupArn = arn;
    const record: TargetGroupRecord = {
      arn,
      dimension,
      name: input.Name,
      description,
      attributes: new Map([
        // https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#target-group-attributes
        ['deregistration_delay.timeout_seconds', '300'],
        ['slow_start.duration_seconds', '0'],
        ['stickiness.enabled', 'false'],
        ['stickiness.type', 'lb_cookie'],
        ['stickiness.lb_cookie.duration_seconds', '86400'],
        ['load_balancing.algorithm.type', 'round_robin'],
      ]),
      targets: new Map(),
      inUse: false,
    };
    this.targetGroups.set(arn, record);
    return { TargetGroups: [this.describeTargetGroup(record)] };
  }

  private describeTargetGroup(tg: TargetGroupRecord): TargetGroup {
    return structuredClone({ ...tg.description, LoadBalancerArns: this.loadBalancersUsing(tg.arn) });
  }

  private findTargetGroup(arn: string | undefined): TargetGroupRecord {
    const tg = arn === undefined ? undefined : this.targetGroups.get(arn);
    if (!tg)
      throw new TargetGroupNotFoundException({
        message: 'One or more target groups not found',
        ...metadata(),
      });
    return tg;
  }

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetGroups.html
  private describeTargetGroups(input: DescribeTargetGroupsInput): object {
    let groups = [...this.targetGroups.values()];
    if (input.LoadBalancerArn !== undefined) {
      this.findLoadBalancer(input.LoadBalancerArn);
      groups = groups.filter((tg) =>
        this.loadBalancersUsing(tg.arn).includes(input.LoadBalancerArn as string),
      );
    }
    if (input.TargetGroupArns?.length) {
      const wanted = input.TargetGroupArns.map((arn) => this.findTargetGroup(arn));
      groups = groups.filter((tg) => wanted.includes(tg));
    }
    if (input.Names?.length) {
      for (const name of input.Names) {
        if (!groups.some((tg) => tg.name === name)) {
          throw new TargetGroupNotFoundException({
            message: 'One or more target groups not found',
            ...metadata(),
          });
        }
      }
      groups = groups.filter((tg) => input.Names?.includes(tg.name));
    }
    groups.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { TargetGroups: groups.map((tg) => this.describeTargetGroup(tg)) };
  }

  private attributesOf(tg: TargetGroupRecord): TargetGroupAttribute[] {
    return [...tg.attributes.entries()].map(([Key, Value]) => ({ Key, Value }));
  }

  private describeTargetGroupAttributes(input: DescribeTargetGroupAttributesInput): object {
    return { Attributes: this.attributesOf(this.findTargetGroup(input.TargetGroupArn)) };
  }

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ModifyTargetGroupAttributes.html
  private modifyTargetGroupAttributes(input: ModifyTargetGroupAttributesInput): object {
    const tg = this.findTargetGroup(input.TargetGroupArn);
    if (!input.Attributes?.length) throw validationError('Attributes must be specified');
    const next = new Map(tg.attributes);
    for (const attribute of input.Attributes) {
      if (!attribute.Key || !tg.attributes.has(attribute.Key)) {
        throw validationError(`Target group attribute key '${attribute.Key ?? ''}' is not recognized`);
      }
      const value = attribute.Value ?? '';
      if (attribute.Key === 'deregistration_delay.timeout_seconds') {
        // "The range is 0-3600 seconds. The default value is 300 seconds."
        const seconds = Number(value);
        if (!/^\d+$/.test(value) || seconds > 3600) {
          throw validationError(
            `'deregistration_delay.timeout_seconds' value '${value}' must be an integer between 0 and 3600`,
          );
        }
      }
      next.set(attribute.Key, value);
    }
    tg.attributes = next;
    return { Attributes: this.attributesOf(tg) };
  }

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeleteTargetGroup.html
  private deleteTargetGroup(input: DeleteTargetGroupInput): object {
    if (!input.TargetGroupArn) throw validationError('A target group ARN must be specified');
    const tg = this.targetGroups.get(input.TargetGroupArn);
    if (!tg) return {};
    if (tg.inUse) {
      throw new ResourceInUseException({
        message: `Target group '${tg.arn}' is currently in use by a listener or a rule`,
        ...metadata(),
      });
    }
    for (const target of tg.targets.values()) this.removeTarget(tg, target);
    this.targetGroups.delete(tg.arn);
    return {};
  }

  // ---------------------------------------------------------------- targets and health

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RegisterTargets.html
  private registerTargets(input: RegisterTargetsInput): object {
    const tg = this.findTargetGroup(input.TargetGroupArn);
    if (!input.Targets?.length) throw validationError('Targets must be specified');
    for (const target of input.Targets) {
      if (!target.Id) throw validationError('Targets.member.Id must be specified');
      checkRange('port', target.Port, 1, 65535);
      const instance = this.options.ec2.get(target.Id);
      if (!instance) {
        throw new InvalidTargetException({
          message: `The specified target does not exist or is not in the same VPC as the target group: '${target.Id}'`,
          ...metadata(),
        });
      }
      if (instance.state !== 'running') {
        throw new InvalidTargetException({
          message: `The following targets are not in a running state and cannot be registered: '${target.Id}'`,
          ...metadata(),
        });
      }
    }
    for (const target of input.Targets)
      this.registerTarget(tg, target.Id as string, target.Port ?? tg.description.Port ?? 80);
    return {};
  }

  private registerTarget(tg: TargetGroupRecord, id: string, port: number): void {
    const existing = tg.targets.get(id);
    if (existing && existing.state !== 'draining') return;
    if (existing) {
      // Registering again during draining abandons the deregistration; waiters are released.
      if (existing.drainTimer) this.ctx.clock.clearTimeout(existing.drainTimer);
      const waiters = existing.onDrained.splice(0);
      tg.targets.delete(id);
      waiters.forEach((w) => w());
    }
    const target: TargetRecord = { id, port, state: 'initial', successes: 0, failures: 0, onDrained: [] };
    tg.targets.set(id, target);
    this.setTargetState(
      tg,
      target,
      'initial',
      'Elb.RegistrationInProgress',
      'Target registration is in progress',
    );
    if (tg.inUse) this.startHealthChecks(tg, target);
  }

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeregisterTargets.html
  private deregisterTargets(input: DeregisterTargetsInput): object {
    const tg = this.findTargetGroup(input.TargetGroupArn);
    if (!input.Targets?.length) throw validationError('Targets must be specified');
    const records = input.Targets.map((t) => {
      const record = t.Id === undefined ? undefined : tg.targets.get(t.Id);
      if (!record) {
        throw new InvalidTargetException({
          message: `The specified target does not exist, is not in the same VPC as the target group, or has an unsupported instance type: '${t.Id ?? ''}'`,
          ...metadata(),
        });
      }
      return record;
    });
    for (const record of records) this.deregisterTarget(tg, record);
    return {};
  }

  /**
   * "The initial state of a deregistering target is draining. After the deregistration delay
   * elapses, the deregistration process completes and the state of the target is unused." Even when
   * no requests are in flight, "the status of the target will be displayed as draining until the
   * deregistration delay elapses", so the sandbox always waits the full delay.
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#deregistration-delay
   */
  private deregisterTarget(tg: TargetGroupRecord, target: TargetRecord): void {
    if (target.state === 'draining') return;
    this.stopHealthChecks(target);
    if (!tg.inUse) {
      // Not serving any load balancer: nothing to drain.
      this.removeTarget(tg, target);
      return;
    }
    this.setTargetState(
      tg,
      target,
      'draining',
      'Target.DeregistrationInProgress',
      'Target deregistration is in progress',
    );
    const delayMs = Number(tg.attributes.get('deregistration_delay.timeout_seconds') ?? '300') * 1000;
    target.drainTimer = this.ctx.clock.setTimeout(() => {
      delete target.drainTimer;
      this.removeTarget(tg, target);
    }, delayMs);
  }

  private removeTarget(tg: TargetGroupRecord, target: TargetRecord): void {
    this.stopHealthChecks(target);
    if (target.drainTimer) this.ctx.clock.clearTimeout(target.drainTimer);
    tg.targets.delete(target.id);
    this.ctx.timeline.record({
      kind: 'state',
      resource: `${tg.arn}/${target.id}`,
      from: target.state,
      to: 'unused',
    });
    target.onDrained.splice(0).forEach((w) => w());
  }

  private startHealthChecks(tg: TargetGroupRecord, target: TargetRecord): void {
    this.stopHealthChecks(target);
    const intervalMs = (tg.description.HealthCheckIntervalSeconds ?? 30) * 1000;
    const tick = (): void => {
      delete target.checkTimer;
      if (tg.targets.get(target.id) !== target || target.state === 'draining' || !tg.inUse) return;
      this.healthCheck(tg, target);
      target.checkTimer = this.ctx.clock.setTimeout(tick, intervalMs);
    };
    target.checkTimer = this.ctx.clock.setTimeout(tick, intervalMs);
  }

  private stopHealthChecks(target: TargetRecord): void {
    if (target.checkTimer) this.ctx.clock.clearTimeout(target.checkTimer);
    delete target.checkTimer;
  }

  /**
   * One health check. From the ALB guide: "After your target is registered, it must pass one health
   * check to be considered healthy"; a target goes out of service after UnhealthyThresholdCount
   * consecutive failures and back in after HealthyThresholdCount consecutive successes.
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
   */
  private healthCheck(tg: TargetGroupRecord, target: TargetRecord): void {
    const instance = this.options.ec2.get(target.id);
    const app = instance && instance.state === 'running' ? this.options.ec2.appHealth(target.id) : undefined;
    const healthyThreshold = tg.description.HealthyThresholdCount ?? 5;
    const unhealthyThreshold = tg.description.UnhealthyThresholdCount ?? 2;
    if (app === 'healthy') {
      target.successes++;
      target.failures = 0;
      if (
        target.state === 'initial' ||
        (target.state === 'unhealthy' && target.successes >= healthyThreshold)
      ) {
        this.setTargetState(tg, target, 'healthy');
      }
      return;
    }
    target.failures++;
    target.successes = 0;
    // Reason codes from the TargetHealth API reference.
    // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html
    const [reason, description]: [TargetHealthReasonEnum, string] =
      app === undefined
        ? ['Target.InvalidState', `Target is in the ${instance?.state ?? 'terminated'} state`]
        : app === 'unhealthy'
          ? ['Target.ResponseCodeMismatch', 'Health checks failed with these codes: [500]']
          : app === 'down'
            ? ['Target.Timeout', 'Request timed out']
            : ['Target.FailedHealthChecks', 'Health checks failed'];
    if (target.failures >= unhealthyThreshold) {
      this.setTargetState(tg, target, 'unhealthy', reason, description);
    } else if (target.state === 'initial' && target.reason === 'Elb.RegistrationInProgress') {
      this.setTargetState(
        tg,
        target,
        'initial',
        'Elb.InitialHealthChecking',
        'Initial health checks in progress',
      );
    }
  }

  private setTargetState(
    tg: TargetGroupRecord,
    target: TargetRecord,
    state: TargetState,
    reason?: TargetHealthReasonEnum,
    description?: string,
  ): void {
    const from = target.state;
    const isNew =
      target.reason === undefined && target.successes === 0 && target.failures === 0 && state === 'initial';
    target.state = state;
    if (reason === undefined) delete target.reason;
    else target.reason = reason;
    if (description === undefined) delete target.description;
    else target.description = description;
    if (isNew || from !== state) {
      this.ctx.timeline.record({
        kind: 'state',
        resource: `${tg.arn}/${target.id}`,
        from: isNew ? null : from,
        to: state,
      });
    }
  }

  /**
   * A target in a group no listener rule uses is `unused` with Target.NotInUse: "Before the load
   * balancer sends a health check request to a target, you must register it with a target group,
   * specify its target group in a listener rule …"
   */
  private visibleHealth(
    tg: TargetGroupRecord,
    target: TargetRecord,
  ): { state: TargetHealthState; reason?: TargetHealthReasonEnum; description?: string } {
    if (!tg.inUse && target.state !== 'draining') {
      return {
        state: 'unused',
        reason: 'Target.NotInUse',
        description: 'Target group is not configured to receive traffic from the load balancer',
      };
    }
    return {
      state: target.state,
      ...(target.reason === undefined ? {} : { reason: target.reason }),
      ...(target.description === undefined ? {} : { description: target.description }),
    };
  }

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetHealth.html
  private describeTargetHealth(input: DescribeTargetHealthInput): object {
    const tg = this.findTargetGroup(input.TargetGroupArn);
    const describe = (id: string, port: number | undefined): TargetHealthDescription => {
      const target = tg.targets.get(id);
      const targetPort = port ?? target?.port ?? tg.description.Port ?? 80;
      const healthCheckPort =
        tg.description.HealthCheckPort === 'traffic-port'
          ? String(targetPort)
          : tg.description.HealthCheckPort;
      if (!target) {
        return {
          Target: { Id: id, Port: targetPort },
          HealthCheckPort: healthCheckPort,
          TargetHealth: {
            State: 'unused',
            Reason: 'Target.NotRegistered',
            Description: 'Target is not registered to the target group',
          },
        };
      }
      const health = this.visibleHealth(tg, target);
      return {
        Target: { Id: id, Port: target.port },
        HealthCheckPort: healthCheckPort,
        TargetHealth: {
          State: health.state,
          ...(health.reason === undefined ? {} : { Reason: health.reason }),
          ...(health.description === undefined ? {} : { Description: health.description }),
        },
      };
    };
    const wanted = input.Targets?.length
      ? input.Targets.map((t) => describe(t.Id ?? '', t.Port))
      : [...tg.targets.values()].map((t) => describe(t.id, t.port));
    return { TargetHealthDescriptions: wanted };
  }

  // ---------------------------------------------------------------- load balancers, listeners, rules

  private findLoadBalancer(arn: string | undefined): LoadBalancerRecord {
    const lb = arn === undefined ? undefined : this.loadBalancers.get(arn);
    if (!lb)
      throw new LoadBalancerNotFoundException({
        message: 'The specified load balancer does not exist.',
        ...metadata(),
      });
    return lb;
  }

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html
  private createLoadBalancer(input: CreateLoadBalancerInput): object {
    if (!input.Name) throw validationError('A load balancer name must be specified');
    checkName('Load balancer', input.Name);
    if (input.Name.startsWith('internal-'))
      throw validationError("Load balancer name cannot begin with 'internal-'");
    const type = input.Type ?? 'application';
    if (type !== 'application')
      throw validationError(`Load balancer type '${type}' is not simulated by the sandbox`);
    const subnets = input.Subnets ?? input.SubnetMappings?.map((m) => m.SubnetId ?? '') ?? [];
    const existing = [...this.loadBalancers.values()].find(
      (lb) => lb.description.LoadBalancerName === input.Name,
    );
    if (existing) {
      // CreateLoadBalancer is idempotent for identical settings, like CreateTargetGroup.
      const sameSubnets =
        JSON.stringify(existing.description.AvailabilityZones?.map((az) => az.SubnetId)) ===
        JSON.stringify(subnets);
      if (!sameSubnets || existing.description.Scheme !== (input.Scheme ?? 'internet-facing')) {
        throw new DuplicateLoadBalancerNameException({
          message: 'A load balancer with the same name exists, but with different settings',
          ...metadata(),
        });
      }
      return { LoadBalancers: [structuredClone(existing.description)] };
    }
    const id = hexId(this.ctx);
    const dimension = `app/${input.Name}/${id}`;
    const arn = `arn:aws:elasticloadbalancing:${this.ctx.region}:${this.ctx.accountId}:loadbalancer/${dimension}`;
    const scheme = input.Scheme ?? 'internet-facing';
    const description: LoadBalancer = {
      LoadBalancerArn: arn,
      DNSName: `${scheme === 'internal' ? 'internal-' : ''}${input.Name}-${parseInt(id.slice(0, 8), 16)}.${this.ctx.region}.elb.amazonaws.com`,
      CanonicalHostedZoneId: 'Z35SXDOTRQ7X7K',
      CreatedTime: new Date(this.ctx.clock.now()),
      LoadBalancerName: input.Name,
      Scheme: scheme,
      VpcId: 'vpc-00000000',
      // The sandbox models no provisioning delay: the load balancer is active at once.
      State: { Code: 'active' },
      Type: 'application',
      AvailabilityZones: subnets.map((subnet, i) => ({
        SubnetId: subnet,
        ZoneName: `${this.ctx.region}${String.fromCharCode(97 + (i % 6))}`,
        LoadBalancerAddresses: [],
      })),
      SecurityGroups: input.SecurityGroups ?? [],
      IpAddressType: input.IpAddressType ?? 'ipv4',
    };
    this.loadBalancers.set(arn, { arn, dimension, description });
    this.ensureTraffic();
    return { LoadBalancers: [structuredClone(description)] };
  }

  private describeLoadBalancers(input: DescribeLoadBalancersInput): object {
    let lbs = [...this.loadBalancers.values()];
    if (input.LoadBalancerArns?.length) lbs = input.LoadBalancerArns.map((arn) => this.findLoadBalancer(arn));
    if (input.Names?.length) {
      lbs = input.Names.map((name) => {
        const lb = lbs.find((l) => l.description.LoadBalancerName === name);
        if (!lb) {
          throw new LoadBalancerNotFoundException({
            message: `Load balancers '[${name}]' not found`,
            ...metadata(),
          });
        }
        return lb;
      });
    }
    return { LoadBalancers: lbs.map((lb) => structuredClone(lb.description)) };
  }

  /**
   * Validates actions and returns them as AWS describes them: a forward action always carries a
   * ForwardConfig, with weight 1 when only TargetGroupArn was given.
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Action.html
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ForwardActionConfig.html
   */
  private normalizeActions(field: string, actions: Action[] | undefined): Action[] {
    if (!actions?.length) throw validationError(`${field} must contain at least one action`);
    return actions.map((action, index) => {
      const at = `${field}.member.${index + 1}`;
      if (!action.Type) throw validationError(`${at}.Type must be specified`);
      if (action.Type !== 'forward') return structuredClone(action);
      const tuples = action.ForwardConfig?.TargetGroups ?? [];
      if (!action.TargetGroupArn && tuples.length === 0) {
        throw validationError(`${at}: a forward action needs TargetGroupArn or ForwardConfig.TargetGroups`);
      }
      // "You can specify up to 5 target groups … Weight: Minimum value of 0. Maximum value of 999."
      if (tuples.length > 5)
        throw validationError(`${at}.ForwardConfig.TargetGroups can hold at most 5 target groups`);
      if (action.TargetGroupArn && tuples.length > 0) {
        const only = tuples.length === 1 && tuples[0]?.TargetGroupArn === action.TargetGroupArn;
        if (!only) {
          throw validationError(
            `${at}: TargetGroupArn and ForwardConfig must name the same single target group`,
          );
        }
      }
      const normalized = (
        tuples.length > 0 ? tuples : [{ TargetGroupArn: action.TargetGroupArn, Weight: 1 }]
      ).map((tuple, i) => {
        this.findTargetGroup(tuple.TargetGroupArn);
        const weight = tuple.Weight ?? 1;
        checkRange(`${at}.ForwardConfig.TargetGroups.member.${i + 1}.Weight`, weight, 0, 999);
        return { TargetGroupArn: tuple.TargetGroupArn as string, Weight: weight };
      });
      const out: Action = {
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: normalized,
          TargetGroupStickinessConfig: action.ForwardConfig?.TargetGroupStickinessConfig ?? {
            Enabled: false,
          },
        },
      };
      if (normalized.length === 1) out.TargetGroupArn = normalized[0]?.TargetGroupArn;
      if (action.Order !== undefined) out.Order = action.Order;
      return out;
    });
  }

  private findListener(arn: string | undefined): ListenerRecord {
    const listener = arn === undefined ? undefined : this.listeners.get(arn);
    if (!listener)
      throw new ListenerNotFoundException({
        message: 'The specified listener does not exist.',
        ...metadata(),
      });
    return listener;
  }

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateListener.html
  private createListener(input: CreateListenerInput): object {
    const lb = this.findLoadBalancer(input.LoadBalancerArn);
    const protocol = input.Protocol ?? 'HTTP';
    if (!LISTENER_PROTOCOLS.includes(protocol)) {
      throw validationError(
        `Listener protocol '${protocol}' must be one of '${LISTENER_PROTOCOLS.join(', ')}'`,
      );
    }
    if (protocol === 'HTTPS' && !input.Certificates?.length) {
      throw validationError('A certificate must be specified for HTTPS listeners');
    }
    if (input.Port === undefined) throw validationError('A listener port must be specified');
    checkRange('port', input.Port, 1, 65535);
    for (const listener of this.listeners.values()) {
      if (listener.description.LoadBalancerArn === lb.arn && listener.description.Port === input.Port) {
        throw new DuplicateListenerException({
          message: 'A listener with the specified port already exists.',
          ...metadata(),
        });
      }
    }
    const actions = this.normalizeActions('DefaultActions', input.DefaultActions);
    const arn = `arn:aws:elasticloadbalancing:${this.ctx.region}:${this.ctx.accountId}:listener/${lb.dimension}/${hexId(this.ctx)}`;
    const description: Listener = {
      ListenerArn: arn,
      LoadBalancerArn: lb.arn,
      Port: input.Port,
      Protocol: protocol,
      DefaultActions: actions,
    };
    if (input.Certificates) description.Certificates = structuredClone(input.Certificates);
    if (protocol === 'HTTPS') description.SslPolicy = input.SslPolicy ?? 'ELBSecurityPolicy-2016-08';
    this.listeners.set(arn, { description });
    this.refreshUsage();
    return { Listeners: [structuredClone(description)] };
  }

  private describeListeners(input: DescribeListenersInput): object {
    if (!input.LoadBalancerArn && !input.ListenerArns?.length) {
      throw validationError('You must specify either listener ARNs or a load balancer ARN');
    }
    let listeners: ListenerRecord[];
    if (input.ListenerArns?.length) {
      listeners = input.ListenerArns.map((arn) => this.findListener(arn));
    } else {
      const lb = this.findLoadBalancer(input.LoadBalancerArn);
      listeners = [...this.listeners.values()].filter((l) => l.description.LoadBalancerArn === lb.arn);
    }
    return { Listeners: listeners.map((l) => structuredClone(l.description)) };
  }

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ModifyListener.html
  private modifyListener(input: ModifyListenerInput): object {
    const listener = this.findListener(input.ListenerArn);
    const next = structuredClone(listener.description);
    if (input.Protocol !== undefined) {
      if (!LISTENER_PROTOCOLS.includes(input.Protocol)) {
        throw validationError(
          `Listener protocol '${input.Protocol}' must be one of '${LISTENER_PROTOCOLS.join(', ')}'`,
        );
      }
      next.Protocol = input.Protocol;
    }
    if (input.Port !== undefined) {
      checkRange('port', input.Port, 1, 65535);
      for (const other of this.listeners.values()) {
        if (
          other !== listener &&
          other.description.LoadBalancerArn === next.LoadBalancerArn &&
          other.description.Port === input.Port
        ) {
          throw new DuplicateListenerException({
            message: 'A listener with the specified port already exists.',
            ...metadata(),
          });
        }
      }
      next.Port = input.Port;
    }
    if (input.Certificates) next.Certificates = structuredClone(input.Certificates);
    if (input.DefaultActions)
      next.DefaultActions = this.normalizeActions('DefaultActions', input.DefaultActions);
    listener.description = next;
    this.refreshUsage();
    return { Listeners: [structuredClone(next)] };
  }

  private deleteListener(input: DeleteListenerInput): object {
    const listener = this.findListener(input.ListenerArn);
    this.listeners.delete(listener.description.ListenerArn as string);
    for (const [arn, rule] of this.rules)
      if (rule.listenerArn === listener.description.ListenerArn) this.rules.delete(arn);
    this.refreshUsage();
    return {};
  }

  private findRule(arn: string | undefined): RuleRecord {
    const rule = arn === undefined ? undefined : this.rules.get(arn);
    if (!rule)
      throw new RuleNotFoundException({ message: 'The specified rule does not exist.', ...metadata() });
    return rule;
  }

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateRule.html
  private createRule(input: CreateRuleInput): object {
    const listener = this.findListener(input.ListenerArn);
    if (input.Priority === undefined) throw validationError('A rule priority must be specified');
    checkRange('priority', input.Priority, 1, 50000);
    if (!input.Conditions?.length) throw validationError('A rule must have at least one condition');
    const listenerArn = listener.description.ListenerArn as string;
    for (const rule of this.rules.values()) {
      if (rule.listenerArn === listenerArn && rule.description.Priority === String(input.Priority)) {
        throw new PriorityInUseException({ message: 'The specified priority is in use.', ...metadata() });
      }
    }
    const actions = this.normalizeActions('Actions', input.Actions);
    const arn = listenerArn.replace(':listener/', ':listener-rule/') + `/${hexId(this.ctx)}`;
    const description: Rule = {
      RuleArn: arn,
      Priority: String(input.Priority),
      Conditions: structuredClone(input.Conditions),
      Actions: actions,
      IsDefault: false,
    };
    this.rules.set(arn, { listenerArn, description });
    this.refreshUsage();
    return { Rules: [structuredClone(description)] };
  }

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ModifyRule.html
  private modifyRule(input: ModifyRuleInput): object {
    const rule = this.findRule(input.RuleArn);
    if (!input.Conditions && !input.Actions)
      throw validationError('Either conditions or actions must be specified');
    if (input.Actions) rule.description.Actions = this.normalizeActions('Actions', input.Actions);
    if (input.Conditions) rule.description.Conditions = structuredClone(input.Conditions);
    this.refreshUsage();
    return { Rules: [structuredClone(rule.description)] };
  }

  private describeRules(input: DescribeRulesInput): object {
    if (input.RuleArns?.length)
      return { Rules: input.RuleArns.map((arn) => structuredClone(this.findRule(arn).description)) };
    const listener = this.findListener(input.ListenerArn);
    const rules = [...this.rules.values()]
      .filter((r) => r.listenerArn === listener.description.ListenerArn)
      .map((r) => structuredClone(r.description))
      .sort((a, b) => Number(a.Priority) - Number(b.Priority));
    // Every listener has a default rule that carries its default actions.
    rules.push({
      RuleArn:
        (listener.description.ListenerArn as string).replace(':listener/', ':listener-rule/') + '/default',
      Priority: 'default',
      Conditions: [],
      Actions: structuredClone(listener.description.DefaultActions ?? []),
      IsDefault: true,
    });
    return { Rules: rules };
  }

  private deleteRule(input: DeleteRuleInput): object {
    const rule = this.findRule(input.RuleArn);
    this.rules.delete(rule.description.RuleArn as string);
    this.refreshUsage();
    return {};
  }

  /** Target groups named by a forward action of a listener's default actions or rules, per load balancer. */
  private forwardsOf(actions: Action[] | undefined): Array<{ arn: string; weight: number }> {
    const forward = actions?.find((a) => a.Type === 'forward');
    return (forward?.ForwardConfig?.TargetGroups ?? []).map((t) => ({
      arn: t.TargetGroupArn ?? '',
      weight: t.Weight ?? 1,
    }));
  }

  private loadBalancersUsing(tgArn: string): string[] {
    const out = new Set<string>();
    for (const listener of this.listeners.values()) {
      const lbArn = listener.description.LoadBalancerArn as string;
      const actionSets = [
        listener.description.DefaultActions,
        ...[...this.rules.values()]
          .filter((r) => r.listenerArn === listener.description.ListenerArn)
          .map((r) => r.description.Actions),
      ];
      if (actionSets.some((actions) => this.forwardsOf(actions).some((f) => f.arn === tgArn))) out.add(lbArn);
    }
    return [...out];
  }

  /** Starts health checks for groups that gained a listener and parks targets of groups that lost one. */
  private refreshUsage(): void {
    for (const tg of this.targetGroups.values()) {
      const inUse = this.loadBalancersUsing(tg.arn).length > 0;
      if (inUse === tg.inUse) continue;
      tg.inUse = inUse;
      for (const target of tg.targets.values()) {
        if (target.state === 'draining') continue;
        if (inUse) {
          target.successes = 0;
          target.failures = 0;
          this.setTargetState(
            tg,
            target,
            'initial',
            'Elb.RegistrationInProgress',
            'Target registration is in progress',
          );
          this.startHealthChecks(tg, target);
        } else {
          this.stopHealthChecks(target);
        }
      }
    }
  }

  // ---------------------------------------------------------------- traffic and metrics

  private ensureTraffic(): void {
    if (this.trafficTimer) return;
    const now = this.ctx.clock.now();
    const next = Math.floor(now / TRAFFIC_TICK_MS) * TRAFFIC_TICK_MS + TRAFFIC_TICK_MS;
    this.trafficTimer = this.ctx.clock.setTimeout(() => {
      delete this.trafficTimer;
      this.trafficTick();
      if (this.loadBalancers.size > 0) this.ensureTraffic();
    }, next - now);
  }

  /** The action that receives the listener's synthetic traffic: a match-all rule, else the default. */
  private servingActions(listener: Listener): Action[] | undefined {
    const matchAll = [...this.rules.values()]
      .filter((r) => r.listenerArn === listener.ListenerArn)
      .filter(
        (r) =>
          (r.description.Conditions ?? []).length > 0 &&
          (r.description.Conditions ?? []).every(matchesEveryRequest),
      )
      .sort((a, b) => Number(a.description.Priority) - Number(b.description.Priority))[0];
    return matchAll ? matchAll.description.Actions : listener.DefaultActions;
  }

  /**
   * Ten seconds of traffic. Requests split across target groups by weight and evenly across healthy
   * targets; "If a target group contains only unhealthy registered targets, the load balancer routes
   * requests across its unhealthy targets" (fail open), and initial or draining targets get none.
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
   */
  private trafficTick(): void {
    const seconds = TRAFFIC_TICK_MS / 1000;
    for (const lb of this.loadBalancers.values()) {
      const listeners = [...this.listeners.values()].filter((l) => l.description.LoadBalancerArn === lb.arn);
      const attached = new Set<string>();
      for (const listener of listeners) {
        for (const actions of [
          listener.description.DefaultActions,
          ...[...this.rules.values()]
            .filter((r) => r.listenerArn === listener.description.ListenerArn)
            .map((r) => r.description.Actions),
        ]) {
          this.forwardsOf(actions).forEach((f) => attached.add(f.arn));
        }
      }
      for (const tgArn of attached) {
        const tg = this.targetGroups.get(tgArn);
        if (!tg) continue;
        const totals = this.totalsFor(lb.arn, tgArn);
        const states = [...tg.targets.values()].map((t) => t.state);
        totals.healthy.push(states.filter((s) => s === 'healthy').length);
        totals.unhealthy.push(states.filter((s) => s === 'unhealthy').length);
      }
      if (listeners.length === 0) continue;
      const perListener = (this.requestsPerSecond * seconds) / listeners.length;
      for (const listener of listeners) {
        const forwards = this.forwardsOf(this.servingActions(listener.description));
        const totalWeight = forwards.reduce((n, f) => n + f.weight, 0);
        if (totalWeight === 0) continue;
        for (const forward of forwards) {
          const tg = this.targetGroups.get(forward.arn);
          if (!tg) continue;
          this.serve(lb, tg, (perListener * forward.weight) / totalWeight);
        }
      }
    }
    const now = this.ctx.clock.now();
    if (now % METRIC_PERIOD_MS === 0) this.flushMetrics(now - METRIC_PERIOD_MS);
  }

  private totalsFor(lbArn: string, tgArn: string): TrafficTotals {
    const key = `${lbArn}|${tgArn}`;
    let totals = this.totals.get(key);
    if (!totals) {
      totals = {
        requests: 0,
        target5xx: 0,
        latencySum: 0,
        latencyMin: Infinity,
        latencyMax: 0,
        healthy: [],
        unhealthy: [],
      };
      this.totals.set(key, totals);
    }
    return totals;
  }

  private serve(lb: LoadBalancerRecord, tg: TargetGroupRecord, requests: number): void {
    if (requests <= 0) return;
    const totals = this.totalsFor(lb.arn, tg.arn);
    const targets = [...tg.targets.values()];
    let routable = targets.filter((t) => t.state === 'healthy');
    if (routable.length === 0) routable = targets.filter((t) => t.state === 'unhealthy');
    if (routable.length === 0) {
      // No target to send to: the load balancer answers 503 itself.
      this.elb5xx.set(lb.arn, (this.elb5xx.get(lb.arn) ?? 0) + requests);
      return;
    }
    const share = requests / routable.length;
    totals.requests += requests;
    for (const target of routable) {
      const app = this.options.ec2.appHealth(target.id);
      if (app !== 'healthy' && app !== 'unhealthy') {
        // Nothing listening: the load balancer answers 502, which is not a target response.
        this.elb5xx.set(lb.arn, (this.elb5xx.get(lb.arn) ?? 0) + share);
        continue;
      }
      const behaviour = this.options.ec2.behaviourOf(target.id);
      const errorRate = app === 'unhealthy' ? 1 : behaviour.mode === 'errors' ? behaviour.errorRate : 0;
      totals.target5xx += share * errorRate;
      totals.latencySum += share * behaviour.latencySeconds;
      totals.latencyMin = Math.min(totals.latencyMin, behaviour.latencySeconds);
      totals.latencyMax = Math.max(totals.latencyMax, behaviour.latencySeconds);
    }
  }

  /**
   * Publishes one minute per target group with the LoadBalancer+TargetGroup and TargetGroup
   * dimensions. Reporting criteria from the metrics page: RequestCount always; HealthyHostCount and
   * UnHealthyHostCount while health checks run; HTTPCode_Target_5XX_Count, TargetResponseTime and
   * HTTPCode_ELB_5XX_Count only when nonzero (so a quiet minute is missing data, not zero).
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
   */
  private flushMetrics(minuteStart: VirtualMs): void {
    const sink = this.options.metrics;
    const totals = this.totals;
    const elb5xx = this.elb5xx;
    this.totals = new Map();
    this.elb5xx = new Map();
    if (!sink) return;
    const timestamp = new Date(minuteStart);
    const data: MetricDatum[] = [];
    for (const [key, t] of totals) {
      const [lbArn, tgArn] = key.split('|') as [string, string];
      const lb = this.loadBalancers.get(lbArn);
      const tg = this.targetGroups.get(tgArn);
      if (!lb || !tg) continue;
      const dimensionSets = [
        [
          { Name: 'TargetGroup', Value: tg.dimension },
          { Name: 'LoadBalancer', Value: lb.dimension },
        ],
        [{ Name: 'TargetGroup', Value: tg.dimension }],
      ];
      const requests = Math.round(t.requests);
      const errors = Math.round(t.target5xx);
      for (const Dimensions of dimensionSets) {
        const count = (MetricName: string, n: number): MetricDatum => ({
          MetricName,
          Dimensions,
          Timestamp: timestamp,
          Unit: 'Count',
          // "Minimum, Maximum, and Average all return 1": each request is one sample of 1.
          StatisticValues: {
            SampleCount: Math.max(n, 1),
            Sum: n,
            Minimum: n === 0 ? 0 : 1,
            Maximum: n === 0 ? 0 : 1,
          },
        });
        data.push(count('RequestCount', requests));
        if (errors > 0) data.push(count('HTTPCode_Target_5XX_Count', errors));
        if (t.latencySum > 0 && requests > 0) {
          data.push({
            MetricName: 'TargetResponseTime',
            Dimensions,
            Timestamp: timestamp,
            Unit: 'Seconds',
            StatisticValues: {
              SampleCount: requests,
              Sum: t.latencySum,
              Minimum: t.latencyMin,
              Maximum: t.latencyMax,
            },
          });
        }
        for (const [MetricName, samples] of [
          ['HealthyHostCount', t.healthy],
          ['UnHealthyHostCount', t.unhealthy],
        ] as const) {
          if (samples.length === 0 || Dimensions.length === 1) continue;
          data.push({
            MetricName,
            Dimensions,
            Timestamp: timestamp,
            Unit: 'Count',
            StatisticValues: {
              SampleCount: samples.length,
              Sum: samples.reduce((a, b) => a + b, 0),
              Minimum: Math.min(...samples),
              Maximum: Math.max(...samples),
            },
          });
        }
      }
    }
    for (const [lbArn, n] of elb5xx) {
      const lb = this.loadBalancers.get(lbArn);
      const errors = Math.round(n);
      if (!lb || errors === 0) continue;
      data.push({
        MetricName: 'HTTPCode_ELB_5XX_Count',
        Dimensions: [{ Name: 'LoadBalancer', Value: lb.dimension }],
        Timestamp: timestamp,
        Unit: 'Count',
        StatisticValues: { SampleCount: errors, Sum: errors, Minimum: 1, Maximum: 1 },
      });
    }
    if (data.length > 0) sink.ingest('AWS/ApplicationELB', data);
  }
}
