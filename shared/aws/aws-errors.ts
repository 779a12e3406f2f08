/**
 * What adapters share when an AWS call fails: telling a transient failure (worth a Step Functions
 * Retry) from a refusal. The SDK has already retried throttling and 5xx a few times by then
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html); what still fails
 * that way becomes TransientAwsError for the state machine's longer backoff. The classification
 * is the SDK's own (@smithy/core's retry module), so Kiln and the SDK agree on what is transient.
 */
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import type { SdkError } from '@smithy/types';
import { TransientAwsError } from '../domain/step-errors';

/** The AWS error code of a failed call (the SDK sets it as the error's name), if it is one. */
export function awsErrorCode(error: unknown): string | undefined {
  return error instanceof Error && '$metadata' in error ? error.name : undefined;
}

/** True when the SDK classifies the error as throttling, transient or a server (5xx) error. */
export function isTransientAwsError(error: unknown): boolean {
  // Network failures (ECONNRESET, timeouts) carry no $metadata; the SDK still calls them transient.
  if (!(error instanceof Error)) return false;
  const sdkError = error as SdkError;
  return isThrottlingError(sdkError) || isTransientError(sdkError) || isServerError(sdkError);
}

/** `error` as TransientAwsError when it is one, else unchanged; `what` names the call. */
export function transientOr(error: unknown, what: string): unknown {
  if (!(error instanceof Error) || !isTransientAwsError(error)) return error;
  const code = awsErrorCode(error) ?? error.name;
  return new TransientAwsError(`${what}: AWS failed transiently (${code}); try again later`, code, {
    cause: error,
  });
}
