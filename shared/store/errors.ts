import { KilnError } from '../runtime/errors';

/**
 * The store's failures. Each is a `KilnError` (name set, cause kept) so Step Functions `Catch`
 * blocks can match them by name: `StaleVersionError` and `LockHeldError` are "someone else got
 * there first" and are worth a re-read, `ConflictError` never is.
 */

/** A create-only record already exists with different content. */
export class ConflictError extends KilnError {
  constructor(
    message: string,
    readonly target: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An optimistic write named a `version` that is no longer the record's version. */
export class StaleVersionError extends KilnError {
  constructor(
    message: string,
    readonly target: string,
    readonly expectedVersion: number,
    /** The version found on re-read, or undefined when the record does not exist. */
    readonly actualVersion: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Another holder owns an unexpired lease on the service+environment lock. */
export class LockHeldError extends KilnError {
  constructor(
    message: string,
    readonly target: string,
    readonly holder: string,
    /** Epoch milliseconds. */
    readonly expiresAt: number,
    readonly deploymentId: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Renewing or releasing a lock that the caller does not hold (free, or held by someone else). */
export class LockNotHeldError extends KilnError {
  constructor(
    message: string,
    readonly target: string,
    /** The current holder, if any. */
    readonly holder: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The record a write or a required read names does not exist. */
export class NotFoundError extends KilnError {
  constructor(
    message: string,
    readonly target: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
