/**
 * The errors a state machine step may raise on purpose, and the one list of their names that the
 * ASL's `Retry`/`Catch` blocks match by `ErrorEquals` (DESIGN.md, "Adding things": a Lambda task
 * that throws reports `errorType` = the error's `name`, which KilnError sets to the class name).
 * A test holds this list equal to the classes (test/unit/domain/step-errors.test.ts); an ASL test
 * will hold every `ErrorEquals` of Kiln's own errors to it.
 *
 * What the state machine does with each (the policy lives in the ASL, not here):
 * - retried with backoff: TransientAwsError, ImageNotReadyError, InstanceNotReadyError,
 *   LockHeldError, StaleVersionError, StaleStatusError;
 * - caught, ending the deployment `failed` after clean-up: BakeFailedError, BakeTimedOutError,
 *   BaseImageNotFoundError, AwsRequestRefusedError, IllegalTransitionError.
 *
 * The store's errors (LockHeldError, StaleVersionError, StaleStatusError) are declared beside the
 * store, IllegalTransitionError beside the deployment statuses; the rest are here.
 */
import { KilnError } from '../runtime/errors';

/**
 * AWS throttled the call, failed on its side (5xx) or could not be reached, after the SDK's own
 * retries: worth trying again later. `code` is AWS's error code.
 */
export class TransientAwsError extends KilnError {
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * AWS refused the request itself (a subnet, security group, instance profile or image that does
 * not exist or may not be used; a malformed value): trying again changes nothing. `code` is AWS's
 * error code, and the message names the setting to check.
 */
export class AwsRequestRefusedError extends KilnError {
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The base image a bake starts from (an AMI id, or the public SSM parameter naming one) is not there. */
export class BaseImageNotFoundError extends KilnError {}

/** An image is still `pending` (being created or copied): wait and ask again. */
export class ImageNotReadyError extends KilnError {}

/**
 * The builder instance cannot take the next action yet: not yet running, not yet stopped, or not
 * yet registered with Systems Manager. Wait and ask again.
 */
export class InstanceNotReadyError extends KilnError {}

/**
 * The bake itself failed: the install command ended in failure, the builder stopped on its own, or
 * the image ended `failed`. Not retried; the deployment fails after clean-up.
 */
export class BakeFailedError extends KilnError {}

/**
 * The bake ran past its deadline (the manifest's `bake.timeoutMinutes`, counted from the start of
 * the bake): a wait found the thing it waits for still unfinished. Not retried; the deployment
 * fails after clean-up, and an image still being created is kept for the next bake to adopt.
 */
export class BakeTimedOutError extends KilnError {}

/**
 * An instance refresh is already running on the group towards another launch template version
 * than the one asked for (someone else's refresh, or an earlier rollout's): Auto Scaling runs one
 * refresh per group at a time, and StartInstanceRefresh takes no client token to tell a retry of
 * Kiln's own start from it. `refreshId` and `desired` name the refresh in the way.
 */
export class RefreshInProgressError extends KilnError {
  constructor(
    message: string,
    readonly refreshId: string,
    readonly desired?: { id: string; version: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * An environment cannot be rolled as the manifest describes it: its Auto Scaling group does not
 * exist, launches from no launch template, the release has no AMI in its Region, or the launch
 * template version a rollback would restore is gone. Found before anything is changed; not
 * retried (waiting does not make a group appear): the deployment ends `failed` with the reason.
 */
export class EnvironmentSetupError extends KilnError {}

/** Every name a state machine's `ErrorEquals` may use for Kiln's own errors. */
export const STEP_ERROR_NAMES = [
  'TransientAwsError',
  'AwsRequestRefusedError',
  'BaseImageNotFoundError',
  'ImageNotReadyError',
  'InstanceNotReadyError',
  'BakeFailedError',
  'BakeTimedOutError',
  'RefreshInProgressError',
  'EnvironmentSetupError',
  'LockHeldError',
  'StaleVersionError',
  'StaleStatusError',
  'IllegalTransitionError',
] as const;
export type StepErrorName = (typeof STEP_ERROR_NAMES)[number];

/**
 * Step Functions' own names for a Lambda invocation that failed in the Lambda service (throttled,
 * a service error), which AWS recommends retrying on every Lambda task, and `Lambda.Unknown`: "Unhandled
 * errors in Lambda are reported as Lambda.Unknown in the error output. These include out-of-memory
 * errors and function timeouts" (a crashed runtime), retried too because every bake step is
 * idempotent and a crash may not recur
 * (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html). With
 * STEP_ERROR_NAMES and `States.*`, the only names an `ErrorEquals` may use.
 */
export const LAMBDA_INVOKE_ERROR_NAMES = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.Unknown',
] as const;
