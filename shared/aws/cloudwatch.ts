/**
 * The CloudWatch adapter of the rollout (AlarmPort, shared/usecases/rollout/deps.ts).
 *
 * CONTRACT STUB: the adapters helper implements every method.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { AlarmPort, AlarmStatus } from '../usecases/rollout/deps';

export class Alarms implements AlarmPort {
  constructor(readonly client: CloudWatchClient) {}
  states(_names: readonly string[]): Promise<AlarmStatus[]> {
    throw new Error('Alarms.states is not implemented yet');
  }
  wentIntoAlarm(
    _names: readonly string[],
    _since: number,
  ): Promise<Array<{ name: string; at: number; reason?: string }>> {
    throw new Error('Alarms.wentIntoAlarm is not implemented yet');
  }
}
