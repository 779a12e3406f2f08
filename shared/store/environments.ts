import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from '../domain/zod';
import { parseOrThrow } from '../runtime/validation';
import type { AuditLog } from './audit-log';
import {
  Expr,
  OptionalActor,
  VersionNumber,
  defined,
  field,
  fromItem,
  isConditionFailure,
  type Item,
  type StoreCore,
} from './core';
import { LockHeldError, LockNotHeldError, StaleVersionError } from './errors';
import { KeyName, keys } from './keys';
import {
  EnvironmentPatch,
  EnvironmentState,
  LockRequest,
  auditTarget,
  type EnvironmentLock,
  type LockRelease,
} from './schemas';

const NonEmpty = z.string().check(z.minLength(1));
const UpdateOptions = z.extend(OptionalActor, { lockHolder: z.optional(NonEmpty) });
const RenewRequest = z.omit(LockRequest, { deploymentId: true });
const ReleaseRequest = z.object({ holder: NonEmpty, actor: z.optional(NonEmpty) });
const ExpiredRelease = z.object({
  holder: NonEmpty,
  expiresAt: z.number().check(z.int()),
  actor: NonEmpty,
  reason: z.optional(z.string()),
});

/**
 * Lock writes try again when what they saw on re-read had changed hands in between (the lock they
 * were refused was gone, or the holder that refused them was themselves).
 */
const LOCK_ATTEMPTS = 3;

/** One item per service environment: its deployed state (optimistic by version) and its lock. */
export class Environments {
  constructor(
    private readonly core: StoreCore,
    private readonly audit: AuditLog,
  ) {}

  async get(service: string, environment: string): Promise<EnvironmentState> {
    const name = field('service', KeyName, service);
    const env = field('environment', KeyName, environment);
    const item = await this.core.getItem(keys.environment(name, env));
    return item
      ? fromItem(EnvironmentState, item, 'environment state')
      : { service: name, environment: env, version: 0 };
  }

  async update(
    service: string,
    environment: string,
    patch: EnvironmentPatch,
    expectedVersion: number,
    options: { actor?: string; lockHolder?: string },
  ): Promise<EnvironmentState> {
    const name = field('service', KeyName, service);
    const env = field('environment', KeyName, environment);
    const changes = parseOrThrow(EnvironmentPatch, patch, 'environment patch');
    const expected = field('expectedVersion', VersionNumber, expectedVersion);
    const { actor, lockHolder } = parseOrThrow(UpdateOptions, options, 'updateEnvironmentState options');
    const target = auditTarget.environment(name, env);
    const now = this.core.now();
    const updatedAt = new Date(now).toISOString();

    const e = new Expr();
    const toSet: Record<string, unknown> = {};
    const toRemove: string[] = [];
    for (const [name, value] of Object.entries(changes)) {
      if (value === null) toRemove.push(e.n(name));
      else if (value !== undefined) toSet[name] = value;
    }
    const sets = e.sets({
      ...toSet,
      kind: 'environment',
      service: name,
      environment: env,
      version: expected + 1,
      updatedAt,
    });
    const conditions = [
      expected === 0
        ? `(attribute_not_exists(${e.n('version')}) OR ${e.n('version')} = ${e.v(0)})`
        : `${e.n('version')} = ${e.v(expected)}`,
    ];
    if (lockHolder !== undefined) {
      conditions.push(`${e.n('lock.holder')} = ${e.v(lockHolder)}`, `${e.n('lock.expiresAt')} > ${e.v(now)}`);
    }

    let before: EnvironmentState;
    let after: EnvironmentState;
    try {
      const result = await this.core.client.send(
        new UpdateCommand({
          TableName: this.core.tableName,
          Key: keys.environment(name, env),
          UpdateExpression: `SET ${sets.join(', ')}${toRemove.length > 0 ? ` REMOVE ${toRemove.join(', ')}` : ''}`,
          ConditionExpression: conditions.join(' AND '),
          ReturnValues: 'ALL_OLD',
          ...e.params(),
        }),
      );
      const old: Item = result.Attributes ?? { service: name, environment: env, version: 0 };
      before = fromItem(EnvironmentState, old, 'environment state');
      const next: Item = {
        ...old,
        ...toSet,
        service: name,
        environment: env,
        version: expected + 1,
        updatedAt,
      };
      for (const [key, value] of Object.entries(changes)) if (value === null) delete next[key];
      after = fromItem(EnvironmentState, next, 'environment state');
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const actual = await this.get(name, env);
      if (actual.version !== expected) {
        throw new StaleVersionError(
          `environment ${name}/${env} is at version ${actual.version}, not ${expected}: re-read and retry`,
          target,
          expected,
          actual.version,
          { cause: error },
        );
      }
      throw new LockNotHeldError(
        `environment ${name}/${env}: ${lockHolder ?? 'the caller'} does not hold an unexpired lock` +
          (actual.lock ? ` (held by ${actual.lock.holder})` : ''),
        target,
        actual.lock?.holder,
        { cause: error },
      );
    }
    const { lock: _beforeLock, ...beforeState } = before;
    const { lock: _afterLock, ...afterState } = after;
    return this.audit.change(
      {
        actor: actor ?? lockHolder ?? 'kiln',
        action: 'environment.update',
        target,
        service: name,
        before: beforeState,
        after: afterState,
        deploymentId: after.lock?.deploymentId,
      },
      after,
    );
  }

