/**
 * A synthetic traffic model and the per-minute AWS/ApplicationELB metrics it publishes to the
 * simulated CloudWatch: requests split across target groups by weight and across routable targets,
 * 5xx from targets and from the load balancer, response time and host counts.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
 */
import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import type { SimContext, TimerHandle, VirtualMs } from '../../core/context';
import type { MetricSink } from '../cloudwatch';
import type { Ec2Fleet } from '../fleet';
import type { LoadBalancerRecord, TargetGroupRecord, TargetRecord } from './model';
import { forwardsOf, servingActions } from './routing';
import type { Elbv2Store } from './store';

const TRAFFIC_TICK_MS = 10_000;
const METRIC_PERIOD_MS = 60_000;

/**
 * What one traffic tick needs from a target group and its instances, kept while neither changes
 * (see `trafficOf`): the tick runs every 10 virtual seconds over every target.
 */
interface TargetGroupTraffic {
  tgVersion: number;
  instancesVersion: number;
  healthy: number;
  unhealthy: number;
  /** Per routable target, in routing order: whether its application answers, and how. */
  routable: Array<{ answers: boolean; errorRate: number; latencySeconds: number }>;
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

export class TrafficMetrics {
  private trafficTimer?: TimerHandle;
  /** Per `${lbArn}|${tgArn}` traffic of the current minute. */
  private totals = new Map<string, TrafficTotals>();
  private elb5xx = new Map<string, number>();
  private readonly traffic = new WeakMap<TargetGroupRecord, TargetGroupTraffic>();

  constructor(
    private readonly ctx: SimContext,
    private readonly store: Elbv2Store,
    private readonly ec2: Pick<Ec2Fleet, 'appHealth' | 'behaviourOf' | 'instancesVersion'>,
    private readonly sink: MetricSink | undefined,
    /** Steady client request rate per load balancer, split evenly across its listeners. */
    private readonly requestsPerSecond: number,
  ) {}

  ensureTraffic(): void {
    if (this.trafficTimer) return;
    const now = this.ctx.clock.now();
    const next = Math.floor(now / TRAFFIC_TICK_MS) * TRAFFIC_TICK_MS + TRAFFIC_TICK_MS;
    this.trafficTimer = this.ctx.clock.setTimeout(() => {
      delete this.trafficTimer;
      this.trafficTick();
      if (this.store.loadBalancers.size > 0) this.ensureTraffic();
    }, next - now);
  }

