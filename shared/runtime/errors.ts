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

/**
 * A setting around Kiln, not Kiln itself, is missing or wrong: no region, no credentials, an
 * unknown profile, an endpoint that cannot be reached, a table, queue or function that is not
 * there, credentials AWS rejects. The message is one line naming the setting to change; the CLI
 * prints it as `kiln: …` and exits 2. The SDK's own error stays on `cause`.
 */
export class EnvironmentError extends KilnError {}
