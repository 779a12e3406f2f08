/**
 * on-progress: something a deploy waits for has moved (an AMI's state, a Run Command command's
 * status). Validates the event, then wakes the waiting task, if any, exactly once. A malformed
 * event is refused with the field at fault (logged; returned normally, since a retry would be
 * refused the same way) and changes nothing.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SfnTasks } from '../shared/aws/sfn';
import type { ServiceManifest } from '../shared/domain/manifest/schema';
import { ProgressEventSchema } from '../shared/events/progress';
import { BaseConfigSchema, loadConfig } from '../shared/runtime/config';
import { defaultDocumentClient } from '../shared/runtime/clients';
import { kilnHandler } from '../shared/runtime/handler';
import type { IdSource } from '../shared/runtime/ids';
import { createLogger } from '../shared/runtime/logger';
import { KilnStore } from '../shared/store';
import { resumeWait } from '../shared/usecases/resume-wait';

export interface OnProgressDeps {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  sfn: SFNClient;
  /** Where the store draws its writer id; random when deployed, the seeded source in the sandbox. */
  ids?: IdSource;
}

export function createOnProgressHandler(deps: () => OnProgressDeps) {
  const logger = createLogger('on-progress');
  return kilnHandler({
    logger,
    what: 'progress event',
    schema: ProgressEventSchema,
    onInvalid: 'drop',
    useCase: async (signal) => {
      const { documentClient, tableName, sfn, ids } = deps();
      const store = new KilnStore<ServiceManifest>({
        client: documentClient,
        tableName,
        ...(ids === undefined ? {} : { ids }),
      });
      const result = await resumeWait(signal, { store, tasks: new SfnTasks(sfn) });
      if ('deploymentId' in result) logger.setCorrelationId(result.deploymentId);
      const facts = { waitKind: signal.waitKind, key: signal.key, state: signal.state };
      if (result.outcome === 'resumed') logger.info('woke the waiting task', facts);
      else if (result.outcome === 'task-gone')
        logger.info('the waiting task had already ended; nothing to wake', { ...facts, code: result.code });
      else if (result.outcome === 'no-waiter') logger.info('no task waits for this; nothing to wake', facts);
      else logger.debug('not a state that ends a wait', facts);
      return { outcome: result.outcome, waitKind: signal.waitKind, key: signal.key, state: signal.state };
    },
  });
}

let defaults: OnProgressDeps | undefined;

/** The deployed handler: configuration is read and checked once, on the first invocation. */
export const handler = createOnProgressHandler(() => {
  defaults ??= {
    documentClient: defaultDocumentClient(),
    tableName: loadConfig(BaseConfigSchema).KILN_TABLE,
    sfn: new SFNClient({}),
  };
  return defaults;
});