  /**
   * Ten seconds of traffic. Requests split across target groups by weight and evenly across healthy
   * targets; "If a target group contains only unhealthy registered targets, the load balancer routes
   * requests across its unhealthy targets" (fail open), and initial or draining targets get none.
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
   */
  private trafficTick(): void {
    const seconds = TRAFFIC_TICK_MS / 1000;
    for (const lb of this.store.loadBalancers.values()) {
      const listeners = [...this.store.listeners.values()].filter(
        (l) => l.description.LoadBalancerArn === lb.arn,
      );
      const attached = new Set<string>();
      for (const listener of listeners) {
        for (const actions of [
          listener.description.DefaultActions,
          ...[...this.store.rules.values()]
            .filter((r) => r.listenerArn === listener.description.ListenerArn)
            .map((r) => r.description.Actions),
        ]) {
          forwardsOf(actions).forEach((f) => attached.add(f.arn));
        }
      }
      for (const tgArn of attached) {
        const tg = this.store.targetGroups.get(tgArn);
        if (!tg) continue;
        const totals = this.totalsFor(lb.arn, tgArn);
        const traffic = this.trafficOf(tg);
        totals.healthy.push(traffic.healthy);
        totals.unhealthy.push(traffic.unhealthy);
      }
      if (listeners.length === 0) continue;
      const perListener = (this.requestsPerSecond * seconds) / listeners.length;
      for (const listener of listeners) {
        const forwards = forwardsOf(servingActions(this.store, listener.description));
        const totalWeight = forwards.reduce((n, f) => n + f.weight, 0);
        if (totalWeight === 0) continue;
        for (const forward of forwards) {
          const tg = this.store.targetGroups.get(forward.arn);
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

  /**
   * How long until the requests in flight to a target have finished, in virtual ms (0 when none are).
   * Traffic is a steady stream, so a target that receives requests now has some in flight until
   * one response time (its application's latency) after it stops receiving new ones. A target that
   * receives none has none in flight: one still `initial`, one unhealthy beside healthy ones, one in
   * a target group no listener sends traffic to (or weighted 0), or one whose application does not
   * answer (the load balancer answers those requests itself).
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#deregistration-delay
   */
  inFlightMs(tg: TargetGroupRecord, target: TargetRecord): number {
    if (!this.receivesRequests(tg) || !this.routable(tg).includes(target)) return 0;
    const app = this.ec2.appHealth(target.id);
    if (app !== 'healthy' && app !== 'unhealthy') return 0;
    return Math.ceil(this.ec2.behaviourOf(target.id).latencySeconds * 1000);
  }

  /** Whether some listener sends part of its traffic to the target group now. */
  private receivesRequests(tg: TargetGroupRecord): boolean {
    if (this.requestsPerSecond <= 0) return false;
    return [...this.store.listeners.values()].some((listener) =>
      forwardsOf(servingActions(this.store, listener.description)).some(
        (forward) => forward.arn === tg.arn && forward.weight > 0,
      ),
    );
  }

  /** The targets a target group's requests go to: the healthy ones, else all unhealthy ones (fail open). */
  private routable(tg: TargetGroupRecord): TargetRecord[] {
    const targets = [...tg.targets.values()];
    const healthy = targets.filter((t) => t.state === 'healthy');
    return healthy.length > 0 ? healthy : targets.filter((t) => t.state === 'unhealthy');
  }

  /**
   * The target group's host counts and routable targets as the tick reads them. Reused while the
   * target group's version and the fleet's stand still, unless an application was still starting
   * (that ends with time alone, so the next tick reads again).
   */
  private trafficOf(tg: TargetGroupRecord): TargetGroupTraffic {
    const instancesVersion = this.ec2.instancesVersion();
    const kept = this.traffic.get(tg);
    if (kept && kept.tgVersion === tg.version && kept.instancesVersion === instancesVersion) return kept;
    let healthy = 0;
    let unhealthy = 0;
    for (const target of tg.targets.values()) {
      if (target.state === 'healthy') healthy += 1;
      else if (target.state === 'unhealthy') unhealthy += 1;
    }
    let starting = false;
    const routable = this.routable(tg).map((target) => {
      const app = this.ec2.appHealth(target.id);
      if (app === 'starting') starting = true;
      if (app !== 'healthy' && app !== 'unhealthy')
        return { answers: false, errorRate: 0, latencySeconds: 0 };
      const behaviour = this.ec2.behaviourOf(target.id);
      const errorRate = app === 'unhealthy' ? 1 : behaviour.mode === 'errors' ? behaviour.errorRate : 0;
      return { answers: true, errorRate, latencySeconds: behaviour.latencySeconds };
    });
    const traffic = { tgVersion: tg.version, instancesVersion, healthy, unhealthy, routable };
    if (starting) this.traffic.delete(tg);
    else this.traffic.set(tg, traffic);
    return traffic;
  }

  private serve(lb: LoadBalancerRecord, tg: TargetGroupRecord, requests: number): void {
    if (requests <= 0) return;
    const totals = this.totalsFor(lb.arn, tg.arn);
    const routable = this.trafficOf(tg).routable;
    if (routable.length === 0) {
      // No target to send to: the load balancer answers 503 itself.
      this.elb5xx.set(lb.arn, (this.elb5xx.get(lb.arn) ?? 0) + requests);
      return;
    }
    const share = requests / routable.length;
    totals.requests += requests;
    for (const target of routable) {
      if (!target.answers) {
        // Nothing listening: the load balancer answers 502, which is not a target response.
        this.elb5xx.set(lb.arn, (this.elb5xx.get(lb.arn) ?? 0) + share);
        continue;
      }
      totals.target5xx += share * target.errorRate;
      totals.latencySum += share * target.latencySeconds;
      totals.latencyMin = Math.min(totals.latencyMin, target.latencySeconds);
      totals.latencyMax = Math.max(totals.latencyMax, target.latencySeconds);
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
    const sink = this.sink;
    const totals = this.totals;
    const elb5xx = this.elb5xx;
    this.totals = new Map();
    this.elb5xx = new Map();
    if (!sink) return;
    const timestamp = new Date(minuteStart);
    const data: MetricDatum[] = [];
    for (const [key, t] of totals) {
      const [lbArn, tgArn] = key.split('|') as [string, string];
      const lb = this.store.loadBalancers.get(lbArn);
      const tg = this.store.targetGroups.get(tgArn);
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
      const lb = this.store.loadBalancers.get(lbArn);
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
