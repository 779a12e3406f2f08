/**
 * The region's load balancers, listeners, rules and target groups, and the lookups that answer an
 * unknown ARN with ELBv2's own NotFound exception.
 */
import {
  ListenerNotFoundException,
  LoadBalancerNotFoundException,
  RuleNotFoundException,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { badRequest } from '../shared';
import type { ListenerRecord, LoadBalancerRecord, RuleRecord, TargetGroupRecord } from './model';

export class Elbv2Store {
  readonly targetGroups = new Map<string, TargetGroupRecord>();
  readonly loadBalancers = new Map<string, LoadBalancerRecord>();
  readonly listeners = new Map<string, ListenerRecord>();
  readonly rules = new Map<string, RuleRecord>();

  findTargetGroup(arn: string | undefined): TargetGroupRecord {
    const tg = arn === undefined ? undefined : this.targetGroups.get(arn);
    if (!tg)
      throw new TargetGroupNotFoundException({
        message: 'One or more target groups not found',
        ...badRequest(),
      });
    return tg;
  }

  findLoadBalancer(arn: string | undefined): LoadBalancerRecord {
    const lb = arn === undefined ? undefined : this.loadBalancers.get(arn);
    if (!lb)
      throw new LoadBalancerNotFoundException({
        message: 'The specified load balancer does not exist.',
        ...badRequest(),
      });
    return lb;
  }

  findListener(arn: string | undefined): ListenerRecord {
    const listener = arn === undefined ? undefined : this.listeners.get(arn);
    if (!listener)
      throw new ListenerNotFoundException({
        message: 'The specified listener does not exist.',
        ...badRequest(),
      });
    return listener;
  }

  findRule(arn: string | undefined): RuleRecord {
    const rule = arn === undefined ? undefined : this.rules.get(arn);
    if (!rule)
      throw new RuleNotFoundException({ message: 'The specified rule does not exist.', ...badRequest() });
    return rule;
  }
}
