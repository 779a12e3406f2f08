/**
 * What every simulated service repeats: errors in the shape the SDK raises them, a `required` check
 * that answers with the service's own "missing member" error, output types without `$metadata`,
 * and the operation table through which `SimService.handle` answers the SDK.
 */
/** An SDK command output without the `$metadata` the engine adds to every answer. */
export type Out<T> = Omit<T, '$metadata'>;

/** A service's base exception class in the SDK (`EC2ServiceException`, `SSMServiceException`, …). */
export type ServiceExceptionClass<E extends Error> = new (options: {
  name: string;
  $fault: 'client' | 'server';
  message: string;
  $metadata: { httpStatusCode: number };
}) => E;

/**
 * A client error (HTTP 400) named as the service's wire protocol names it, for the codes the SDK
 * does not model (Query's `ValidationError`, EC2's `MissingParameter`, …): the SDK parses those
 * into the service's base exception carrying that name, so the simulator throws the same.
 */
export function clientError<E extends Error>(
  Exception: ServiceExceptionClass<E>,
  name: string,
  message: string,
): E {
  return new Exception({ name, $fault: 'client', message, $metadata: { httpStatusCode: 400 } });
}

/** The `$metadata` of a client error, for the SDK's modeled exceptions: `new XFault({ message, ...badRequest() })`. */
export function badRequest(): { $metadata: { httpStatusCode: number } } {
  return { $metadata: { httpStatusCode: 400 } };
}

/** Returns the value of a required request member, or throws the service's error naming it. */
export type Required = <T>(value: T | undefined | null, field: string) => T;

/**
 * A service's `required`: an absent member (undefined or null, and for services whose protocol
 * says so the empty string) raises `missing(field)`.
 */
export function requiredWith(
  missing: (field: string) => Error,
  options: { emptyStringIsMissing?: boolean } = {},
): Required {
  const emptyStringIsMissing = options.emptyStringIsMissing ?? false;
  return <T>(value: T | undefined | null, field: string): T => {
    if (value === undefined || value === null || (emptyStringIsMissing && value === '')) {
      throw missing(field);
    }
    return value;
  };
}

/** ISO 8601 with milliseconds, as the SDKs and event payloads carry times. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** One SDK operation: its input arrives untyped from the SDK hook. */
export type Operation = (input: unknown) => object | Promise<object>;

/**
 * A service's operations by SDK name (`RunInstances`, …). The table is the one place that lists
 * what a simulator answers; each row names the part of the service that owns the operation.
 */
export type OperationTable = Readonly<Record<string, Operation>>;

/**
 * A table row: the operation typed with the SDK's input type. The SDK has already serialised and
 * validated the input against that type, so the simulator reads it as such.
 */
export function operation<I>(run: (input: I) => object | Promise<object>): Operation {
  return (input) => run(input as I);
}

/** The table's row for an operation, or `unknown(operation)` when the table does not hold it. */
export function lookupOperation(
  table: OperationTable,
  name: string,
  unknown: (operation: string) => Error,
): Operation {
  const run = Object.hasOwn(table, name) ? table[name] : undefined;
  if (run === undefined) throw unknown(name);
  return run;
}

/** `SimService.handle` over an operation table, for a service that checks nothing before the row runs. */
export async function dispatch(
  table: OperationTable,
  name: string,
  input: unknown,
  unknown: (operation: string) => Error,
): Promise<object> {
  return lookupOperation(table, name, unknown)(input);
}
