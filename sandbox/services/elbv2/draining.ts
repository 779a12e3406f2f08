/**
 * Deregistration and draining: a deregistered target drains for the target group's deregistration
 * delay before it leaves the group; whoever waits on it (Auto Scaling) is told then.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#deregistration-delay
 */
import { InvalidTargetException } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { DeregisterTargetsInput } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { SimContext } from '../../core/context';
import { badRequest } from '../shared';
import { validationError } from './model';
import type { TargetGroupRecord, TargetRecord } from './model';
import type { Elbv2Store } from './store';
import type { TargetHealth } from './target-health';

export class Draining {
  constructor(
    private readonly ctx: SimContext,
    private readonly store: Elbv2Store,
    private readonly targetHealth: TargetHealth,
  ) {}

  // ---------------------------------------------------------------- operations

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeregisterTargets.html
  deregisterTargets(input: DeregisterTargetsInput): object {
    const tg = this.store.findTargetGroup(input.TargetGroupArn);
    if (!input.Targets?.length) throw validationError('Targets must be specified');
    const records = input.Targets.map((t) => {
      const record = t.Id === undefined ? undefined : tg.targets.get(t.Id);
      if (!record) {
        throw new InvalidTargetException({
          message: `The specified target does not exist, is not in the same VPC as the target group, or has an unsupported instance type: '${t.Id ?? ''}'`,
          ...badRequest(),
        });
      }
      return record;
    });
    for (const record of records) this.deregisterTarget(tg, record);
    return {};
  }

  // ---------------------------------------------------------------- what the other parts use

  /**
   * "The initial state of a deregistering target is draining. After the deregistration delay
   * elapses, the deregistration process completes and the state of the target is unused." Even when
   * no requests are in flight, "the status of the target will be displayed as draining until the
   * deregistration delay elapses", so the sandbox always waits the full delay.
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#deregistration-delay
   */
  deregisterTarget(tg: TargetGroupRecord, target: TargetRecord): void {
    if (target.state === 'draining') return;
    this.targetHealth.stopHealthChecks(target);
    if (!tg.inUse) {
      // Not serving any load balancer: nothing to drain.
      this.removeTarget(tg, target);
      return;
    }
    this.targetHealth.setTargetState(
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

  removeTarget(tg: TargetGroupRecord, target: TargetRecord): void {
    this.targetHealth.stopHealthChecks(target);
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
}
