/**
 * ELBv2's records as the simulator keeps them, and the request checks and ids the parts share.
 */
import { ElasticLoadBalancingV2ServiceException } from '@aws-sdk/client-elastic-load-balancing-v2';
import type {
  Listener,
  LoadBalancer,
  ProtocolEnum,
  Rule,
  TargetGroup,
  TargetHealthReasonEnum,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { SimContext, TimerHandle } from '../../core/context';
import type { TargetHealthState } from '../fleet';
import { clientError } from '../shared';

export type TargetState = Exclude<TargetHealthState, 'unused' | 'unavailable'>;

export interface TargetRecord {
  id: string;
  port: number;
  state: TargetState;
  // `| undefined`: these are cleared by assignment, not `delete`, which would turn every target
  // record into a slow dictionary-mode object (they are read on every health check and traffic tick).
  reason?: TargetHealthReasonEnum | undefined;
  description?: string | undefined;
  successes: number;
  failures: number;
  checkTimer?: TimerHandle | undefined;
  /** Ends the deregistration delay: the target leaves `draining` and the group. */
  drainTimer?: TimerHandle;
  /** Fires when the last request in flight to a deregistering target has finished. */
  inFlightTimer?: TimerHandle;
  /**
   * Whether ELB has completed the deregistration (no request left in flight) although the target
   * still shows `draining` until the delay has passed.
   */
  deregistered: boolean;
  /** Called once the deregistration completes (Auto Scaling waits on it before terminating). */
  onDeregistered: Array<() => void>;
}

export interface TargetGroupRecord {
  arn: string;
  /** targetgroup/name/id, the CloudWatch TargetGroup dimension. */
  dimension: string;
  name: string;
  description: TargetGroup;
  attributes: Map<string, string>;
  targets: Map<string, TargetRecord>;
  inUse: boolean;
  /**
   * Moves whenever a target is added or removed, changes state, or `inUse` flips: per-tick readers
   * (traffic, a story's sampler) reuse what they computed while it stands still.
   */
  version: number;
}

export interface LoadBalancerRecord {
  arn: string;
  /** app/name/id, the CloudWatch LoadBalancer dimension. */
  dimension: string;
  description: LoadBalancer;
}

export interface ListenerRecord {
  description: Listener;
}

export interface RuleRecord {
  listenerArn: string;
  description: Rule;
}

export const ALL_PROTOCOLS: readonly ProtocolEnum[] = [
  'HTTP',
  'HTTPS',
  'TCP',
  'TLS',
  'UDP',
  'TCP_UDP',
  'GENEVE',
  'QUIC',
  'TCP_QUIC',
];
export const LISTENER_PROTOCOLS: readonly string[] = ['HTTP', 'HTTPS'];
/**
 * ValidationError is a common query-protocol error the SDK does not model; it arrives as the
 * service's base exception carrying that name, exactly as the SDK parses it from AWS.
 */
export function validationError(message: string): ElasticLoadBalancingV2ServiceException {
  return clientError(ElasticLoadBalancingV2ServiceException, 'ValidationError', message);
}

export function hexId(ctx: SimContext): string {
  return ctx.ids.next('x').slice(-16);
}

export function checkRange(field: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min) {
    throw validationError(
      `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: Member must have value greater than or equal to ${min}`,
    );
  }
  if (value > max) {
    throw validationError(
      `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: Member must have value less than or equal to ${max}`,
    );
  }
}

/** Target group and load balancer names share AWS's rule. */
export function checkName(kind: 'Target group' | 'Load balancer', name: string): void {
  if (name.length > 32) throw validationError(`${kind} name '${name}' cannot be longer than '32' characters`);
  if (!/^[A-Za-z0-9-]+$/.test(name)) {
    throw validationError(
      `${kind} name '${name}' can only contain characters that are alphanumeric characters or hyphens(-)`,
    );
  }
  if (name.startsWith('-') || name.endsWith('-')) {
    throw validationError(`${kind} name '${name}' cannot begin or end with '-'`);
  }
}
