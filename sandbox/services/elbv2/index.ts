/**
 * Simulated Elastic Load Balancing v2 (Application Load Balancers only): target groups with health
 * checks driven by the simulated EC2 fleet, deregistration delay, a minimal load balancer with
 * listeners and rules (weighted forwards for blue/green), and a synthetic traffic model that
 * publishes per-minute AWS/ApplicationELB metrics to the simulated CloudWatch.
 *
 * Sources (cited again beside each rule):
 * - API: https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
 * - Health checks: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
 * - Deregistration delay: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#deregistration-delay
 * - Metrics: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
 *
 * Each concept is a part in its own file; this one wires them and lists every operation in one table.
 */
import type {
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
  ModifyListenerInput,
  ModifyRuleInput,
  ModifyTargetGroupAttributesInput,
  RegisterTargetsInput,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { SimContext, SimService } from '../../core/context';
import type { MetricSink } from '../cloudwatch';
import type { Ec2Fleet, ElbFleet, TargetHealthState } from '../fleet';
import { dispatch, operation, type OperationTable } from '../shared';
import { Draining } from './draining';
import { LoadBalancers } from './load-balancers';
import { TrafficMetrics } from './metrics';
import { validationError } from './model';
import { Elbv2Store } from './store';
import { TargetGroups } from './target-groups';
import { TargetHealth } from './target-health';

export interface Elbv2SimOptions {
  ec2: Pick<Ec2Fleet, 'appHealth' | 'behaviourOf' | 'get' | 'stateOf' | 'instancesVersion'>;
  /** Where per-minute AWS/ApplicationELB metrics go (the CloudWatch sim). */
  metrics?: MetricSink;
  /** Steady client request rate per load balancer, split evenly across its listeners. */
  requestsPerSecond?: number;
  /** Whether a VPC exists (EC2 owns VPCs); defaults to accepting any well-formed VPC id. */
  vpcExists?: (vpcId: string) => boolean;
}

export class Elbv2Sim implements SimService, ElbFleet {
  readonly serviceId = 'Elastic Load Balancing v2';
  private readonly store = new Elbv2Store();
  private readonly targetHealth: TargetHealth;
  private readonly draining: Draining;
  private readonly operations: OperationTable;

  constructor(ctx: SimContext, options: Elbv2SimOptions) {
    const vpcExists = options.vpcExists ?? ((id) => /^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/.test(id));
    const metrics = new TrafficMetrics(
      ctx,
      this.store,
      options.ec2,
      options.metrics,
      options.requestsPerSecond ?? 50,
    );
    this.targetHealth = new TargetHealth(ctx, this.store, options.ec2);
    this.draining = new Draining(ctx, this.store, this.targetHealth, metrics);
    const targetGroups = new TargetGroups(ctx, this.store, this.draining, vpcExists);
    const loadBalancers = new LoadBalancers(ctx, this.store, this.targetHealth, metrics);
    this.operations = operationsOf(targetGroups, this.targetHealth, this.draining, loadBalancers);
  }

  handle(operation: string, input: unknown): Promise<object> {
    return dispatch(this.operations, operation, input, (name) =>
      validationError(`The sandbox's Elastic Load Balancing does not implement ${name}`),
    );
  }

  // ---------------------------------------------------------------- ElbFleet (for Auto Scaling)

  targetGroupExists(targetGroupArn: string): boolean {
    return this.store.targetGroups.has(targetGroupArn);
  }

  register(targetGroupArn: string, instanceId: string): void {
    const tg = this.store.targetGroups.get(targetGroupArn);
    if (!tg) throw new Error(`register: target group ${targetGroupArn} does not exist`);
    this.targetHealth.registerTarget(tg, instanceId, tg.description.Port ?? 80);
  }

  deregister(targetGroupArn: string, instanceId: string, onDeregistered: () => void): void {
    const tg = this.store.targetGroups.get(targetGroupArn);
    const target = tg?.targets.get(instanceId);
    if (!tg || !target || target.deregistered) {
      onDeregistered();
      return;
    }
    target.onDeregistered.push(onDeregistered);
    this.draining.deregisterTarget(tg, target);
  }

  /** The target group's version (TargetGroupRecord.version), undefined when there is no such group. */
  targetsVersion(targetGroupArn: string): number | undefined {
    return this.store.targetGroups.get(targetGroupArn)?.version;
  }

  health(targetGroupArn: string, instanceId: string): TargetHealthState | undefined {
    const tg = this.store.targetGroups.get(targetGroupArn);
    const target = tg?.targets.get(instanceId);
    if (!tg || !target) return undefined;
    return this.targetHealth.visibleState(tg, target);
  }
}

/** Every operation the sandbox's ELBv2 answers, by the part that owns it. */
function operationsOf(
  targetGroups: TargetGroups,
  targetHealth: TargetHealth,
  draining: Draining,
  loadBalancers: LoadBalancers,
): OperationTable {
  return {
    CreateTargetGroup: operation((input: CreateTargetGroupInput) => targetGroups.createTargetGroup(input)),
    DescribeTargetGroups: operation((input: DescribeTargetGroupsInput) =>
      targetGroups.describeTargetGroups(input),
    ),
    DescribeTargetGroupAttributes: operation((input: DescribeTargetGroupAttributesInput) =>
      targetGroups.describeTargetGroupAttributes(input),
    ),
    ModifyTargetGroupAttributes: operation((input: ModifyTargetGroupAttributesInput) =>
      targetGroups.modifyTargetGroupAttributes(input),
    ),
    DeleteTargetGroup: operation((input: DeleteTargetGroupInput) => targetGroups.deleteTargetGroup(input)),

    RegisterTargets: operation((input: RegisterTargetsInput) => targetHealth.registerTargets(input)),
    DeregisterTargets: operation((input: DeregisterTargetsInput) => draining.deregisterTargets(input)),
    DescribeTargetHealth: operation((input: DescribeTargetHealthInput) =>
      targetHealth.describeTargetHealth(input),
    ),

    CreateLoadBalancer: operation((input: CreateLoadBalancerInput) =>
      loadBalancers.createLoadBalancer(input),
    ),
    DescribeLoadBalancers: operation((input: DescribeLoadBalancersInput) =>
      loadBalancers.describeLoadBalancers(input),
    ),
    CreateListener: operation((input: CreateListenerInput) => loadBalancers.createListener(input)),
    DescribeListeners: operation((input: DescribeListenersInput) => loadBalancers.describeListeners(input)),
    ModifyListener: operation((input: ModifyListenerInput) => loadBalancers.modifyListener(input)),
    DeleteListener: operation((input: DeleteListenerInput) => loadBalancers.deleteListener(input)),
    CreateRule: operation((input: CreateRuleInput) => loadBalancers.createRule(input)),
    ModifyRule: operation((input: ModifyRuleInput) => loadBalancers.modifyRule(input)),
    DescribeRules: operation((input: DescribeRulesInput) => loadBalancers.describeRules(input)),
    DeleteRule: operation((input: DeleteRuleInput) => loadBalancers.deleteRule(input)),
  };
}
