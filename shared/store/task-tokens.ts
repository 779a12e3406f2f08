import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from '../domain/zod';
import { parseOrThrow } from '../runtime/validation';
import { Expr, field, fromItem, isConditionFailure, type StoreCore } from './core';
import { KeyName, PK, TTL, keys, partitions } from './keys';
import { TaskToken, WaitKind, type Page, type PageRequest } from './schemas';

const OptionalWaitKind = z.optional(WaitKind);
const OptionalEpochMs = z.optional(z.number().check(z.int(), z.positive()));

/** Deadline tokens stay readable this long after they expire, so the reconciler can still heal them. */
const TOKEN_TTL_GRACE_SECONDS = 24 * 60 * 60;

function itemOf(token: TaskToken): Record<string, unknown> {
  return {
    ...keys.taskToken(token.waitKind, token.key),
    ...keys.taskTokenIndex(new Date(token.expiresAt).toISOString(), token.waitKind, token.key),
    kind: 'task-token',
    ...token,
    // TTL is epoch seconds (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html).
    // Expiry deletes lazily (typically within days) and expired items still show in reads,
    // so nothing here relies on it; the grace keeps overdue tokens visible to the reconciler.
    [TTL]: Math.ceil(token.expiresAt / 1000) + TOKEN_TTL_GRACE_SECONDS,
  };
}

/**
 * Task tokens of waiting Step Functions tasks, keyed by what they wait for. Not audited: a token
 * is plumbing between a task and the event that resumes it; the deployment's steps record the wait.
 */
export class TaskTokens {
  constructor(private readonly core: StoreCore) {}

  async put(input: TaskToken): Promise<void> {
    const token = parseOrThrow(TaskToken, input, 'task token');
    await this.core.client.send(new PutCommand({ TableName: this.core.tableName, Item: itemOf(token) }));
  }

  /**
   * Puts back a token taken by `take` whose task could not be resumed (AWS failed transiently), so
   * a redelivered event can still resume it; only if no token is stored for the key now: a newer
   * one (the task waited again after a poll) wins. True when it was put back.
   */
  async restore(input: TaskToken): Promise<boolean> {
    const token = parseOrThrow(TaskToken, input, 'task token');
    const e = new Expr();
    try {
      await this.core.client.send(
        new PutCommand({
          TableName: this.core.tableName,
          Item: itemOf(token),
          ConditionExpression: `attribute_not_exists(${e.n(PK)})`,
          ...e.params(),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async take(waitKind: WaitKind, key: string): Promise<TaskToken | undefined> {
    const kind = field('waitKind', WaitKind, waitKind);
    const name = field('key', KeyName, key);
    const e = new Expr();
    try {
      const result = await this.core.client.send(
        new DeleteCommand({
          TableName: this.core.tableName,
          Key: keys.taskToken(kind, name),
          ConditionExpression: `attribute_exists(${e.n(PK)})`,
          ReturnValues: 'ALL_OLD',
          ...e.params(),
        }),
      );
      return result.Attributes ? fromItem(TaskToken, result.Attributes, 'task token') : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async list(
    options: PageRequest & { waitKind?: WaitKind; expiringBefore?: number },
  ): Promise<Page<TaskToken>> {
    const { waitKind, expiringBefore, ...page } = options;
    const kind = field('waitKind', OptionalWaitKind, waitKind);
    const before = field('expiringBefore', OptionalEpochMs, expiringBefore);
    return this.core.queryPage({
      index: true,
      partition: partitions.taskTokens,
      forward: true,
      page,
      ...(before === undefined ? {} : { sortKeyBelow: new Date(before).toISOString() }),
      ...(kind === undefined ? {} : { filter: (e: Expr) => `${e.n('waitKind')} = ${e.v(kind)}` }),
      parse: (item) => fromItem(TaskToken, item, 'task token'),
    });
  }
}
