/**
 * Kiln's error hierarchy. Names end in `Error` and are set on the instance so Step Functions
 * `Retry`/`Catch` blocks can match them by `ErrorEquals` (Lambda reports `errorType` = `name`).
 */
export class KilnError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An inbound payload (event, webhook, manifest, CLI argument) failed validation. Nothing changed. */
export class InvalidInputError extends KilnError {
  constructor(
    message: string,
    /** Each problem with the dotted path of the field at fault. */
    readonly issues: ReadonlyArray<{ field: string; message: string }>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Configuration (environment variables) is missing or malformed; raised once at cold start. */
export class ConfigError extends KilnError {}

/** A transient failure worth retrying (Step Functions retries it with backoff). */
export class RetryableError extends KilnError {}
