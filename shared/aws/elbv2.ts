/**
 * The Elastic Load Balancing (v2) adapter of the rollout (LoadBalancingPort,
 * shared/usecases/rollout/deps.ts).
 *
 * CONTRACT STUB: the adapters helper implements every method.
 */
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { LoadBalancingPort, TargetHealthEntry } from '../usecases/rollout/deps';

export class TargetGroups implements LoadBalancingPort {
  constructor(readonly client: ElasticLoadBalancingV2Client) {}
  targetHealth(_targetGroupArn: string): Promise<TargetHealthEntry[]> {
    throw new Error('TargetGroups.targetHealth is not implemented yet');
  }
}
