import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from '../domain/zod';
import { parseOrThrow } from '../runtime/validation';
import type { AuditLog } from './audit-log';
import {
  ActorOption,
  Expr,
  VersionNumber,
  defined,
  field,
  fromItem,
  isConditionFailure,
  type Item,
  type StoreCore,
} from './core';
import { StaleVersionError } from './errors';
import { KeyName, PK, keys, partitions } from './keys';
import { ServiceRecord, auditTarget, type NamedManifest, type Page, type PageRequest } from './schemas';

const OptionalVersion = z.optional(VersionNumber);
const PutOptions = z.extend(ActorOption, { expectedVersion: OptionalVersion });

/** Services: the current manifest (the point of truth) and a copy of every version. */
export class Services<M extends NamedManifest> {
  constructor(
    private readonly core: StoreCore,
    private readonly audit: AuditLog,
  ) {}

  async put(manifest: M, options: { actor: string; expectedVersion?: number }): Promise<ServiceRecord<M>> {
    const service = field('manifest name', KeyName, manifest.name);
    const { actor, expectedVersion } = parseOrThrow(PutOptions, options, 'putServiceManifest options');
    const previous = await this.get(service);
    const expected = expectedVersion ?? previous?.version ?? 0;
    const at = this.core.iso();
    const next = expected + 1;

    const e = new Expr();
    const sets = e.sets({
      kind: 'service',
      service,
      manifest: defined(manifest),
      version: next,
      updatedAt: at,
      updatedBy: actor,
      ...keys.serviceIndex(service),
    });
    sets.push(`${e.n('createdAt')} = if_not_exists(${e.n('createdAt')}, ${e.v(at)})`);
    const condition =
      expected === 0 ? `attribute_not_exists(${e.n(PK)})` : `${e.n('version')} = ${e.v(expected)}`;
    let createdAt = at;
    try {
      const result = await this.core.client.send(
        new UpdateCommand({
          TableName: this.core.tableName,
          Key: keys.service(service),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: condition,
          ReturnValues: 'ALL_NEW',
          ...e.params(),
        }),
      );
      const stored = result.Attributes?.createdAt;
      if (typeof stored === 'string') createdAt = stored;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const actual = await this.get(service);
      throw new StaleVersionError(
        `service ${service} is at manifest version ${actual?.version ?? 0}, not ${expected}: re-read and apply again`,
        auditTarget.service(service),
        expected,
        actual?.version,
        { cause: error },
      );
    }

    const record: ServiceRecord<M> = {
      service,
      manifest,
      version: next,
      createdAt,
      updatedAt: at,
      updatedBy: actor,
    };
    await this.core.client.send(
      new PutCommand({
        TableName: this.core.tableName,
        Item: defined({ ...keys.manifestVersion(service, next), kind: 'manifest-version', ...record }),
      }),
    );
    return this.audit.change(
      {
        actor,
        action: 'service.apply',
        target: auditTarget.service(service),
        service,
        before: previous ? { version: previous.version } : undefined,
        after: { version: next },
      },
      record,
    );
  }

  async get(service: string, options: { version?: number } = {}): Promise<ServiceRecord<M> | undefined> {
    const name = field('service', KeyName, service);
    const version = field('version', OptionalVersion, options.version);
    const current = await this.core.getItem(keys.service(name));
    const currentRecord = current ? this.toRecord(current) : undefined;
    if (version === undefined || currentRecord?.version === version) return currentRecord;
    // The history copy is written after the current item: the newest one may be only current.
    const old = await this.core.getItem(keys.manifestVersion(name, version));
    return old ? this.toRecord(old) : undefined;
  }

  async list(page: PageRequest): Promise<Page<ServiceRecord<M>>> {
    return this.core.queryPage({
      index: true,
      partition: partitions.services,
      forward: true,
      page,
      parse: (item) => this.toRecord(item),
    });
  }

  async listVersions(service: string, page: PageRequest): Promise<Page<ServiceRecord<M>>> {
    const name = field('service', KeyName, service);
    return this.core.queryPage({
      index: false,
      partition: partitions.manifestVersions(name),
      sortKeyPrefix: 'MANIFEST#',
      forward: false,
      page,
      parse: (item) => this.toRecord(item),
    });
  }

  private toRecord(item: Item): ServiceRecord<M> {
    const record = fromItem(ServiceRecord, item, 'service');
    // The manifest was validated by parseManifest before it was stored; the store keeps it whole.
    return { ...record, manifest: item.manifest as M };
  }
}
