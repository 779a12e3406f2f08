/**
 * Deregistration and draining. A deregistered target stops receiving requests and shows `draining`
 * for the target group's deregistration delay, then leaves the group (`unused`). The deregistration
 * itself completes as soon as the requests in flight to it have finished, at once when there are
 * none, or at the end of the delay, whichever comes first; whoever waits on it (Auto Scaling, before
 * it terminates the instance) is told then, although the target still shows `draining`.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#deregistration-delay
 */
import { InvalidTargetException } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { DeregisterTargetsInput } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { SimContext } from '../../core/context';
import { badRequest } from '../shared';
import { validationError } from './model';
import type { TargetGroupRecord, TargetRecord } from './model';
import type { Elbv2Store } from './store';
import type { TrafficMetrics } from './metrics';
import type { TargetHealth } from './target-health';

export class Draining {
  constructor(
    private readonly ctx: SimContext,
    private readonly store: Elbv2Store,
    private readonly targetHealth: TargetHealth,
    private readonly traffic: Pick<TrafficMetrics, 'inFlightMs'>,
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
   * elapses, the deregistration process completes and the state of the target is unused." And: "If
   * a deregistering target has no in-flight requests and no active connections, Elastic Load
   * Balancing immediately completes the deregistration process, without waiting for the
   * deregistration delay to elapse. However, even though target deregistration is complete, the
   * status of the target is displayed as draining until the deregistration delay timeout expires."
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#deregistration-delay
   */
  deregisterTarget(tg: TargetGroupRecord, target: TargetRecord): void {
    if (target.state === 'draining') return;
    // Measured before the state changes: a draining target receives no new requests.
    const inFlightMs = this.traffic.inFlightMs(tg, target);
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
    if (inFlightMs < delayMs) {
      // With nothing in flight this is at once, but on the clock rather than inside the caller's call.
      target.inFlightTimer = this.ctx.clock.setTimeout(() => {
        delete target.inFlightTimer;
        this.completeDeregistration(tg, target);
      }, inFlightMs);
    }
  }

  removeTarget(tg: TargetGroupRecord, target: TargetRecord): void {
    this.targetHealth.stopHealthChecks(target);
    if (target.drainTimer) this.ctx.clock.clearTimeout(target.drainTimer);
    if (target.inFlightTimer) this.ctx.clock.clearTimeout(target.inFlightTimer);
    tg.targets.delete(target.id);
    tg.version++;
    this.ctx.timeline.record({
      kind: 'state',
      resource: `${tg.arn}/${target.id}`,
      from: target.state,
      to: 'unused',
    });
    target.deregistered = true;
    target.onDeregistered.splice(0).forEach((w) => w());
  }

  /** The last request in flight has finished: the deregistration is complete, the state still draining. */
  private completeDeregistration(tg: TargetGroupRecord, target: TargetRecord): void {
    target.deregistered = true;
    this.ctx.timeline.record({
      kind: 'state',
      resource: `${tg.arn}/${target.id}#deregistration`,
      from: 'in-progress',
      to: 'complete',
    });
    target.onDeregistered.splice(0).forEach((w) => w());
  }
}
