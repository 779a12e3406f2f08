/**
 * on-alarm: a CloudWatch alarm changed state (metric or composite). Validates the event, then
 * stops the rollout it went off in, rolls back the release whose watch window it went off in, or
 * notifies (shared/usecases/alarms/handle.ts; the rules in shared/domain/alarms.ts). A malformed
 * event is refused with the field at fault (logged; returned normally, since a retry would be
 * refused the same way) and changes nothing.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DeployExecutions, SfnTasks } from '../shared/aws/sfn';
import type { ServiceManifest } from '../shared/domain/manifest/schema';
import { AlarmEventSchema } from '../shared/events/alarm';
import * as z from '../shared/domain/zod';
import { BaseConfigSchema, loadConfig, StateMachineArn } from '../shared/runtime/config';
import { defaultDocumentClient } from '../shared/runtime/clients';
import { kilnHandler } from '../shared/runtime/handler';
import { randomIds, type IdSource } from '../shared/runtime/ids';
import { createLogger } from '../shared/runtime/logger';
import { KilnStore } from '../shared/store';
import { handleAlarm } from '../shared/usecases/alarms/handle';
import { notifyingAlarmNotices, type AlarmNotices } from '../shared/usecases/alarms/notices';
import type { NotifyDeps } from '../shared/usecases/notify';

export interface OnAlarmDeps {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  sfn: SFNClient;
  /** The deploy state machine a rollback starts (KILN_DEPLOY_STATE_MACHINE_ARN). */
  deployStateMachineArn: string;
  /** Deployment ids and the store's writer id; random when deployed, the seeded source in the sandbox. */
  ids?: IdSource;
  /** Where notices go (tests); default: logged, audited and sent to the manifest's destinations. */
  notices?: AlarmNotices;
  /**
   * The notifier's Slack and SNS adapters, built only when a notice is sent: loading the SSM and
   * SNS clients for every alarm event would cost every cold start (most alarms need no notice).
   */
  destinations: () => Promise<Pick<NotifyDeps, 'slack' | 'sns'>>;
  now?: () => number;
}

/** on-alarm's variables: the base ones and the deploy state machine a rollback starts. */
export const OnAlarmConfigSchema = z.extend(BaseConfigSchema, {
  KILN_DEPLOY_STATE_MACHINE_ARN: StateMachineArn,
});

export function createOnAlarmHandler(deps: () => OnAlarmDeps) {
  const logger = createLogger('on-alarm');
  return kilnHandler({
    logger,
    what: 'alarm event',
    schema: AlarmEventSchema,
    onInvalid: 'drop',
    useCase: async (signal, context) => {
      const { documentClient, tableName, sfn, deployStateMachineArn, ids, notices, now, destinations } =
        deps();
      const store = new KilnStore<ServiceManifest>({
        client: documentClient,
        tableName,
        ...(ids === undefined ? {} : { ids }),
      });
      const outcomes = await handleAlarm(signal, {
        store,
        tasks: new SfnTasks(sfn),
        executions: new DeployExecutions(sfn, deployStateMachineArn),
        ids: ids ?? randomIds,
        now: now ?? Date.now,
        notices:
          notices ??
          notifyingAlarmNotices({
            store,
            logger,
            destinations,
            now: now ?? Date.now,
            holder: `on-alarm:${context.awsRequestId}`,
          }),
        // Lambda keeps the request id across its retries of one event: a retry may re-take its claim.
        holder: `on-alarm:${context.awsRequestId}`,
      });
      const facts = {
        alarm: signal.alarmName,
        region: signal.region,
        state: signal.state,
        kind: signal.kind,
      };
      if (outcomes.length === 0) logger.info('no environment lists this alarm; nothing to do', facts);
      for (const outcome of outcomes)
        logger.info(`alarm: ${outcome.action} ${outcome.outcome}`, { ...facts, ...outcome });
      return { ...facts, outcomes };
    },
  });
}

let defaults: OnAlarmDeps | undefined;

/** The deployed handler: configuration is read and checked once, on the first invocation. */
export const handler = createOnAlarmHandler(() => {
  if (defaults === undefined) {
    const config = loadConfig(OnAlarmConfigSchema);
    defaults = {
      documentClient: defaultDocumentClient(),
      tableName: config.KILN_TABLE,
      sfn: new SFNClient({}),
      deployStateMachineArn: config.KILN_DEPLOY_STATE_MACHINE_ARN,
      destinations: lazyDestinations,
    };
  }
  return defaults;
});

let destinations: Promise<Pick<NotifyDeps, 'slack' | 'sns'>> | undefined;

/** The deployed adapters, loaded on the first notice (esbuild keeps the modules unevaluated until then). */
function lazyDestinations(): Promise<Pick<NotifyDeps, 'slack' | 'sns'>> {
  destinations ??= (async () => {
    const [{ SSMClient }, { SNSClient }, { notifyAdapters }, { perRegion }] = await Promise.all([
      import('@aws-sdk/client-ssm'),
      import('@aws-sdk/client-sns'),
      import('../shared/aws/notify-adapters'),
      import('../shared/aws/aws-errors'),
    ]);
    return notifyAdapters({
      ssm: new SSMClient({}),
      snsFor: perRegion((region) => new SNSClient({ region })),
    });
  })();
  return destinations;
}
