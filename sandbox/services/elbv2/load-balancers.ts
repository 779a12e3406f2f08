/**
 * Application load balancers, their listeners and listener rules, with forward actions (weighted
 * for blue/green). A target group that a listener or rule forwards to is in use: its targets are
 * health checked; one that loses its last listener parks its targets.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/introduction.html
 */
import {
  DuplicateListenerException,
  DuplicateLoadBalancerNameException,
  LoadBalancerNotFoundException,
  PriorityInUseException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type {
  Action,
  CreateListenerInput,
  CreateLoadBalancerInput,
  CreateRuleInput,
  DeleteListenerInput,
  DeleteRuleInput,
  DescribeListenersInput,
  DescribeLoadBalancersInput,
  DescribeRulesInput,
  Listener,
  LoadBalancer,
  ModifyListenerInput,
  ModifyRuleInput,
  Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { SimContext } from '../../core/context';
import { badRequest } from '../shared';
import type { TrafficMetrics } from './metrics';
import { checkName, checkRange, hexId, LISTENER_PROTOCOLS, validationError } from './model';
import type { ListenerRecord } from './model';
import { loadBalancersUsing } from './routing';
import type { Elbv2Store } from './store';
import type { TargetHealth } from './target-health';

export class LoadBalancers {
  constructor(
    private readonly ctx: SimContext,
    private readonly store: Elbv2Store,
    private readonly targetHealth: TargetHealth,
    private readonly metrics: TrafficMetrics,
  ) {}

  // ---------------------------------------------------------------- load balancers

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html
  createLoadBalancer(input: CreateLoadBalancerInput): object {
    if (!input.Name) throw validationError('A load balancer name must be specified');
    checkName('Load balancer', input.Name);
    if (input.Name.startsWith('internal-'))
      throw validationError("Load balancer name cannot begin with 'internal-'");
    const type = input.Type ?? 'application';
    if (type !== 'application')
      throw validationError(`Load balancer type '${type}' is not simulated by the sandbox`);
    const subnets = input.Subnets ?? input.SubnetMappings?.map((m) => m.SubnetId ?? '') ?? [];
    const existing = [...this.store.loadBalancers.values()].find(
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
          ...badRequest(),
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
    this.store.loadBalancers.set(arn, { arn, dimension, description });
    this.metrics.ensureTraffic();
    return { LoadBalancers: [structuredClone(description)] };
  }

  describeLoadBalancers(input: DescribeLoadBalancersInput): object {
    let lbs = [...this.store.loadBalancers.values()];
    if (input.LoadBalancerArns?.length)
      lbs = input.LoadBalancerArns.map((arn) => this.store.findLoadBalancer(arn));
    if (input.Names?.length) {
      lbs = input.Names.map((name) => {
        const lb = lbs.find((l) => l.description.LoadBalancerName === name);
        if (!lb) {
          throw new LoadBalancerNotFoundException({
            message: `Load balancers '[${name}]' not found`,
            ...badRequest(),
          });
        }
        return lb;
      });
    }
    return { LoadBalancers: lbs.map((lb) => structuredClone(lb.description)) };
  }

  // ---------------------------------------------------------------- listeners

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateListener.html
  createListener(input: CreateListenerInput): object {
    const lb = this.store.findLoadBalancer(input.LoadBalancerArn);
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
    for (const listener of this.store.listeners.values()) {
      if (listener.description.LoadBalancerArn === lb.arn && listener.description.Port === input.Port) {
        throw new DuplicateListenerException({
          message: 'A listener with the specified port already exists.',
          ...badRequest(),
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
    this.store.listeners.set(arn, { description });
    this.refreshUsage();
    return { Listeners: [structuredClone(description)] };
  }

  describeListeners(input: DescribeListenersInput): object {
    if (!input.LoadBalancerArn && !input.ListenerArns?.length) {
      throw validationError('You must specify either listener ARNs or a load balancer ARN');
    }
    let listeners: ListenerRecord[];
    if (input.ListenerArns?.length) {
      listeners = input.ListenerArns.map((arn) => this.store.findListener(arn));
    } else {
      const lb = this.store.findLoadBalancer(input.LoadBalancerArn);
      listeners = [...this.store.listeners.values()].filter((l) => l.description.LoadBalancerArn === lb.arn);
    }
    return { Listeners: listeners.map((l) => structuredClone(l.description)) };
  }

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ModifyListener.html
  modifyListener(input: ModifyListenerInput): object {
    const listener = this.store.findListener(input.ListenerArn);
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
      for (const other of this.store.listeners.values()) {
        if (
          other !== listener &&
          other.description.LoadBalancerArn === next.LoadBalancerArn &&
          other.description.Port === input.Port
        ) {
          throw new DuplicateListenerException({
            message: 'A listener with the specified port already exists.',
            ...badRequest(),
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

  deleteListener(input: DeleteListenerInput): object {
    const listener = this.store.findListener(input.ListenerArn);
    this.store.listeners.delete(listener.description.ListenerArn as string);
    for (const [arn, rule] of this.store.rules)
      if (rule.listenerArn === listener.description.ListenerArn) this.store.rules.delete(arn);
    this.refreshUsage();
    return {};
  }

  // ---------------------------------------------------------------- rules

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateRule.html
  createRule(input: CreateRuleInput): object {
    const listener = this.store.findListener(input.ListenerArn);
    if (input.Priority === undefined) throw validationError('A rule priority must be specified');
    checkRange('priority', input.Priority, 1, 50000);
    if (!input.Conditions?.length) throw validationError('A rule must have at least one condition');
    const listenerArn = listener.description.ListenerArn as string;
    for (const rule of this.store.rules.values()) {
      if (rule.listenerArn === listenerArn && rule.description.Priority === String(input.Priority)) {
        throw new PriorityInUseException({ message: 'The specified priority is in use.', ...badRequest() });
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
    this.store.rules.set(arn, { listenerArn, description });
    this.refreshUsage();
    return { Rules: [structuredClone(description)] };
  }

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ModifyRule.html
  modifyRule(input: ModifyRuleInput): object {
    const rule = this.store.findRule(input.RuleArn);
    if (!input.Conditions && !input.Actions)
      throw validationError('Either conditions or actions must be specified');
    if (input.Actions) rule.description.Actions = this.normalizeActions('Actions', input.Actions);
    if (input.Conditions) rule.description.Conditions = structuredClone(input.Conditions);
    this.refreshUsage();
    return { Rules: [structuredClone(rule.description)] };
  }

  describeRules(input: DescribeRulesInput): object {
    if (input.RuleArns?.length)
      return { Rules: input.RuleArns.map((arn) => structuredClone(this.store.findRule(arn).description)) };
    const listener = this.store.findListener(input.ListenerArn);
    const rules = [...this.store.rules.values()]
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

  deleteRule(input: DeleteRuleInput): object {
    const rule = this.store.findRule(input.RuleArn);
    this.store.rules.delete(rule.description.RuleArn as string);
    this.refreshUsage();
    return {};
  }

  // ---------------------------------------------------------------- helpers

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
        this.store.findTargetGroup(tuple.TargetGroupArn);
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

  /** Starts health checks for groups that gained a listener and parks targets of groups that lost one. */
  private refreshUsage(): void {
    for (const tg of this.store.targetGroups.values()) {
      const inUse = loadBalancersUsing(this.store, tg.arn).length > 0;
      if (inUse === tg.inUse) continue;
      tg.inUse = inUse;
      tg.version++;
      for (const target of tg.targets.values()) {
        if (target.state === 'draining') continue;
        if (inUse) {
          target.successes = 0;
          target.failures = 0;
          this.targetHealth.setTargetState(
            tg,
            target,
            'initial',
            'Elb.RegistrationInProgress',
            'Target registration is in progress',
          );
          this.targetHealth.startHealthChecks(tg, target);
        } else {
          this.targetHealth.stopHealthChecks(target);
        }
      }
    }
  }
}
