import type { QueueMessage } from '../../../shared/domain/dead-letter';
import { EnvironmentError } from '../../../shared/runtime/errors';
import {
  replayDeadLetters,
  type DeadLetterQueuePort,
  type InvokerPort,
  type ReplayOutcome,
} from '../../../shared/usecases/dead-letters';

/** A queue of EventBridge dead letters, one per function name, failed a minute apart in that order. */
function queueOf(functionNames: string[]) {
  const messages: QueueMessage[] = functionNames.map((name, index) => ({
    messageId: `${index}0000000-0000-4000-8000-00000000000${index}`,
    receiptHandle: `h${index}`,
    body: JSON.stringify({
      id: `e-${index}`,
      source: 'ci.github',
      'detail-type': 'Artifact Published',
      detail: {},
    }),
    attributes: {
      TARGET_ARN: `arn:aws:lambda:eu-west-1:123456789012:function:${name}`,
      ERROR_CODE: 'NO_RESOURCE',
    },
    sentAt: new Date(Date.UTC(2026, 0, 1, 0, index)).toISOString(),
  }));
  const deleted: string[] = [];
  const released: string[] = [];
  const queue: DeadLetterQueuePort = {
    receiveAll: async () => messages,
    release: async (batch) => {
      released.push(...batch.map((m) => m.receiptHandle));
    },
    delete: async (message) => {
      deleted.push(message.receiptHandle);
    },
  };
  return { queue, deleted, released };
}

/** An invoker that accepts every event except those for the functions named in `failures`. */
function invokerFailing(failures: Record<string, Error>): InvokerPort {
  return {
    invokeAsync: async (functionArn) => {
      const failure = failures[functionArn.split(':').at(-1) ?? ''];
      if (failure !== undefined) throw failure;
    },
  };
}

describe('replaying dead letters', () => {
  it('stops at an environment error, keeps that message and every later one, and has reported what it replayed', async () => {
    const { queue, deleted, released } = queueOf(['fn-a', 'fn-gone', 'fn-c']);
    const invoker = invokerFailing({
      'fn-gone': new EnvironmentError('Lambda function "fn-gone" not found'),
    });
    const heard: ReplayOutcome[] = [];

    await expect(
      replayDeadLetters(
        { all: true },
        { dryRun: false, onOutcome: (outcome) => heard.push(outcome) },
        { queue, invoker },
      ),
    ).rejects.toThrow('Lambda function "fn-gone" not found');

    expect(deleted).toEqual(['h0']);
    expect(released).toEqual(['h1', 'h2']);
    expect(heard.map((o) => [o.letter.event.id, o.status])).toEqual([['e-0', 'replayed']]);
  });

  it('reports any other invocation failure against its letter and goes on with the rest', async () => {
    const { queue, deleted, released } = queueOf(['fn-a', 'fn-throttled', 'fn-c']);
    const invoker = invokerFailing({ 'fn-throttled': new Error('Rate exceeded') });

    const outcomes = await replayDeadLetters({ all: true }, { dryRun: false }, { queue, invoker });

    expect(outcomes.map((o) => [o.letter.event.id, o.status])).toEqual([
      ['e-0', 'replayed'],
      ['e-1', 'failed'],
      ['e-2', 'replayed'],
    ]);
    expect(deleted).toEqual(['h0', 'h2']);
    expect(released).toEqual(['h1']);
  });
});
