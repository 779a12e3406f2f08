/**
 * Targets and their health: registration, the periodic health checks the simulated EC2 fleet
 * answers, the thresholds that move a target between healthy and unhealthy, and what
 * DescribeTargetHealth reports.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
 */
import { InvalidTargetException } from '@aws-sdk/client-elastic-load-balancing-v2';
import type {
  DescribeTargetHealthInput,
  RegisterTargetsInput,
  TargetHealthDescription,
  TargetHealthReasonEnum,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { SimContext } from '../../core/context';
import type { Ec2Fleet, TargetHealthState } from '../fleet';
import { badRequest } from '../shared';
import { checkRange, validationError } from './model';
import type { TargetGroupRecord, TargetRecord, TargetState } from './model';
import type { Elbv2Store } from './store';

/** What target health needs from EC2: whether an instance runs and how its application answers. */
export type TargetFleet = Pick<Ec2Fleet, 'appHealth' | 'get' | 'stateOf'>;

export class TargetHealth {
  constructor(
    private readonly ctx: SimContext,
    private readonly store: Elbv2Store,
    private readonly ec2: TargetFleet,
  ) {}

  // ---------------------------------------------------------------- operations

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RegisterTargets.html
  registerTargets(input: RegisterTargetsInput): object {
    const tg = this.store.findTargetGroup(input.TargetGroupArn);
    if (!input.Targets?.length) throw validationError('Targets must be specified');
    for (const target of input.Targets) {
      if (!target.Id) throw validationError('Targets.member.Id must be specified');
      checkRange('port', target.Port, 1, 65535);
      const instance = this.ec2.get(target.Id);
      if (!instance) {
        throw new InvalidTargetException({
          message: `The specified target does not exist or is not in the same VPC as the target group: '${target.Id}'`,
          ...badRequest(),
        });
      }
      if (instance.state !== 'running') {
        throw new InvalidTargetException({
          message: `The following targets are not in a running state and cannot be registered: '${target.Id}'`,
          ...badRequest(),
        });
      }
    }
    for (const target of input.Targets)
      this.registerTarget(tg, target.Id as string, target.Port ?? tg.description.Port ?? 80);
    return {};
  }

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetHealth.html
  describeTargetHealth(input: DescribeTargetHealthInput): object {
    const tg = this.store.findTargetGroup(input.TargetGroupArn);
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

  // ---------------------------------------------------------------- what the other parts use

  registerTarget(tg: TargetGroupRecord, id: string, port: number): void {
    const existing = tg.targets.get(id);
    if (existing && existing.state !== 'draining') return;
    if (existing) {
      // Registering again during draining abandons the deregistration; waiters are released.
      if (existing.drainTimer) this.ctx.clock.clearTimeout(existing.drainTimer);
      if (existing.inFlightTimer) this.ctx.clock.clearTimeout(existing.inFlightTimer);
      const waiters = existing.onDeregistered.splice(0);
      tg.targets.delete(id);
      tg.version++;
      waiters.forEach((w) => w());
    }
    const target: TargetRecord = {
      id,
      port,
      state: 'initial',
      successes: 0,
      failures: 0,
      deregistered: false,
      onDeregistered: [],
    };
    tg.targets.set(id, target);
    tg.version++;
    this.setTargetState(
      tg,
      target,
      'initial',
      'Elb.RegistrationInProgress',
      'Target registration is in progress',
    );
    if (tg.inUse) this.startHealthChecks(tg, target);
  }

  startHealthChecks(tg: TargetGroupRecord, target: TargetRecord): void {
    this.stopHealthChecks(target);
    const intervalMs = (tg.description.HealthCheckIntervalSeconds ?? 30) * 1000;
    // A health check only updates this target's record and the timeline (no SDK call, no event,
    // no promise), so the scheduler need not wait for the world to settle after it.
    const synchronous = { synchronous: true };
    const tick = (): void => {
      target.checkTimer = undefined;
      if (tg.targets.get(target.id) !== target || target.state === 'draining' || !tg.inUse) return;
      this.healthCheck(tg, target);
      target.checkTimer = this.ctx.clock.setTimeout(tick, intervalMs, synchronous);
    };
    target.checkTimer = this.ctx.clock.setTimeout(tick, intervalMs, synchronous);
  }

  stopHealthChecks(target: TargetRecord): void {
    if (target.checkTimer) this.ctx.clock.clearTimeout(target.checkTimer);
    target.checkTimer = undefined;
  }

  setTargetState(
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
    tg.version++;
    target.reason = reason;
    target.description = description;
    if (isNew || from !== state) {
      this.ctx.timeline.record({
        kind: 'state',
        resource: `${tg.arn}/${target.id}`,
        from: isNew ? null : from,
        to: state,
      });
    }
  }

  /** visibleHealth's state alone, built without an object (Auto Scaling asks for every member on every poll). */
  visibleState(tg: TargetGroupRecord, target: TargetRecord): TargetHealthState {
    return !tg.inUse && target.state !== 'draining' ? 'unused' : target.state;
  }

  /**
   * A target in a group no listener rule uses is `unused` with Target.NotInUse: "Before the load
   * balancer sends a health check request to a target, you must register it with a target group,
   * specify its target group in a listener rule …"
   */
  visibleHealth(
    tg: TargetGroupRecord,
    target: TargetRecord,
  ): { state: TargetHealthState; reason?: TargetHealthReasonEnum; description?: string } {
    if (this.visibleState(tg, target) === 'unused') {
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

  // ---------------------------------------------------------------- health checks

  /**
   * One health check. From the ALB guide: "After your target is registered, it must pass one health
   * check to be considered healthy"; a target goes out of service after UnhealthyThresholdCount
   * consecutive failures and back in after HealthyThresholdCount consecutive successes.
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
   */
  private healthCheck(tg: TargetGroupRecord, target: TargetRecord): void {
    // An application answers only on a running instance, so a healthy answer needs no state read
    // (the common case: one lookup per target per interval instead of two).
    const answer = this.ec2.appHealth(target.id);
    const instanceState = answer === 'healthy' ? 'running' : this.ec2.stateOf(target.id);
    const app = instanceState === 'running' ? answer : undefined;
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
        ? ['Target.InvalidState', `Target is in the ${instanceState ?? 'terminated'} state`]
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
}
