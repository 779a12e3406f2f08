import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  INITIAL_DEPLOYMENT_STATUS,
  IllegalTransitionError,
  canTransition,
  predecessorsOf,
  transition,
} from '../domain/deployment';
import * as z from '../domain/zod';
import { parseOrThrow } from '../runtime/validation';
import type { AuditLog } from './audit-log';
import {
  Expr,
  OptionalActor,
  VersionNumber,
  canonical,
  defined,
  field,
  fromItem,
  isConditionFailure,
  type Item,
  type StoreCore,
} from './core';
import { ConflictError, NotFoundError, StaleStatusError, StaleVersionError } from './errors';
import { KeyName, PK, keys, partitions } from './keys';
import {
  Deployment,
  DeploymentInput,
  DeploymentMove,
  DeploymentPatch,
  StepInput,
  auditTarget,
  type Page,
  type PageRequest,
} from './schemas';

const AppendStepOptions = z.extend(OptionalActor, { expectedVersion: z.optional(VersionNumber) });
const OptionalKeyName = z.optional(KeyName);

/**
 * The deployment item keeps, in a string set, the write token of every step appended to it: an
 * append is not idempotent by itself (list_append adds again), and the token lets a re-sent
 * append recognise that it already landed. `ADD` creates the set on the first step
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html#Expressions.UpdateExpressions.ADD);
 * `contains(set, token)` is false while it does not exist
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html#Expressions.OperatorsAndFunctions.Functions).
 */
const STEP_TOKENS = 'stepTokens';

/**
 * The write token of the last status move, set in the same write: a move is conditional on the
 * status it leaves, so a re-sent move fails its condition, and the token tells it that it landed.
 */
const MOVE_TOKEN = 'moveToken';

/** Deployments: their status and outcome (optimistic by version) and their step history. */
export class Deployments {
  constructor(
    private readonly core: StoreCore,
    private readonly audit: AuditLog,
  ) {}

  async create(input: DeploymentInput): Promise<Deployment> {
    const parsed = parseOrThrow(DeploymentInput, input, 'deployment');
    const at = this.core.iso();
    const record: Deployment = {
      ...parsed,
      status: INITIAL_DEPLOYMENT_STATUS,
      steps: [],
      createdAt: at,
      updatedAt: at,
      version: 1,
    };
    const write = await this.core.createOnce(
      defined({
        ...keys.deployment(parsed.id),
        ...keys.deploymentIndex(parsed.service, at, parsed.id),
        kind: 'deployment',
        ...record,
      }),
      this.audit.nextWrite(),
    );
    if (!write.created) {
      if (!write.existing) throw write.error;
      const existing = fromItem(Deployment, write.existing, 'deployment');
      const identity = (d: typeof parsed) => ({
        service: d.service,
        releaseVersion: d.releaseVersion,
        environments: d.environments,
        trigger: d.trigger,
        actor: d.actor,
      });
      if (canonical(identity(existing)) === canonical(identity(parsed))) return existing;
      throw new ConflictError(
        `deployment ${parsed.id} already exists for ${existing.service}@${existing.releaseVersion}`,
        auditTarget.deployment(parsed.id),
        { cause: write.error },
      );
    }
    return this.audit.change(
      {
        actor: parsed.actor,
        action: 'deployment.create',
        target: auditTarget.deployment(parsed.id),
        service: parsed.service,
        deploymentId: parsed.id,
        after: {
          status: record.status,
          releaseVersion: record.releaseVersion,
          environments: record.environments,
          trigger: record.trigger,
        },
        reason: parsed.reason,
      },
      record,
    );
  }

  async get(id: string): Promise<Deployment | undefined> {
    const item = await this.core.getItem(keys.deployment(field('deployment id', KeyName, id)));
    return item ? fromItem(Deployment, item, 'deployment') : undefined;
  }