  async acquireLock(service: string, environment: string, request: LockRequest): Promise<EnvironmentLock> {
    const name = field('service', KeyName, service);
    const env = field('environment', KeyName, environment);
    const { holder, deploymentId, leaseMs } = parseOrThrow(LockRequest, request, 'lock request');
    const target = auditTarget.environment(name, env);

    for (let attempt = 1; ; attempt++) {
      const now = this.core.now();
      const lock: EnvironmentLock = defined({
        holder,
        deploymentId,
        acquiredAt: now,
        expiresAt: now + leaseMs,
      });
      const e = new Expr();
      const sets = e.sets({ lock, kind: 'environment', service: name, environment: env });
      sets.push(`${e.n('version')} = if_not_exists(${e.n('version')}, ${e.v(0)})`);
      let previous: EnvironmentLock | undefined;
      try {
        const result = await this.core.client.send(
          new UpdateCommand({
            TableName: this.core.tableName,
            Key: keys.environment(name, env),
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression:
              `attribute_not_exists(${e.n('lock')}) OR ${e.n('lock.expiresAt')} <= ${e.v(now)}` +
              ` OR ${e.n('lock.holder')} = ${e.v(holder)}`,
            ReturnValues: 'ALL_OLD',
            ...e.params(),
          }),
        );
        previous = result.Attributes
          ? fromItem(EnvironmentState, result.Attributes, 'environment state').lock
          : undefined;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const current = (await this.get(name, env)).lock;
        const stillHeld = current && current.holder !== holder && current.expiresAt > this.core.now();
        if (stillHeld || attempt >= LOCK_ATTEMPTS) {
          throw new LockHeldError(
            `environment ${name}/${env} is locked by ${current?.holder ?? 'another holder'}` +
              (current ? ` until ${new Date(current.expiresAt).toISOString()}` : ''),
            target,
            current?.holder ?? 'unknown',
            current?.expiresAt ?? 0,
            current?.deploymentId,
            { cause: error },
          );
        }
        // The lock changed hands between our write and our read: try again with fresh eyes.
        continue;
      }
      // The lock is ours now, whatever becomes of its audit entry (that outcome is reported apart).
      if (previous?.holder === holder) return lock;
      return this.audit.change(
        {
          actor: holder,
          action: previous ? 'lock.takeover' : 'lock.acquire',
          target,
          service: name,
          deploymentId,
          before: previous,
          after: lock,
        },
        lock,
      );
    }
  }

  async renewLock(
    service: string,
    environment: string,
    request: { holder: string; leaseMs: number },
  ): Promise<EnvironmentLock> {
    const name = field('service', KeyName, service);
    const env = field('environment', KeyName, environment);
    const { holder, leaseMs } = parseOrThrow(RenewRequest, request, 'lock request');
    const e = new Expr();
    try {
      const result = await this.core.client.send(
        new UpdateCommand({
          TableName: this.core.tableName,
          Key: keys.environment(name, env),
          UpdateExpression: `SET ${e.n('lock.expiresAt')} = ${e.v(this.core.now() + leaseMs)}`,
          // An expired lease nobody took over is still the holder's to renew: no one else relied on it.
          ConditionExpression: `${e.n('lock.holder')} = ${e.v(holder)}`,
          ReturnValues: 'ALL_NEW',
          ...e.params(),
        }),
      );
      const lock = result.Attributes
        ? fromItem(EnvironmentState, result.Attributes, 'environment state').lock
        : undefined;
      if (!lock) throw new Error(`renewLock on ${name}/${env} returned no lock`);
      return lock;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const current = (await this.get(name, env)).lock;
      throw lockNotHeld(name, env, holder, 'renew', current, error);
    }
  }

