import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { kilnHandler } from '../../../shared/runtime/handler';
import { InvalidInputError } from '../../../shared/runtime/errors';

const context: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'kiln-test-fn',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:kiln-test-fn',
  memoryLimitInMB: '512',
  awsRequestId: 'req-1',
  logGroupName: '/aws/lambda/kiln-test-fn',
  logStreamName: 'stream',
  getRemainingTimeInMillis: () => 30000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

const Input = z.object({ deploymentId: z.string(), detail: z.object({ count: z.number().int() }) });

function silentLogger(): { logger: Logger; errors: unknown[][] } {
  const logger = new Logger({ serviceName: 'kiln-test', logLevel: 'SILENT' });
  const errors: unknown[][] = [];
  jest.spyOn(logger, 'error').mockImplementation((...args: unknown[]) => {
    errors.push(args);
  });
  return { logger, errors };
}

describe('kilnHandler', () => {
  describe('with valid input', () => {
    it('calls the use case once with the parsed input and returns its result', async () => {
      const { logger } = silentLogger();
      const useCase = jest.fn(async (input: z.infer<typeof Input>) => input.detail.count * 2);
      const handler = kilnHandler({ logger, what: 'test event', schema: Input, onInvalid: 'drop', useCase });
      await expect(handler({ deploymentId: 'd-1', detail: { count: 21 } }, context)).resolves.toBe(42);
      expect(useCase).toHaveBeenCalledTimes(1);
    });

    it('uses the deployment id as the correlation id of the log lines', async () => {
      const { logger } = silentLogger();
      const setCorrelationId = jest.spyOn(logger, 'setCorrelationId');
      const handler = kilnHandler({
        logger,
        what: 'test event',
        schema: Input,
        onInvalid: 'drop',
        correlationId: (input) => input.deploymentId,
        useCase: async () => 'ok',
      });
      await handler({ deploymentId: 'd-7', detail: { count: 1 } }, context);
      expect(setCorrelationId).toHaveBeenCalledWith('d-7');
    });
  });

  describe('with malformed input', () => {
    it('drops an event, logs the field at fault and never calls the use case', async () => {
      const { logger, errors } = silentLogger();
      const useCase = jest.fn(async () => 'changed something');
      const handler = kilnHandler({ logger, what: 'test event', schema: Input, onInvalid: 'drop', useCase });
      const result = await handler({ deploymentId: 'd-1', detail: { count: 'many' } }, context);
      expect(useCase).not.toHaveBeenCalled();
      expect(result).toEqual({ ignored: true, reason: expect.stringContaining('detail.count') });
      expect(JSON.stringify(errors)).toContain('detail.count');
    });

    it('throws InvalidInputError naming the field when told to (Step Functions tasks)', async () => {
      const { logger } = silentLogger();
      const handler = kilnHandler({
        logger,
        what: 'task input',
        schema: Input,
        onInvalid: 'throw',
        useCase: async () => 'ok',
      });
      const failure = handler({ detail: { count: 1 } }, context);
      await expect(failure).rejects.toBeInstanceOf(InvalidInputError);
      await expect(failure).rejects.toMatchObject({ name: 'InvalidInputError', message: /deploymentId/ });
    });
  });
});
