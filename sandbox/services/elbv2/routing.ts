/**
 * Which target groups a listener's actions forward to, which load balancers use a target group,
 * and which actions receive a listener's traffic: questions over listeners and rules that target
 * groups, load balancers and the traffic model all ask.
 */
import type { Action, Listener, RuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Elbv2Store } from './store';

/** A rule condition that every request satisfies (path-pattern '*' or '/*'). */
function matchesEveryRequest(condition: RuleCondition): boolean {
  const values = condition.PathPatternConfig?.Values ?? condition.Values ?? [];
  return condition.Field === 'path-pattern' && values.some((v) => v === '*' || v === '/*');
}

/** Target groups named by a forward action of a listener's default actions or rules, per load balancer. */
export function forwardsOf(actions: Action[] | undefined): Array<{ arn: string; weight: number }> {
  const forward = actions?.find((a) => a.Type === 'forward');
  return (forward?.ForwardConfig?.TargetGroups ?? []).map((t) => ({
    arn: t.TargetGroupArn ?? '',
    weight: t.Weight ?? 1,
  }));
}

export function loadBalancersUsing(store: Elbv2Store, tgArn: string): string[] {
  const out = new Set<string>();
  for (const listener of store.listeners.values()) {
    const lbArn = listener.description.LoadBalancerArn as string;
    const actionSets = [
      listener.description.DefaultActions,
      ...[...store.rules.values()]
        .filter((r) => r.listenerArn === listener.description.ListenerArn)
        .map((r) => r.description.Actions),
    ];
    if (actionSets.some((actions) => forwardsOf(actions).some((f) => f.arn === tgArn))) out.add(lbArn);
  }
  return [...out];
}

/** The action that receives the listener's synthetic traffic: a match-all rule, else the default. */
export function servingActions(store: Elbv2Store, listener: Listener): Action[] | undefined {
  const matchAll = [...store.rules.values()]
    .filter((r) => r.listenerArn === listener.ListenerArn)
    .filter(
      (r) =>
        (r.description.Conditions ?? []).length > 0 &&
        (r.description.Conditions ?? []).every(matchesEveryRequest),
    )
    .sort((a, b) => Number(a.description.Priority) - Number(b.description.Priority))[0];
  return matchAll ? matchAll.description.Actions : listener.DefaultActions;
}
