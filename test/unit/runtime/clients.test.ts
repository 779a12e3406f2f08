import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { createDefaultClient } from '../../../cli/store-options';
import { createEngine } from '../../../sandbox/core/engine';
import {
  defaultDocumentClient,
  documentClientFor,
  kilnTranslateConfig,
} from '../../../shared/runtime/clients';

/** What a PutCommand sends on the wire, captured before any HTTP. */
async function marshalledItem(client: DynamoDBClient, item: Record<string, unknown>): Promise<unknown> {
  let sent: unknown;
  client.middlewareStack.add(
    () => async (args) => {
      sent = (args.input as { Item?: unknown }).Item;
      return { output: { $metadata: {} }, response: {} };
    },
    { step: 'build', priority: 'low', name: 'captureItem' },
  );
  await documentClientFor(client).send(new PutCommand({ TableName: 'kiln', Item: item }));
  return sent;
}

describe('DynamoDB document clients', () => {
  describe('documentClientFor', () => {
    it('leaves out undefined values inside maps and lists instead of refusing the item', async () => {
      const client = new DynamoDBClient({
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      const item = await marshalledItem(client, { pk: 'A', step: { name: 'bake', error: undefined } });
      expect(item).toEqual({ pk: { S: 'A' }, step: { M: { name: { S: 'bake' } } } });
      client.destroy();
    });
  });

  describe('every client Kiln builds translates the same way', () => {
    it('holds the deployed functions’ and the CLI’s clients to Kiln’s translation settings', () => {
      expect(defaultDocumentClient().config.translateConfig).toMatchObject(kilnTranslateConfig());
      expect(createDefaultClient({ region: 'eu-west-1' }).config.translateConfig).toMatchObject(
        kilnTranslateConfig(),
      );
    });

    it('holds the sandbox’s client to Kiln’s translation settings', async () => {
      const engine = await createEngine({ seed: 1, dynamodb: false });
      try {
        expect(engine.clientsFor('fn:onArtifact').doc.config.translateConfig).toMatchObject(
          kilnTranslateConfig(),
        );
      } finally {
        await engine.dispose();
      }
    });
  });
});
