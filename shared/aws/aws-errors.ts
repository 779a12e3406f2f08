/**
 * What adapters share when an AWS call fails: telling a transient failure (worth a Step Functions
 * Retry) from a refusal. The SDK has already retried throttling and 5xx a few times by then
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html); what still fails
 * that way becomes TransientAwsError for the state machine's longer backoff. The classification
 * is the SDK's own (@smithy/core's retry module), so Kiln and the SDK agree on what is transient.
 */
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import type { SdkError } from '@smithy/types';
import { AwsRequestRefusedError, TransientAwsError } from '../domain/step-errors';

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

/**
 * What a state machine step throws for `caught` while `doing` (e.g. "creating the image"): AWS's
 * transient failures as TransientAwsError, which the ASL retries with its longer backoff whatever
 * the step (a store call still throttled after the SDK's retries included), and a message that
 * starts with `doing`, so the deployment's recorded reason says which step failed.
 */
export function stepError(caught: unknown, doing: string): unknown {
  const error = transientOr(caught, doing);
  if (error instanceof Error && !error.message.startsWith(doing)) {
    error.message = `${doing}: ${error.message}`;
  }
  return error;
}

/** One value per Region, made on first use and kept (an SDK client, an adapter over it). */
export function perRegion<T>(make: (region: string) => T): (region: string) => T {
  const made = new Map<string, T>();
  return (region) => {
    let value = made.get(region);
    if (value === undefined) made.set(region, (value = make(region)));
    return value;
  };
}

/**
 * Runs one AWS call for an adapter: an AWS error code in `handled` is answered there (a value
 * means "already done", a throw is a Kiln error); transient failures become TransientAwsError;
 * any other AWS client error becomes AwsRequestRefusedError naming the call and the service
 * (`service` as a person reads it, e.g. "EC2", "Systems Manager").
 */
export async function callAws<T>(
  service: string,
  what: string,
  send: () => Promise<T>,
  handled: Record<string, (error: Error) => Partial<T>> = {},
): Promise<T> {
  try {
    return await send();
  } catch (error) {
    const code = awsErrorCode(error);
    const handle = code === undefined ? undefined : handled[code];
    if (handle) return handle(error as Error) as T;
    const transient = transientOr(error, what);
    if (transient !== error || code === undefined) throw transient;
    throw refusedError(service, what, error as Error);
  }
}

/**
 * AwsRequestRefusedError for an AWS error, as callAws makes it: for a `handled` entry that answers
 * only some errors of a code (AWS's generic `ValidationError` says "not found" in its message) and
 * refuses the rest the usual way.
 */
export function refusedError(service: string, what: string, error: Error): AwsRequestRefusedError {
  const code = awsErrorCode(error) ?? error.name;
  return new AwsRequestRefusedError(`${what}: ${service} refused it (${code}: ${error.message})`, code, {
    cause: error,
  });
}
