/**
 * on-artifact: an artifact was published (S3 Object Created, ECR push, or a CI's own
 * "Artifact Published" event). Validates the event, then records the artifact for every service
 * whose manifest builds from it. A service whose artifact cannot be stored is refused (logged with
 * the field at fault; returned normally, since a retry would be refused the same way).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ArtifactEventSchema } from '../shared/events/artifact-facts';
import { BaseConfigSchema, loadConfig } from '../shared/runtime/config';
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
}

export function createOnArtifactHandler(deps: () => OnArtifactDeps) {
  const logger = createLogger('on-artifact');
  return kilnHandler({
    logger,
    what: 'artifact event',
    schema: ArtifactEventSchema,
    onInvalid: 'drop',
    useCase: async (facts) => {
      const { documentClient, tableName, ids } = deps();
      const store = new KilnStore<ServiceManifest>({
        client: documentClient,
        tableName,
        ...(ids === undefined ? {} : { ids }),
      });
      const result = await receiveArtifact(facts, `event:${facts.kind}`, { store });
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
      });
      return {
        recorded: result.recorded.length,
        duplicates: result.duplicates.length,
        skipped: result.skipped.length,
        refused: result.refused.length,
      };
    },
  });
}

let defaults: OnArtifactDeps | undefined;

/** The deployed handler: configuration is read and checked once, on the first invocation. */
export const handler = createOnArtifactHandler(() => {
  defaults ??= {
    documentClient: defaultDocumentClient(),
    tableName: loadConfig(BaseConfigSchema).KILN_TABLE,
  };
  return defaults;
});
