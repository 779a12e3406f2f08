import { KilnError } from '../runtime/errors';
import type { AuditEntry } from './schemas';

/**
 * The store's failures. Each is a `KilnError` (name set, cause kept) so Step Functions `Catch`
 * blocks can match them by name: `StaleVersionError` and `LockHeldError` are "someone else got
 * there first" and are worth a re-read, `ConflictError` never is, and `AuditMissingError` says a
 * change *was* made (so it must not be made again).
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

/**
 * A status move named the status it read (`from`), and the deployment has moved on since: another
 * writer got there first. Re-read and decide again; nothing changed.
 */
export class StaleStatusError extends KilnError {
  constructor(
    message: string,
    readonly target: string,
    readonly expectedStatus: string,
    readonly actualStatus: string,
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

/** Renewing a lock the caller does not hold (free, or someone else's), or releasing someone else's. */
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

/**
 * A change was made and stands, but its audit entry could not be written (the audit write failed
 * even after the SDK's retries, or every audit key the store tried was taken). `result` is what
 * the method would have returned; `entry` is the missing entry, which the caller may log or hand
 * to `audit()` again (it is then stamped with that later time). Never repeat the change itself.
 * From `audit()` alone, `result` is undefined: the entry was all there was to write.
 */
export class AuditMissingError<T = unknown> extends KilnError {
  constructor(
    message: string,
    readonly entry: AuditEntry,
    readonly result: T,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