  async update(
    id: string,
    patch: DeploymentPatch,
    expectedVersion: number,
    options: { actor?: string },
  ): Promise<Deployment> {
    const deploymentId = field('deployment id', KeyName, id);
    const changes = parseOrThrow(DeploymentPatch, patch, 'deployment patch');
    const expected = field('expectedVersion', VersionNumber, expectedVersion);
    const { actor } = parseOrThrow(OptionalActor, options, 'updateDeployment options');
    const e = new Expr();
    const updatedAt = this.core.iso();
    const to = changes.status;
    // A status change is legal only from the statuses the domain allows: checked in the write
    // itself, so it holds against any writer (`IN` with an empty list is not valid syntax).
    const from = to === undefined ? [] : predecessorsOf(to);
    const { before, after } = await this.updateItem(deploymentId, e, {
      update: `SET ${e.sets({ ...changes, updatedAt, version: expected + 1 }).join(', ')}`,
      ...(to === undefined
        ? {}
        : {
            condition:
              from.length === 0
                ? `attribute_not_exists(${e.n(PK)})`
                : `${e.n('status')} IN (${from.map((status) => e.v(status)).join(', ')})`,
            refused: (actual: Deployment, cause: unknown) =>
              actual.version === expected && !canTransition(actual.status, to)
                ? new IllegalTransitionError(deploymentId, actual.status, to, { cause })
                : undefined,
          }),
      expectedVersion: expected,
      apply: (old) =>
        fromItem(Deployment, { ...old, ...defined(changes), updatedAt, version: expected + 1 }, 'deployment'),
    });
    return this.audit.change(
      {
        actor: actor ?? after.actor,
        action: 'deployment.update',
        target: auditTarget.deployment(deploymentId),
        service: after.service,
        deploymentId,
        before: { status: before.status, outcome: before.outcome, reason: before.reason },
        after: { status: after.status, outcome: after.outcome, reason: after.reason },
        reason: changes.reason,
      },
      after,
    );
  }

  /**
   * Moves the status from `from` (what the caller read) to `to`, whatever else changed meanwhile
   * (steps appended, say): the write is conditional on the status still being `from`, so of two
   * writers that read the same status only one moves it. An illegal move is refused before any
   * write.
   */
  async move(id: string, move: DeploymentMove, options: { actor?: string }): Promise<Deployment> {
    const deploymentId = field('deployment id', KeyName, id);
    const { from, to, outcome, reason } = parseOrThrow(DeploymentMove, move, 'deployment move');
    const { actor } = parseOrThrow(OptionalActor, options, 'moveDeployment options');
    transition(from, to, deploymentId);
    const token = this.audit.nextWrite();
    const updatedAt = this.core.iso();
    const changes = defined({ status: to, outcome, reason });
    const e = new Expr();
    const sets = [
      ...e.sets({ ...changes, updatedAt, [MOVE_TOKEN]: token }),
      `${e.n('version')} = ${e.n('version')} + ${e.v(1)}`,
    ];
    const { before, after } = await this.updateItem(deploymentId, e, {
      update: `SET ${sets.join(', ')}`,
      condition: `${e.n('status')} = ${e.v(from)}`,
      expectedVersion: undefined,
      apply: (old) =>
        fromItem(Deployment, { ...old, ...changes, updatedAt, version: old.version + 1 }, 'deployment'),
      landed: (item) => item[MOVE_TOKEN] === token,
      refused: (actual, cause) =>
        new StaleStatusError(
          `deployment ${deploymentId} is ${actual.status}, not ${from}: re-read and decide again`,
          auditTarget.deployment(deploymentId),
          from,
          actual.status,
          { cause },
        ),
    });
    return this.audit.change(
      {
        actor: actor ?? after.actor,
        action: 'deployment.move',
        target: auditTarget.deployment(deploymentId),
        service: after.service,
        deploymentId,
        before: { status: before.status, outcome: before.outcome, reason: before.reason },
        after: { status: after.status, outcome: after.outcome, reason: after.reason },
        reason,
      },
      after,
    );
  }

