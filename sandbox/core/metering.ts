/**
 * What a run would be billed for, counted where the simulation can see it (the cost estimate in
 * bench/cost.ts prices it). Two meters, both read-only with respect to the run — they change no
 * timeline entry and nothing Kiln's code sees:
 *
 * - **Per Lambda invocation**: the SDK calls made while the invocation ran, by service. The
 *   sandbox's clock does not move during an API call (every call takes 0 virtual ms), so a
 *   function's billed duration cannot be read off the virtual clock alone; the calls let the
 *   estimate add a round trip per call. Carried by AsyncLocalStorage, which survives the fake
 *   timers (TOOLCHAIN.md), so a call in a retry backoff still counts for its invocation.
 * - **DynamoDB request units** (opt-in: EngineOptions.meterDynamo): every request to dynalite is
 *   sent with `ReturnConsumedCapacity: TOTAL` (unless the caller asked for it), the units dynalite
 *   computes from the item sizes — reads rounded up to 4 KB, halved when eventually consistent;
 *   writes rounded up to 1 KB, the larger of the item before and after
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html)
 *   — are recorded here, and the field is removed from the answer again when the caller did not
 *   ask for it. dynalite reports the table's units only, not its global secondary indexes', so
 *   each write also records whether it set an index key attribute; the estimate adds the index's
 *   writes from that.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** The SDK calls one invocation made, by SDK service id (each attempt counts). */
export interface InvocationCalls {
  /** False once the invocation returned: work it left running is no longer its own. */
  open: boolean;
  calls: Record<string, number>;
}

const invocationCalls = new AsyncLocalStorage<InvocationCalls>();

/** Runs one invocation's handler with its own call counter. */
export function meterInvocation<T>(calls: InvocationCalls, fn: () => Promise<T>): Promise<T> {
  return invocationCalls.run(calls, fn);
}

/** Whether the current code runs inside a Lambda invocation that has not returned yet. */
export function insideInvocation(): boolean {
  return invocationCalls.getStore()?.open === true;
}

/** Counts one SDK attempt against the invocation it is made in, if any. */
export function countInvocationCall(serviceId: string): void {
  const current = invocationCalls.getStore();
  if (current === undefined || !current.open) return;
  current.calls[serviceId] = (current.calls[serviceId] ?? 0) + 1;
}

export type DynamoRequestKind = 'read' | 'write';

/** One metered DynamoDB request (one SDK attempt that reached dynalite). */
export interface DynamoRequest {
  /** Virtual ms since the engine's epoch. */
  atMs: number;
  caller: string;
  /** Made by a Lambda invocation (not a story's or the CLI's own client, whatever its caller tag). */
  invoked: boolean;
  operation: string;
  kind: DynamoRequestKind;
  /** Capacity units the table consumed, as dynalite reports them (1 for a failed condition). */
  units: number;
  /** The item written (its table key as sent, marshalled, in JSON): an identity, for writes of one item. */
  item?: string;
  /** The write sets or removes an attribute that is a global secondary index's key. */
  setsIndexKey?: boolean;
  /** The write's condition failed (ConditionalCheckFailedException). */
  conditionFailed?: boolean;
}

const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

type Attributes = Record<string, unknown>;
const isRecord = (value: unknown): value is Attributes =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Sum of `CapacityUnits` over a ConsumedCapacity answer (one object, or a list for batches). */
function capacityOf(consumed: unknown): number {
  const list = Array.isArray(consumed) ? consumed : [consumed];
  return list.reduce<number>(
    (sum, entry) =>
      sum + (isRecord(entry) && typeof entry.CapacityUnits === 'number' ? entry.CapacityUnits : 0),
    0,
  );
}

export class DynamoMeter {
  readonly requests: DynamoRequest[] = [];
  private keyAttributes: string[] = [];
  private indexKeyAttributes = new Set<string>();

  /** The table's key and index key attribute names (from its CreateTable request). */
  describeTable(input: { KeySchema?: unknown; GlobalSecondaryIndexes?: unknown }): void {
    const names = (schema: unknown): string[] =>
      Array.isArray(schema)
        ? schema.flatMap((k) => (isRecord(k) && typeof k.AttributeName === 'string' ? [k.AttributeName] : []))
        : [];
    this.keyAttributes = names(input.KeySchema);
    const indexes = Array.isArray(input.GlobalSecondaryIndexes) ? input.GlobalSecondaryIndexes : [];
    for (const index of indexes)
      if (isRecord(index)) for (const n of names(index.KeySchema)) this.indexKeyAttributes.add(n);
  }

  /** Whether `operation` is metered (reads and writes; table administration is free). */
  meters(operation: string): boolean {
    return READS.has(operation) || WRITES.has(operation);
  }

  /** Records a request that reached dynalite: `input` as sent (marshalled), `output` as answered. */
  record(atMs: number, caller: string, operation: string, input: unknown, output: unknown): void {
    if (!this.meters(operation)) return;
    const units = capacityOf(isRecord(output) ? output.ConsumedCapacity : undefined);
    this.requests.push({
      atMs,
      caller,
      invoked: insideInvocation(),
      operation,
      units,
      ...this.describeWrite(operation, input),
    });
  }

  /**
   * A conditional write whose condition failed still consumes write capacity: "DynamoDB still
   * consumes write capacity units ... a minimum of 1" (read-write-operations.html, Conditional
   * writes). dynalite answers the error without ConsumedCapacity, so the minimum is recorded.
   */
  recordConditionFailed(atMs: number, caller: string, operation: string, input: unknown): void {
    if (!WRITES.has(operation)) return;
    this.requests.push({
      atMs,
      caller,
      invoked: insideInvocation(),
      operation,
      units: 1,
      ...this.describeWrite(operation, input),
      setsIndexKey: false,
      conditionFailed: true,
    });
  }

  private describeWrite(
    operation: string,
    input: unknown,
  ): Pick<DynamoRequest, 'kind' | 'item' | 'setsIndexKey'> {
    if (!WRITES.has(operation)) return { kind: 'read' };
    if (!isRecord(input) || operation === 'BatchWriteItem') return { kind: 'write' };
    const source = operation === 'PutItem' ? input.Item : input.Key;
    const key = isRecord(source)
      ? JSON.stringify(this.keyAttributes.map((name) => source[name] ?? null))
      : undefined;
    let setsIndexKey = false;
    if (operation === 'PutItem' && isRecord(input.Item)) {
      setsIndexKey = Object.keys(input.Item).some((name) => this.indexKeyAttributes.has(name));
    } else if (operation === 'UpdateItem' && typeof input.UpdateExpression === 'string') {
      // An index key named in the update, literally or through ExpressionAttributeNames.
      const aliases = isRecord(input.ExpressionAttributeNames) ? input.ExpressionAttributeNames : {};
      const named = (input.UpdateExpression.match(/#?[A-Za-z0-9_]+/g) ?? []).map((token) =>
        token.startsWith('#') ? String(aliases[token] ?? '') : token,
      );
      setsIndexKey = named.some((name) => this.indexKeyAttributes.has(name));
    }
    return { kind: 'write', ...(key === undefined ? {} : { item: key }), setsIndexKey };
  }
}
