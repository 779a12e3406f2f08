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
import { BaseConfigSchema, loadConfig } from '../shared/runtime/config';
import { defaultDocumentClient } from '../shared/runtime/clients';
import { kilnHandler } from '../shared/runtime/handler';
import { randomIds, type IdSource } from '../shared/runtime/ids';
import { createLogger } from '../shared/runtime/logger';
import { KilnStore } from '../shared/store';
import { handleAlarm } from '../shared/usecases/alarms/handle';
import { loggedAlarmNotices, type AlarmNotices } from '../shared/usecases/alarms/notices';

export interface OnAlarmDeps {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  sfn: SFNClient;
  /** The deploy state machine a rollback starts (KILN_DEPLOY_STATE_MACHINE_ARN). */
  deployStateMachineArn: string;
  /** Deployment ids and the store's writer id; random when deployed, the seeded source in the sandbox. */
  ids?: IdSource;
  /** Where notices go; logged and audited until the notifier is wired in. */
  notices?: AlarmNotices;
  now?: () => number;
}

/** on-alarm's variables: the base ones and the deploy state machine a rollback starts. */
export const OnAlarmConfigSchema = z.extend(BaseConfigSchema, {
  KILN_DEPLOY_STATE_MACHINE_ARN: z
    .string()
    .check(
      z.regex(
        /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/,
        'must be a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)',
      ),
    ),
});

export function createOnAlarmHandler(deps: () => OnAlarmDeps) {
  const logger = createLogger('on-alarm');
  return kilnHandler({
    logger,
    what: 'alarm event',
    schema: AlarmEventSchema,
    onInvalid: 'drop',
    useCase: async (signal, context) => {
      const { documentClient, tableName, sfn, deployStateMachineArn, ids, notices, now } = deps();
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
        notices: notices ?? loggedAlarmNotices({ store, logger }),
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
    };
  }
  return defaults;
});