  async releaseLock(
    service: string,
    environment: string,
    request: { holder: string; actor?: string },
  ): Promise<LockRelease> {
    const name = field('service', KeyName, service);
    const env = field('environment', KeyName, environment);
    const { holder, actor } = parseOrThrow(ReleaseRequest, request, 'lock release');
    for (let attempt = 1; ; attempt++) {
      const e = new Expr();
      let previous: EnvironmentLock | undefined;
      try {
        const result = await this.core.client.send(
          new UpdateCommand({
            TableName: this.core.tableName,
            Key: keys.environment(name, env),
            UpdateExpression: `REMOVE ${e.n('lock')}`,
            ConditionExpression: `${e.n('lock.holder')} = ${e.v(holder)}`,
            ReturnValues: 'ALL_OLD',
            ...e.params(),
          }),
        );
        previous = result.Attributes
          ? fromItem(EnvironmentState, result.Attributes, 'environment state').lock
          : undefined;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const current = (await this.get(name, env)).lock;
        // Free: this holder's release already happened (a repeated step, a re-sent request), or its
        // lease ran out and whoever took it over has let go. Either way it holds nothing: done.
        if (!current) return { outcome: 'already-free' };
        // Someone else's now: the caller must learn that its lease was lost while it worked.
        if (current.holder !== holder || attempt >= LOCK_ATTEMPTS) {
          throw lockNotHeld(name, env, holder, 'release', current, error);
        }
        // Held by this very holder again (it re-acquired meanwhile): release that.
        continue;
      }
      // The condition required the lock, so the old image always holds it.
      if (!previous) throw new Error(`releaseLock on ${name}/${env} returned no old lock`);
      const released: LockRelease = { outcome: 'released', lock: previous };
      return this.audit.change(
        {
          actor: actor ?? holder,
          action: 'lock.release',
          target: auditTarget.environment(name, env),
          service: name,
          deploymentId: previous.deploymentId,
          before: previous,
        },
        released,
      );
    }
  }
  /**
   * Lets go of a lease that ran out, on behalf of `actor` (the reconciler), only if it is still
   * exactly the lease the caller saw expire (same holder, same expiry): a holder that renewed in
   * between, or another that took the lock over, keeps it (`changed`, nothing written).
   */
  async releaseExpiredLock(
    service: string,
    environment: string,
    request: { holder: string; expiresAt: number; actor: string; reason?: string },
  ): Promise<{ outcome: 'released'; lock: EnvironmentLock } | { outcome: 'changed' }> {
    const name = field('service', KeyName, service);
    const env = field('environment', KeyName, environment);
    const { holder, expiresAt, actor, reason } = parseOrThrow(
      ExpiredRelease,
      request,
      'expired lock release',
    );
    const now = this.core.now();
    if (expiresAt > now) return { outcome: 'changed' };
    const e = new Expr();
    let previous: EnvironmentLock | undefined;
    try {
      const result = await this.core.client.send(
        new UpdateCommand({
          TableName: this.core.tableName,
          Key: keys.environment(name, env),
          UpdateExpression: `REMOVE ${e.n('lock')}`,
          ConditionExpression: `${e.n('lock.holder')} = ${e.v(holder)} AND ${e.n('lock.expiresAt')} = ${e.v(expiresAt)}`,
          ReturnValues: 'ALL_OLD',
          ...e.params(),
        }),
      );
      previous = result.Attributes
        ? fromItem(EnvironmentState, result.Attributes, 'environment state').lock
        : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return { outcome: 'changed' };
      throw error;
    }
    if (!previous) throw new Error(`releaseExpiredLock on ${name}/${env} returned no old lock`);
    return this.audit.change(
      {
        actor,
        action: 'lock.release-expired',
        target: auditTarget.environment(name, env),
        service: name,
        deploymentId: previous.deploymentId,
        before: previous,
        ...(reason === undefined ? {} : { reason }),
      },
      { outcome: 'released' as const, lock: previous },
    );
  }
}

function lockNotHeld(
  service: string,
  environment: string,
  holder: string,
  verb: string,
  current: EnvironmentLock | undefined,
  cause: unknown,
): LockNotHeldError {
  return new LockNotHeldError(
    `cannot ${verb} the lock on ${service}/${environment}: ${holder} does not hold it` +
      (current ? ` (held by ${current.holder})` : ' (it is free)'),
    auditTarget.environment(service, environment),
    current?.holder,
    { cause },
  );
}
