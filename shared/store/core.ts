import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from '../domain/zod';
import { parseOrThrow } from '../runtime/validation';
import { GSI1, GSI1PK, GSI1SK, PK, SK, decodeCursor, encodeCursor, itemKey } from './keys';
import { PageRequest, type Page } from './schemas';

/**
 * What every part of the store shares: the client and table, the clock, and the few ways it
 * reads and writes single items (key design in ./keys.ts, the store's rules in ./store.ts).
 */

export type Item = Record<string, unknown>;

const DEFAULT_PAGE_SIZE = 25;

/** The attribute in which a record made once keeps the token of the write that made it. */
const WRITE_TOKEN = 'writeToken';

/** Builds expression attribute names/values so each expression stays readable. */
export class Expr {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  private counter = 0;

  /** `#name` placeholder; dotted paths become `#a.#b`. */
  n(path: string): string {
    return path
      .split('.')
      .map((part) => {
        this.names[`#${part}`] = part;
        return `#${part}`;
      })
      .join('.');
  }

  v(value: unknown): string {
    const placeholder = `:v${this.counter++}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  /** `#a = :v0, #b = :v1` for every field whose value is not undefined. */
  sets(fields: Record<string, unknown>): string[] {
    return Object.entries(fields)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => `${this.n(name)} = ${this.v(value)}`);
  }

  params(): {
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Record<string, unknown>;
  } {
    return {
      ...(Object.keys(this.names).length > 0 ? { ExpressionAttributeNames: this.names } : {}),
      ...(Object.keys(this.values).length > 0 ? { ExpressionAttributeValues: this.values } : {}),
    };
  }
}

/** Drops undefined values at any depth: DynamoDB has no `undefined`, and the client may not be set to remove them. */
export function defined<T>(value: T): T {
  if (Array.isArray(value)) return value.map((entry: unknown) => defined(entry)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(value)) if (entry !== undefined) out[key] = defined(entry);
    return out as T;
  }
  return value;
}

/** Stable JSON (sorted keys) for comparing content regardless of key order. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, entry]) => entry !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${canonical(entry)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * A write whose condition failed: DynamoDB wrote nothing
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html).
 */
export function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** Parses a stored item; a mismatch means the table holds data this code did not write. */
export function fromItem<S extends z.core.$ZodType>(schema: S, item: Item, what: string): z.infer<S> {
  const result = z.safeParse(schema, item);
  if (result.success) return result.data;
  throw new Error(
    `stored ${what} ${String(item[PK])}/${String(item[SK])} is malformed: ${result.error.message}`,
  );
}

/** Parses one argument so that an error names it (`invalid service: service: must not be empty`). */
export function field<S extends z.core.$ZodType>(name: string, schema: S, value: unknown): z.infer<S> {
  return parseOrThrow(schema, value, name, [name]);
}

const Actor = z.string().check(z.minLength(1));
export const ActorOption = z.object({ actor: Actor });
export const OptionalActor = z.object({ actor: z.optional(Actor) });
export const VersionNumber = z.number().check(z.int(), z.gte(0));
const TableName = z.string().check(z.minLength(1));

export class StoreCore {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Epoch milliseconds. */
  readonly now: () => number;

  constructor(options: { client: DynamoDBDocumentClient; tableName: string; now?: () => number }) {
    this.client = options.client;
    this.tableName = field('tableName', TableName, options.tableName);
    this.now = options.now ?? Date.now;
  }

  iso(): string {
    return new Date(this.now()).toISOString();
  }

  async getItem(key: Record<string, string>): Promise<Item | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return result.Item;
  }

  /**
   * Creates an item only if nothing has its key yet: the store's create-only write. When the key
   * is taken it writes nothing and returns the ConditionalCheckFailedException, so the caller can
   * decide (an idempotent repeat, a conflict, or a fresh key); any other error is thrown.
   */
  async createItem(item: Item): Promise<{ created: true } | { created: false; error: unknown }> {
    const e = new Expr();
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: `attribute_not_exists(${e.n(PK)})`,
          ...e.params(),
        }),
      );
      return { created: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return { created: false, error };
    }
  }

  /**
   * createItem for a record made once, stamped with the writer's `token` (AuditLog.nextWrite).
   * When the key is taken by an item with the same token, that item is this very write: the SDK
   * re-sent it after a lost response (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html)
   * and the first attempt had landed. It then counts as created, once; otherwise the caller gets
   * the item that was there first.
   */
  async createOnce(
    item: Item,
    token: string,
  ): Promise<{ created: true } | { created: false; existing: Item | undefined; error: unknown }> {
    const write = await this.createItem({ ...item, [WRITE_TOKEN]: token });
    if (write.created) return write;
    const existing = await this.getItem({ [PK]: String(item[PK]), [SK]: String(item[SK]) });
    if (existing?.[WRITE_TOKEN] === token) return { created: true };
    return { created: false, existing, error: write.error };
  }

  /**
   * One page of a Query, newest/oldest first per `forward`. Limit counts items *evaluated*, before
   * any FilterExpression (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html),
   * so a filtered listing keeps reading until it has `limit` matches or the partition ends, and
   * its cursor is then the key of the last item it returned.
   */
  async queryPage<T>(query: {
    index: boolean;
    partition: string;
    forward: boolean;
    page: PageRequest;
    sortKeyPrefix?: string;
    sortKeyBelow?: string;
    filter?: (e: Expr) => string;
    parse: (item: Item) => T;
  }): Promise<Page<T>> {
    const { limit = DEFAULT_PAGE_SIZE, cursor } = parseOrThrow(PageRequest, query.page, 'page');
    const partitionAttribute = query.index ? GSI1PK : PK;
    const sortAttribute = query.index ? GSI1SK : SK;
    let startKey: Record<string, unknown> | undefined = decodeCursor(cursor, {
      attribute: partitionAttribute,
      value: query.partition,
    });
    const items: T[] = [];
    for (;;) {
      const remaining = limit - items.length;
      const e = new Expr();
      let keyCondition = `${e.n(partitionAttribute)} = ${e.v(query.partition)}`;
      if (query.sortKeyPrefix !== undefined) {
        keyCondition += ` AND begins_with(${e.n(sortAttribute)}, ${e.v(query.sortKeyPrefix)})`;
      }
      if (query.sortKeyBelow !== undefined) {
        keyCondition += ` AND ${e.n(sortAttribute)} < ${e.v(query.sortKeyBelow)}`;
      }
      const filter = query.filter?.(e);
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          ...(query.index ? { IndexName: GSI1 } : { ConsistentRead: true }),
          KeyConditionExpression: keyCondition,
          ...(filter === undefined ? {} : { FilterExpression: filter }),
          ScanIndexForward: query.forward,
          // Unfiltered, read exactly what is left; filtered, read ahead since some will not match.
          Limit: filter === undefined ? remaining : Math.max(remaining, DEFAULT_PAGE_SIZE),
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          ...e.params(),
        }),
      );
      const page = result.Items ?? [];
      for (const [position, item] of page.entries()) {
        items.push(query.parse(item));
        if (items.length === limit) {
          const more = position < page.length - 1 || result.LastEvaluatedKey !== undefined;
          return more ? { items, cursor: encodeCursor(itemKey(item, query.index)) } : { items };
        }
      }
      if (!result.LastEvaluatedKey) return { items };
      startKey = result.LastEvaluatedKey;
    }
  }
}
