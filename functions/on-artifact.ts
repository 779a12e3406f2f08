/**
 * on-artifact: an artifact was published (S3 Object Created, ECR push, a CodeArtifact package
 * version, or a CI's own "Artifact Published" event). Validates the event, records the artifact
 * for every service whose manifest builds from it, and starts each one's deployment (the deploy
 * state machine, by a name derived from the artifact, so a redelivery starts nothing new). A
 * service whose artifact cannot be stored is refused (logged with the field at fault; returned
 * normally, since a retry would be refused the same way). A start that fails fails the
 * invocation: Lambda's retries and the dead-letter queue take it from there, and a redelivery
 * finds the artifact recorded and starts what is missing.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DeployExecutions } from '../shared/aws/sfn';
import * as z from '../shared/domain/zod';
import { ArtifactEventSchema } from '../shared/events/artifact-facts';
import { BaseConfigSchema, loadConfig, StateMachineArn } from '../shared/runtime/config';
import { defaultDocumentClient } from '../shared/runtime/clients';
import { kilnHandler } from '../shared/runtime/handler';
import type { IdSource } from '../shared/runtime/ids';
import { createLogger } from '../shared/runtime/logger';
import { KilnStore } from '../shared/store';
import type { ServiceManifest } from '../shared/domain/manifest/schema';
import { receiveArtifact } from '../shared/usecases/receive-artifact';

export interface OnArtifactDeps {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  /** Where the store draws its writer id; random when deployed, the seeded source in the sandbox. */
  ids?: IdSource;
  sfn: SFNClient;
  /** The deploy state machine (KILN_DEPLOY_STATE_MACHINE_ARN). */
  deployStateMachineArn: string;
}

/** on-artifact's variables: the base ones and the deploy state machine it starts. */
export const OnArtifactConfigSchema = z.extend(BaseConfigSchema, {
  KILN_DEPLOY_STATE_MACHINE_ARN: StateMachineArn,
});

export function createOnArtifactHandler(deps: () => OnArtifactDeps) {
  const logger = createLogger('on-artifact');
  return kilnHandler({
    logger,
    what: 'artifact event',
    schema: ArtifactEventSchema,
    onInvalid: 'drop',
    useCase: async (facts) => {
      const { documentClient, tableName, ids, sfn, deployStateMachineArn } = deps();
      const store = new KilnStore<ServiceManifest>({
        client: documentClient,
        tableName,
        ...(ids === undefined ? {} : { ids }),
      });
      const deploys = new DeployExecutions(sfn, deployStateMachineArn);
      const result = await receiveArtifact(facts, `event:${facts.kind}`, { store, deploys });
      if (result.refused.length > 0) {
        // Logged, not thrown: a retry would be refused the same way.
        logger.error('artifact refused for some services; nothing recorded for them', {
          refused: result.refused.map((r) => `${r.service}: ${r.field}: ${r.reason}`),
        });
      }
      if (result.auditMissing.length > 0) {
        logger.error('artifact recorded but its audit entry could not be written', {
          artifacts: result.auditMissing.map((a) => `${a.service}@${a.version} ${a.digest}`),
        });
      }
      logger.info('artifact received', {
        recorded: result.recorded.map((a) => `${a.service}@${a.version}`),
        duplicates: result.duplicates.map((a) => `${a.service}@${a.version}`),
        skipped: result.skipped,
        started: result.started.map((d) => d.executionArn),
        alreadyStarted: result.alreadyStarted.map((d) => d.executionArn),
      });
      return {
        recorded: result.recorded.length,
        duplicates: result.duplicates.length,
        skipped: result.skipped.length,
        refused: result.refused.length,
        started: result.started.length,
        alreadyStarted: result.alreadyStarted.length,
      };
    },
  });
}

let defaults: OnArtifactDeps | undefined;

/** The deployed handler: configuration is read and checked once, on the first invocation. */
export const handler = createOnArtifactHandler(() => {
  if (defaults === undefined) {
    const config = loadConfig(OnArtifactConfigSchema);
    defaults = {
      documentClient: defaultDocumentClient(),
      tableName: config.KILN_TABLE,
      sfn: new SFNClient({}),
      deployStateMachineArn: config.KILN_DEPLOY_STATE_MACHINE_ARN,
    };
  }
  return defaults;
});
