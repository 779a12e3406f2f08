import {
  InvalidToken,
  SendTaskSuccessCommand,
  SFNClient,
  SFNServiceException,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { SfnTasks } from '../../../shared/aws/sfn';
import { AwsRequestRefusedError, TransientAwsError } from '../../../shared/domain/step-errors';

const sfnMock = mockClient(SFNClient);

describe('SfnTasks', () => {
  let tasks: SfnTasks;
  beforeEach(() => {
    sfnMock.reset();
    tasks = new SfnTasks(new SFNClient({ region: 'us-east-1', maxAttempts: 1 }));
  });

  it('sends the output as JSON with the token', async () => {
    sfnMock.on(SendTaskSuccessCommand).resolves({});

    expect(await tasks.succeed('token-1', { woken: 'event' })).toEqual({ outcome: 'resumed' });
    expect(sfnMock.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input)).toEqual([
      { taskToken: 'token-1', output: '{"woken":"event"}' },
    ]);
  });

  it.each([
    ['TaskTimedOut', () => new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} })],
    ['InvalidToken', () => new InvalidToken({ message: 'Invalid Token', $metadata: {} })],
    ['TaskDoesNotExist', () => new TaskDoesNotExist({ message: 'Task does not exist', $metadata: {} })],
  ])('reports a task already gone (%s) as gone', async (code, error) => {
    sfnMock.on(SendTaskSuccessCommand).rejects(error());
    expect(await tasks.succeed('token-1', {})).toEqual({ outcome: 'gone', code });
  });

  it('turns throttling into TransientAwsError', async () => {
    sfnMock.on(SendTaskSuccessCommand).rejects(
      new SFNServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        message: 'Rate exceeded',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expect(tasks.succeed('token-1', {})).rejects.toBeInstanceOf(TransientAwsError);
  });

  it('turns any other refusal into AwsRequestRefusedError naming the code', async () => {
    sfnMock.on(SendTaskSuccessCommand).rejects(
      new SFNServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        message: 'not authorized',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const attempt = tasks.succeed('token-1', {});
    await expect(attempt).rejects.toBeInstanceOf(AwsRequestRefusedError);
    await expect(attempt).rejects.toMatchObject({ code: 'AccessDeniedException' });
  });
});
