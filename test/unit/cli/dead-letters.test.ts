import { Command, CommanderError } from 'commander';
import { registerDeadLetters, type DeadLetterCommandIo } from '../../../cli/commands/dead-letters';
import { readDeadLetter, selectDeadLetters, type QueueMessage } from '../../../shared/domain/dead-letter';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/kiln-prod-dead-letters';

/** Runs `kiln dead-letters …` with clients that must never be made (bad input changes nothing). */
async function run(args: string[], env: NodeJS.ProcessEnv = { KILN_DEAD_LETTER_QUEUE: QUEUE }) {
  const out: string[] = [];
  const err: string[] = [];
  let clientsMade = 0;
  const io: DeadLetterCommandIo = {
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    env,
    createClients: async () => {
      clientsMade++;
      throw new Error('no AWS call expected');
    },
  };
  const program = new Command('kiln').exitOverride().configureOutput({
    writeOut: (text) => out.push(text),
    writeErr: (text) => err.push(text),
  });
  registerDeadLetters(program, io);
  const saved = process.exitCode;
  process.exitCode = undefined;
  let exitCode: number | undefined;
  try {
    await program.parseAsync(args, { from: 'user' });
    exitCode = typeof process.exitCode === 'number' ? process.exitCode : undefined;
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    exitCode = error.exitCode;
  } finally {
    process.exitCode = saved;
  }
  return { stdout: out.join(''), stderr: err.join(''), exitCode, clientsMade };
}

describe('kiln dead-letters: bad arguments', () => {
  it.each([
    [
      ['dead-letters', 'replay'],
      'error: replay needs dead-letter ids or --all (see `kiln dead-letters list`)\n',
    ],
    [['dead-letters', 'replay', 'abcd1234', '--all'], 'error: pass dead-letter ids or --all, not both\n'],
    [
      ['dead-letters', 'list', '--queue', 'kiln-prod-dead-letters'],
      'error: --queue must be an SQS queue URL such as https://sqs.REGION.amazonaws.com/ACCOUNT/NAME, got "kiln-prod-dead-letters"\n',
    ],
  ])('refuses %j with one line naming the option, exit 1, and no AWS call', async (args, message) => {
    const result = await run(args);
    expect(result.stderr).toBe(message);
    expect(result.exitCode).toBe(1);
    expect(result.clientsMade).toBe(0);
  });

  it('refuses to run without a queue, naming --queue and KILN_DEAD_LETTER_QUEUE', async () => {
    const result = await run(['dead-letters', 'list'], {});
    expect(result.stderr).toBe(
      'error: no dead-letter queue: pass --queue URL or set KILN_DEAD_LETTER_QUEUE (the stack output KilnDeadLetterQueueUrl)\n',
    );
    expect(result.exitCode).toBe(1);
  });

  it('refuses an unknown option through commander, exit 1', async () => {
    const result = await run(['dead-letters', 'list', '--jsn']);
    expect(result.stderr).toContain("unknown option '--jsn'");
    expect(result.exitCode).toBe(1);
  });
});

describe('reading dead letters', () => {
  const message = (overrides: Partial<QueueMessage>): QueueMessage => ({
    messageId: '3F2A9C1B-0000-4000-8000-000000000001',
    receiptHandle: 'h',
    body: '{}',
    attributes: {},
    ...overrides,
  });
  const event = { id: 'e-1', source: 'aws.s3', 'detail-type': 'Object Created', detail: {} };

  it('reads an EventBridge dead letter: the body is the event, the attributes say where and why', () => {
    const letter = readDeadLetter(
      message({
        body: JSON.stringify(event),
        sentAt: '2026-01-01T00:10:00.000Z',
        attributes: {
          RULE_ARN: 'arn:aws:events:us-east-1:123456789012:rule/kiln-prod-on-artifact-rule-1',
          TARGET_ARN: 'arn:aws:lambda:us-east-1:123456789012:function:kiln-prod-on-artifact',
          ERROR_CODE: 'THROTTLING',
          ERROR_MESSAGE: 'Rate exceeded',
          RETRY_ATTEMPTS: '30',
        },
      }),
    );
    expect(letter).toEqual({
      id: '3F2A9C1B-0000-4000-8000-000000000001',
      shortId: '3f2a9c1b',
      kind: 'delivery',
      failedAt: '2026-01-01T00:10:00.000Z',
      ruleArn: 'arn:aws:events:us-east-1:123456789012:rule/kiln-prod-on-artifact-rule-1',
      functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:kiln-prod-on-artifact',
      error: 'THROTTLING: Rate exceeded',
      attempts: 31,
      event: { id: 'e-1', source: 'aws.s3', detailType: 'Object Created' },
      payload: event,
    });
  });

  it('reads a Lambda invocation record: the event is requestPayload, the qualifier is dropped', () => {
    const letter = readDeadLetter(
      message({
        body: JSON.stringify({
          version: '1.0',
          timestamp: '2026-01-01T00:03:00.100Z',
          requestContext: {
            requestId: 'r',
            functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:kiln-prod-on-artifact:$LATEST',
            condition: 'RetriesExhausted',
            approximateInvokeCount: 3,
          },
          requestPayload: event,
          responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
          responsePayload: { errorType: 'Runtime.ExitError', errorMessage: 'signal: killed' },
        }),
      }),
    );
    expect(letter).toMatchObject({
      kind: 'invocation',
      failedAt: '2026-01-01T00:03:00.100Z',
      functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:kiln-prod-on-artifact',
      error: 'Runtime.ExitError: signal: killed',
      attempts: 3,
      payload: event,
    });
  });

  it('reports anything else as unreadable, without a function to replay to', () => {
    expect(readDeadLetter(message({ body: 'not json' }))).toMatchObject({
      kind: 'unreadable',
      error: 'the body is not JSON',
    });
    expect(readDeadLetter(message({ body: '{"hello":1}' })).functionArn).toBeUndefined();
  });

  describe('selecting by id', () => {
    const letters = [
      readDeadLetter(message({ messageId: 'abcd1111-0000-4000-8000-000000000001' })),
      readDeadLetter(message({ messageId: 'abcd2222-0000-4000-8000-000000000002' })),
    ];

    it('takes a whole message id or a unique short-id prefix of 4 or more characters', () => {
      expect(selectDeadLetters(letters, ['abcd1', 'ABCD2222-0000-4000-8000-000000000002'])).toEqual({
        letters,
      });
    });

    it('names unknown ids, and ambiguous or too short prefixes', () => {
      expect(selectDeadLetters(letters, ['ffff'])).toEqual({ unknown: ['ffff'] });
      expect(selectDeadLetters(letters, ['abcd'])).toEqual({ ambiguous: ['abcd'] });
      expect(selectDeadLetters(letters, ['abc'])).toEqual({ unknown: ['abc'] });
    });
  });
});