  async appendStep(
    id: string,
    step: StepInput,
    options: { expectedVersion?: number; actor?: string },
  ): Promise<Deployment> {
    const deploymentId = field('deployment id', KeyName, id);
    const input = parseOrThrow(StepInput, step, 'step');
    const { expectedVersion, actor } = parseOrThrow(AppendStepOptions, options, 'appendStep options');
    const updatedAt = this.core.iso();
    const record = defined({ ...input, startedAt: input.startedAt ?? updatedAt });
    const token = this.audit.nextWrite();
    const e = new Expr();
    const sets = [
      `${e.n('steps')} = list_append(${e.n('steps')}, ${e.v([record])})`,
      ...e.sets({ updatedAt }),
      `${e.n('version')} = ${e.n('version')} + ${e.v(1)}`,
    ];
    const tokens = e.n(STEP_TOKENS);
    const { after } = await this.updateItem(deploymentId, e, {
      update: `SET ${sets.join(', ')} ADD ${tokens} ${e.v(new Set([token]))}`,
      condition: `NOT contains(${tokens}, ${e.v(token)})`,
      expectedVersion,
      apply: (old) => ({ ...old, steps: [...old.steps, record], updatedAt, version: old.version + 1 }),
      landed: (item) => item[STEP_TOKENS] instanceof Set && item[STEP_TOKENS].has(token),
    });
    return this.audit.change(
      {
        actor: actor ?? after.actor,
        action: 'deployment.step',
        target: auditTarget.deployment(deploymentId),
        service: after.service,
        deploymentId,
        after: record,
      },
      after,
    );
  }

  async list(service: string, options: PageRequest & { environment?: string }): Promise<Page<Deployment>> {
    const name = field('service', KeyName, service);
    const { environment, ...page } = options;
    const env = field('environment', OptionalKeyName, environment);
    return this.core.queryPage({
      index: true,
      partition: partitions.deployments(name),
      forward: false,
      page,
      ...(env === undefined ? {} : { filter: (e: Expr) => `contains(${e.n('environments')}, ${e.v(env)})` }),
      parse: (item) => fromItem(Deployment, item, 'deployment'),
    });
  }

  /**
   * Runs a deployment UpdateItem guarded by existence (and the expected version, if given).
   * `apply` mirrors the update on the old record, so the result needs no second read (which
   * could already show a later writer's change). When the condition fails, `landed` may
   * recognise the write as already applied (a re-send): its old image is lost then, and both
   * `before` and `after` are the record as read.
   */
  private async updateItem(
    id: string,
    e: Expr,
    write: {
      update: string;
      condition?: string;
      expectedVersion: number | undefined;
      apply: (before: Deployment) => Deployment;
      landed?: (item: Item) => boolean;
      /** After a failed condition: the error that explains it from the record as read, if any. */
      refused?: (actual: Deployment, cause: unknown) => Error | undefined;
    },
  ): Promise<{ before: Deployment; after: Deployment }> {
    const conditions = [`attribute_exists(${e.n(PK)})`];
    if (write.expectedVersion !== undefined)
      conditions.push(`${e.n('version')} = ${e.v(write.expectedVersion)}`);
    if (write.condition !== undefined) conditions.push(write.condition);
    try {
      const result = await this.core.client.send(
        new UpdateCommand({
          TableName: this.core.tableName,
          Key: keys.deployment(id),
          UpdateExpression: write.update,
          ConditionExpression: conditions.join(' AND '),
          ReturnValues: 'ALL_OLD',
          ...e.params(),
        }),
      );
      // The condition requires the item, so a successful update always returns its old image.
      const before = fromItem(Deployment, result.Attributes ?? {}, 'deployment');
      return { before, after: write.apply(before) };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const item = await this.core.getItem(keys.deployment(id));
      if (!item) {
        throw new NotFoundError(`deployment ${id} does not exist`, auditTarget.deployment(id), {
          cause: error,
        });
      }
      const actual = fromItem(Deployment, item, 'deployment');
      if (write.landed?.(item)) return { before: actual, after: actual };
      const refusal = write.refused?.(actual, error);
      if (refusal) throw refusal;
      throw new StaleVersionError(
        `deployment ${id} is at version ${actual.version}, not ${String(write.expectedVersion)}: re-read and retry`,
        auditTarget.deployment(id),
        write.expectedVersion ?? actual.version,
        actual.version,
        { cause: error },
      );
    }
  }
}
