import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type * as z from '../domain/zod';
import { InvalidInputError } from './errors';
import { mapErrorStacks } from './stack-map';
import { parseOrThrow } from './validation';

export interface KilnHandlerOptions<S extends z.core.$ZodType, R> {
  logger: Logger;
  /** What the payload is, for error messages (e.g. 'artifact event'). */
  what: string;
  /** The zod schema every inbound payload is parsed with before anything else happens. */
  schema: S;
  /** Picks the deployment id (the correlation id of every log line) from the parsed input. */
  correlationId?: (input: z.infer<S>) => string | undefined;
  /**
   * What to return for input that fails validation. Events from EventBridge are dropped (returning
   * normally: a retry would fail the same way); Step Functions tasks rethrow so the state machine's
   * Catch sees InvalidInputError.
   */
  onInvalid: 'drop' | 'throw';
  useCase: (input: z.infer<S>, context: Context) => Promise<R>;
}

/**
 * The middy stack every Kiln function uses: Powertools logger with the Lambda context injected,
 * zod validation of the payload first (a malformed event is logged with the field at fault and
 * changes nothing), the deployment id as correlation id, then exactly one use case. An error that
 * fails the invocation leaves with its stack mapped to the TypeScript sources (./stack-map.ts),
 * so the Lambda runtime logs (and Step Functions' Catch sees) source lines, not bundle offsets.
 */
export function kilnHandler<S extends z.core.$ZodType, R>(options: KilnHandlerOptions<S, R>) {
  const { logger } = options;
  return middy<unknown, R | { ignored: true; reason: string }>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({
      onError: (request) => {
        mapErrorStacks(request.error);
      },
    })
    .handler(async (event, context) => {
      let input: z.infer<S>;
      try {
        input = parseOrThrow(options.schema, event, options.what);
      } catch (error) {
        if (error instanceof InvalidInputError) {
          logger.error('rejected malformed input; nothing changed', {
            issues: error.issues,
            what: options.what,
          });
          if (options.onInvalid === 'drop') return { ignored: true, reason: error.message };
        }
        throw error;
      }
      const correlationId = options.correlationId?.(input);
      if (correlationId) logger.setCorrelationId(correlationId);
      return options.useCase(input, context);
    });
}
