import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { SendTaskSuccessCommand, SFNClient, SFNServiceException, TaskTimedOut } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createOnProgressHandler } from '../../../functions/on-progress';
import { KilnStore, type TaskToken } from '../../../shared/store';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';

const fixture = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(__dirname, '../../fixtures/events', path), 'utf8')) as Record<string, unknown>;

const context = {
  functionName: 'kiln-test-on-progress',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 30000,
} as Context;

const sfnMock = mockClient(SFNClient);
const IMAGE_ID = 'ami-0123456789example';

const imageWait = (overrides: Partial<TaskToken> = {}): TaskToken => ({
  waitKind: 'image',
  key: IMAGE_ID,
  token: 'token-image-1',
  deploymentId: 'checkout-1_4_2-0123456789abcdef',
  expiresAt: 1_800_000_000_000,
  ...overrides,
});

describe('on-progress', () => {
  let dynamo: LocalDynamo;
  let store: KilnStore;
  let handler: ReturnType<typeof createOnProgressHandler>;
  let loggedErrors: unknown[][];

  beforeAll(async () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    dynamo = await startDynalite();
  });
  afterAll(() => dynamo.stop());

  beforeEach(async () => {
    const tableName = await dynamo.createTable();
    store = new KilnStore({ client: dynamo.client, tableName });
    sfnMock.reset();
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    const sfn = new SFNClient({ region: 'us-east-1', maxAttempts: 1 });
    handler = createOnProgressHandler(() => ({ documentClient: dynamo.client, tableName, sfn }));
    loggedErrors = [];
    jest.spyOn(Logger.prototype, 'error').mockImplementation((...args: unknown[]) => {
      loggedErrors.push(args);
    });
  });
  afterEach(() => jest.restoreAllMocks());

  const sent = () => sfnMock.commandCalls(SendTaskSuccessCommand).map((call) => call.args[0].input);
  const tokensLeft = async () => (await store.listTaskTokens()).items;

  describe('EC2 AMI State Change', () => {
    it('wakes the task waiting for the image with {woken, detailType, state}', async () => {
      await store.putTaskToken(imageWait());

      const result = await handler(fixture('ec2/ami-state-change-available.json'), context);

      expect(result).toEqual({ outcome: 'resumed', waitKind: 'image', key: IMAGE_ID, state: 'available' });
      expect(sent()).toEqual([
        {
          taskToken: 'token-image-1',
          output: JSON.stringify({ woken: 'event', detailType: 'EC2 AMI State Change', state: 'available' }),
        },
      ]);
      expect(await tokensLeft()).toEqual([]);
    });

    it('wakes the task once when EventBridge delivers the event twice', async () => {
      await store.putTaskToken(imageWait());
      const event = fixture('ec2/ami-state-change-failed.json');

      await handler(event, context);
      const again = await handler(structuredClone(event), context);

      expect(again).toMatchObject({ outcome: 'no-waiter' });
      expect(sent()).toHaveLength(1);
    });

    it('succeeds when the task had already timed out', async () => {
      await store.putTaskToken(imageWait());
      sfnMock
        .on(SendTaskSuccessCommand)
        .rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));

      expect(await handler(fixture('ec2/ami-state-change-available.json'), context)).toMatchObject({
        outcome: 'task-gone',
      });
      expect(await tokensLeft()).toEqual([]);
    });

    it('fails the invocation and keeps the token when Step Functions throttles, so the retry wakes the task', async () => {
      await store.putTaskToken(imageWait());
      sfnMock
        .on(SendTaskSuccessCommand)
        .rejectsOnce(
          new SFNServiceException({
            name: 'ThrottlingException',
            $fault: 'client',
            message: 'Rate exceeded',
            $metadata: { httpStatusCode: 400 },
          }),
        )
        .resolves({});
      const event = fixture('ec2/ami-state-change-available.json');

      await expect(handler(event, context)).rejects.toMatchObject({ name: 'TransientAwsError' });
      expect(await tokensLeft()).toEqual([imageWait()]);
      expect(await handler(event, context)).toMatchObject({ outcome: 'resumed' });
    });
  });

  describe('EC2 Command Status-change Notification', () => {
    it('wakes the task waiting for the command at a final status', async () => {
      await store.putTaskToken(
        imageWait({ waitKind: 'command', key: 'e8d3c0e4-71f7-4491-898f-c9b35bee5f3b', token: 'token-cmd' }),
      );

      const result = await handler(fixture('ssm/command-status-change.json'), context);

      expect(result).toMatchObject({ outcome: 'resumed', waitKind: 'command', state: 'Success' });
      expect(sent().map((input) => input.taskToken)).toEqual(['token-cmd']);
    });

    it('leaves the task waiting while the command is in progress', async () => {
      const wait = imageWait({ waitKind: 'command', key: 'e8d3c0e4-71f7-4491-898f-c9b35bee5f3b' });
      await store.putTaskToken(wait);
      const event = structuredClone(fixture('ssm/command-status-change.json'));
      (event.detail as Record<string, unknown>).status = 'InProgress';

      expect(await handler(event, context)).toMatchObject({ outcome: 'not-terminal' });
      expect(sent()).toEqual([]);
      expect(await tokensLeft()).toEqual([wait]);
    });
  });

  it('refuses a malformed event naming the field, and changes nothing', async () => {
    await store.putTaskToken(imageWait());
    const event = structuredClone(fixture('ec2/ami-state-change-available.json'));
    delete (event.detail as Record<string, unknown>).State;

    const result = await handler(event, context);

    expect(result).toEqual({ ignored: true, reason: expect.stringContaining('detail.State') });
    expect(JSON.stringify(loggedErrors)).toContain('detail.State');
    expect(sent()).toEqual([]);
    expect(await tokensLeft()).toEqual([imageWait()]);
  });
});
