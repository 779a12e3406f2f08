/**
 * The Elastic Load Balancing (v2) adapter of the rollout (LoadBalancingPort,
 * shared/usecases/rollout/deps.ts): the health of a target group's targets, which blue/green's
 * health gate reads, and a target group's deregistration delay, which bounds its rollback. DescribeTargetHealth answers every registered target at once (it does not
 * page: https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetHealth.html).
 */
import {
  DescribeTargetGroupAttributesCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { LoadBalancingPort, TargetHealthEntry, TargetState } from '../usecases/rollout/deps';
import { callAws } from './aws-errors';

/** https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html */
const STATES = new Set<TargetState>([
  'initial',
  'healthy',
  'unhealthy',
  'unused',
  'draining',
  'unavailable',
  'unhealthy.draining',
]);

export class TargetGroups implements LoadBalancingPort {
  constructor(readonly client: ElasticLoadBalancingV2Client) {}

  /**
   * Every target of the group with its state. A state this adapter does not know is reported as
   * `unavailable`, so a health gate never counts it as healthy.
   */
  async targetHealth(targetGroupArn: string): Promise<TargetHealthEntry[]> {
    const result = await callAws(
      'Elastic Load Balancing',
      `describe target health of ${targetGroupArn}`,
      () => this.client.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn })),
    );
    return (result.TargetHealthDescriptions ?? []).flatMap((description) => {
      const instanceId = description.Target?.Id;
      if (instanceId === undefined) return [];
      const raw = description.TargetHealth?.State as TargetState | undefined;
      const state: TargetState = raw !== undefined && STATES.has(raw) ? raw : 'unavailable';
      const reason = description.TargetHealth?.Reason;
      return [{ instanceId, state, ...(reason === undefined ? {} : { reason }) }];
    });
  }

  /**
   * `deregistration_delay.timeout_seconds`: 0–3600, 300 unless set (AWS answers every attribute,
   * defaults included; an answer without it is taken as the default).
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#deregistration-delay
   */
  async deregistrationDelaySeconds(targetGroupArn: string): Promise<number> {
    const result = await callAws(
      'Elastic Load Balancing',
      `describe the attributes of ${targetGroupArn}`,
      () => this.client.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: targetGroupArn })),
    );
    const raw = result.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value;
    const seconds = raw === undefined ? Number.NaN : Number(raw);
    return Number.isInteger(seconds) && seconds >= 0 ? seconds : DEFAULT_DEREGISTRATION_DELAY_SECONDS;
  }
}

/** ELB's default deregistration delay (the page above). */
const DEFAULT_DEREGISTRATION_DELAY_SECONDS = 300;
