/**
 * retain-images: once a day (serverless.yml's schedule), keeps each service's newest releases'
 * AMIs and every AMI an environment runs or would roll back to, deprecates the others, and
 * deregisters them with their snapshots after the manifest's grace period. The rules are the
 * domain's (shared/domain/retention.ts), the course the use case's; this handler only wires them.
 *
 * A run with failures logs each one and then fails the invocation: Lambda retries it (every
 * action is idempotent, so a retry finishes the job) and, after its retries, the event lands in the
 * dead-letter queue where `kiln dead-letters list` shows it.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Ec2Bake } from '../shared/aws/ec2';
import { ScheduledEventSchema } from '../shared/events/scheduled';
import { BaseConfigSchema, loadConfig } from '../shared/runtime/config';
import { defaultDocumentClient } from '../shared/runtime/clients';
import { KilnError } from '../shared/runtime/errors';
import { kilnHandler } from '../shared/runtime/handler';
import type { IdSource } from '../shared/runtime/ids';
import { createLogger } from '../shared/runtime/logger';
import { KilnStore, type NamedManifest } from '../shared/store';
import { retainImages, type RetentionEc2 } from '../shared/usecases/retain-images';

/** Some retention actions failed; the others were carried out. A rerun finishes the job. */
export class RetentionIncompleteError extends KilnError {}

export interface RetainImagesHandlerDeps {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  /** The EC2 adapter for a Region. */
  ec2For: (region: string) => RetentionEc2;
  /** Epoch ms; the sandbox's virtual clock. */
  now?: () => number;
  ids?: IdSource;
}

export function createRetainImagesHandler(deps: () => RetainImagesHandlerDeps) {
  const logger = createLogger('retain-images');
  return kilnHandler({
    logger,
    what: 'scheduled event',
    schema: ScheduledEventSchema,
    onInvalid: 'drop',
    useCase: async () => {
      const { documentClient, tableName, ec2For, now, ids } = deps();
      const store = new KilnStore<NamedManifest>({
        client: documentClient,
        tableName,
        ...(now === undefined ? {} : { now }),
        ...(ids === undefined ? {} : { ids }),
      });
      const result = await retainImages({ store, ec2For, now: now ?? Date.now });
      const count = (kind: string) => result.acted.filter((a) => a.action.kind === kind).length;
      const summary = {
        services: result.services.length,
        deprecated: count('deprecate'),
        deregistered: count('deregister'),
        restored: count('restore'),
        waiting: result.services.reduce((n, s) => n + s.plan.waiting.length, 0),
        skipped: result.services.flatMap((s) =>
          s.plan.skipped.map((i) => `${s.service} ${i.region}/${i.imageId}: ${i.reason}`),
        ),
        failed: result.failures.length,
      };
      logger.info('image retention ran', { ...summary });
      if (result.failures.length > 0) {
        const lines = result.failures.map(
          (f) => `${f.service}${f.region === undefined ? '' : ` ${f.region}`}: ${f.what}: ${f.error}`,
        );
        logger.error('image retention left work undone; the next run finishes it', { failures: lines });
        throw new RetentionIncompleteError(`${lines.length} retention action(s) failed: ${lines.join('; ')}`);
      }
      return summary;
    },
  });
}

let defaults: RetainImagesHandlerDeps | undefined;
const ec2Clients = new Map<string, Ec2Bake>();

/** The deployed handler: configuration read once; one EC2 client per Region, made on first use. */
export const handler = createRetainImagesHandler(() => {
  defaults ??= {
    documentClient: defaultDocumentClient(),
    tableName: loadConfig(BaseConfigSchema).KILN_TABLE,
    ec2For: (region) => {
      let adapter = ec2Clients.get(region);
      if (!adapter) {
        adapter = new Ec2Bake(new EC2Client({ region }));
        ec2Clients.set(region, adapter);
      }
      return adapter;
    },
  };
  return defaults;
});
