import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { ServiceManifest } from '../domain/manifest/schema';
import { parseOrThrow } from '../runtime/validation';
import { ConflictError, LockHeldError, LockNotHeldError, NotFoundError, StaleVersionError } from './errors';
import {
  GSI1,
  GSI1PK,
  GSI1SK,
  KeyName,
  PK,
  SK,
  TTL,
  decodeCursor,
  encodeCursor,
  itemKey,
  keys,
  partitions,
} from './keys';
import {
  ArtifactInput,
  ArtifactRecord,
  AuditEntry,
  AuditInput,
  Deployment,
  DeploymentInput,
  DeploymentPatch,
  EnvironmentPatch,
  EnvironmentState,
  LockRequest,
  PageRequest,
  Release,
  ReleaseInput,
  ServiceRecord,
  StepInput,
  TaskToken,
  WaitKind,
  auditTarget,
  type EnvironmentLock,
  type Page,
} from './schemas';

/**
 * KilnStore: the typed repository over Kiln's one DynamoDB table (key design in ./keys.ts).
 *
 * Rules the store keeps:
 * 1. Single-item conditional writes only, no transactions (dynalite has none; DESIGN.md rule 6).
 *    A write whose condition fails throws ConditionalCheckFailedException
 *    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html);
 *    the store re-reads the item consistently and turns that into a named error.
 * 2. Optimistic concurrency by a numeric `version` on services, deployments and environment
 *    state: a write names the version it read and fails with StaleVersionError if it moved.
 * 3. Every method that changes a service, artifact, release, deployment or environment state writes
 *    an audit entry — a second single-item write, not a transaction. If that second write fails
 *    the change stands and the error reaches the caller. Lease renewals are not audited (they
 *    change nothing but an expiry, every few seconds); acquiring, taking over and releasing are.
 * 4. Reads of single items are strongly consistent; listings come from GSI1 and are eventually
 *    consistent (newest writes can be missing from a listing for a moment).
 */

/**
 * What the store needs of a manifest: the service name it is filed under. The store is generic
 * so tests can store small stand-ins; Kiln itself stores the domain's ServiceManifest.
 */
export interface NamedManifest {
  name: string;
}

export interface KilnStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Epoch milliseconds; injectable because the sandbox runs on a virtual clock. */
  now?: () => number;
}

const DEFAULT_PAGE_SIZE = 25;
/** Deadline tokens stay readable this long after they expire, so the reconciler can still heal them. */
const TOKEN_TTL_GRACE_SECONDS = 24 * 60 * 60;
/** Audit keys end in a per-writer sequence number; two writers colliding in one millisecond retry. */
const AUDIT_KEY_ATTEMPTS = 5;
/** Lock acquisition re-tries when the lock it saw held was gone by the time it looked. */
const LOCK_ATTEMPTS = 3;

type Item = Record<string, unknown>;

/** Builds expression attribute names/values so each expression stays readable. */
class Expr {
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
function defined<T>(value: T): T {
  if (Array.isArray(value)) return value.map((entry: unknown) => defined(entry)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(value)) if (entry !== undefined) out[key] = defined(entry);
    return out as T;
  }
  return value;
}

/** Stable JSON (sorted keys) for comparing content regardless of key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, entry]) => entry !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${canonical(entry)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** Parses a stored item; a mismatch means the table holds data this code did not write. */
function fromItem<S extends z.ZodType>(schema: S, item: Item, what: string): z.infer<S> {
  const result = schema.safeParse(item);
  if (result.success) return result.data;
  throw new Error(
    `stored ${what} ${String(item[PK])}/${String(item[SK])} is malformed: ${result.error.message}`,
  );
}

const ActorOption = z.object({ actor: z.string().min(1) });
const OptionalActor = z.object({ actor: z.string().min(1).optional() });
const VersionNumber = z.number().int().min(0);

export class KilnStore<M extends NamedManifest = ServiceManifest> {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly now: () => number;
  private auditSeq = 0;

  constructor(options: KilnStoreOptions) {
    this.client = options.client;
    this.tableName = field('tableName', z.string().min(1), options.tableName);
    this.now = options.now ?? Date.now;
  }

  // -------------------------------------------------------------------------------------------
  // services

  /**
   * Stores a new manifest version for its service. `expectedVersion` is the version the caller
   * read (0: the service must not exist yet); omitted, the store reads it, so only a concurrent
   * apply can make this fail. The current item is the point of truth; the history copy follows.
   */
  async putServiceManifest(
    manifest: M,
    options: { actor: string; expectedVersion?: number },
  ): Promise<ServiceRecord<M>> {
    const service = field('manifest name', KeyName, manifest.name);
    const { actor, expectedVersion } = parseOrThrow(
      ActorOption.extend({ expectedVersion: VersionNumber.optional() }),
      options,
      'putServiceManifest options',
    );
    const previous = await this.getService(service);
    const expected = expectedVersion ?? previous?.version ?? 0;
    const at = this.iso();
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
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
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
      const actual = await this.getService(service);
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
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: defined({ ...keys.manifestVersion(service, next), kind: 'manifest-version', ...record }),
      }),
    );
    await this.audit({
      actor,
      action: 'service.apply',
      target: auditTarget.service(service),
      service,
      before: previous ? { version: previous.version } : undefined,
      after: { version: next },
    });
    return record;
  }

  /** The current manifest of a service, or the one at `version` from its history. */
  async getService(
    service: string,
    options: { version?: number } = {},
  ): Promise<ServiceRecord<M> | undefined> {
    const name = field('service', KeyName, service);
    const version = field('version', VersionNumber.optional(), options.version);
    const current = await this.getItem(keys.service(name));
    const currentRecord = current ? this.toServiceRecord(current) : undefined;
    if (version === undefined || currentRecord?.version === version) return currentRecord;
    // The history copy is written after the current item: the newest one may be only current.
    const old = await this.getItem(keys.manifestVersion(name, version));
    return old ? this.toServiceRecord(old) : undefined;
  }

  /** Services by name. */
  async listServices(page: PageRequest = {}): Promise<Page<ServiceRecord<M>>> {
    return this.queryPage({
      index: true,
      partition: partitions.services,
      forward: true,
      page,
      parse: (item) => this.toServiceRecord(item),
    });
  }

  /** A service's manifest versions, newest first. */
  async listServiceVersions(service: string, page: PageRequest = {}): Promise<Page<ServiceRecord<M>>> {
    const name = field('service', KeyName, service);
    return this.queryPage({
      index: false,
      partition: partitions.manifestVersions(name),
      sortKeyPrefix: 'MANIFEST#',
      forward: false,
      page,
      parse: (item) => this.toServiceRecord(item),
    });
  }

  // -------------------------------------------------------------------------------------------
  // artifacts

  /**
   * Records a published artifact once per service+version+digest. EventBridge delivers at least
   * once, so a second record of the same build is expected: it returns `created: false` and the
   * stored record, and writes no audit entry.
   */
  async recordArtifact(
    input: ArtifactInput,
    options: { actor: string },
  ): Promise<{ created: boolean; artifact: ArtifactRecord }> {
    const artifact = parseOrThrow(ArtifactInput, input, 'artifact');
    const { actor } = parseOrThrow(ActorOption, options, 'recordArtifact options');
    const record: ArtifactRecord = { ...artifact, receivedAt: this.iso(), receivedBy: actor };
    const key = keys.artifact(artifact.service, artifact.version, artifact.digest);
    const write = await this.createItem({
      ...key,
      ...keys.artifactIndex(artifact.service, record.receivedAt, artifact.version),
      kind: 'artifact',
      ...record,
    });
    if (!write.created) {
      const existing = await this.getItem(key);
      if (!existing) throw write.error;
      return { created: false, artifact: fromItem(ArtifactRecord, existing, 'artifact') };
    }
    await this.audit({
      actor,
      action: 'artifact.record',
      target: auditTarget.artifact(artifact.service, artifact.version),
      service: artifact.service,
      after: { uri: artifact.uri, digest: artifact.digest, sourceKind: artifact.sourceKind },
    });
    return { created: true, artifact: record };
  }

  /** A service's recorded artifacts, newest first. */
  async listArtifacts(service: string, page: PageRequest = {}): Promise<Page<ArtifactRecord>> {
    const name = field('service', KeyName, service);
    return this.queryPage({
      index: true,
      partition: partitions.artifacts(name),
      forward: false,
      page,
      parse: (item) => fromItem(ArtifactRecord, item, 'artifact'),
    });
  }

  // -------------------------------------------------------------------------------------------
  // releases

  /**
   * Records a release, once. Putting the same content again (a redelivered event) returns the
   * stored release; different content under the same service+version is a ConflictError, since a
   * release must always mean the same AMIs.
   */
  async putRelease(input: ReleaseInput, options: { actor: string }): Promise<Release> {
    const release = parseOrThrow(ReleaseInput, input, 'release');
    const { actor } = parseOrThrow(ActorOption, options, 'putRelease options');
    const record: Release = { ...release, createdAt: this.iso(), createdBy: actor };
    const write = await this.createItem(
      defined({
        ...keys.release(release.service, release.version),
        ...keys.releaseIndex(release.service, record.createdAt, release.version),
        kind: 'release',
        ...record,
      }),
    );
    if (!write.created) {
      const error = write.error;
      const existing = await this.getRelease(release.service, release.version);
      if (!existing) throw error;
      const content = (r: Release | typeof release) => ({
        amis: r.amis,
        artifact: r.artifact,
        recipeHash: r.recipeHash,
        baseAmiId: r.baseAmiId,
      });
      const mine = content(release);
      const theirs = content(existing);
      if (canonical(mine) === canonical(theirs)) return existing;
      const differing = (Object.keys(mine) as Array<keyof typeof mine>).filter(
        (field) => canonical(mine[field]) !== canonical(theirs[field]),
      );
      throw new ConflictError(
        `release ${release.service}@${release.version} already exists with a different ${differing.join(', ')}`,
        auditTarget.release(release.service, release.version),
        { cause: error },
      );
    }
    await this.audit({
      actor,
      action: 'release.create',
      target: auditTarget.release(release.service, release.version),
      service: release.service,
      after: { amis: record.amis, artifact: record.artifact, recipeHash: record.recipeHash },
    });
    return record;
  }

  async getRelease(service: string, version: string): Promise<Release | undefined> {
    const item = await this.getItem(
      keys.release(field('service', KeyName, service), field('version', KeyName, version)),
    );
    return item ? fromItem(Release, item, 'release') : undefined;
  }

  /** A service's releases, newest first. */
  async listReleases(service: string, page: PageRequest = {}): Promise<Page<Release>> {
    const name = field('service', KeyName, service);
    return this.queryPage({
      index: true,
      partition: partitions.releases(name),
      forward: false,
      page,
      parse: (item) => fromItem(Release, item, 'release'),
    });
  }

  // -------------------------------------------------------------------------------------------
  // deployments

  /**
   * Creates a deployment record (version 1, no steps). The id is the caller's deterministic
   * execution name, so a duplicate start with the same content returns the stored record; the
   * same id for a different deployment is a ConflictError.
   */
  async createDeployment(input: DeploymentInput): Promise<Deployment> {
    const parsed = parseOrThrow(DeploymentInput, input, 'deployment');
    const at = this.iso();
    const record: Deployment = { ...parsed, steps: [], createdAt: at, updatedAt: at, version: 1 };
    const write = await this.createItem(
      defined({
        ...keys.deployment(parsed.id),
        ...keys.deploymentIndex(parsed.service, at, parsed.id),
        kind: 'deployment',
        ...record,
      }),
    );
    if (!write.created) {
      const error = write.error;
      const existing = await this.getDeployment(parsed.id);
      if (!existing) throw error;
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
        { cause: error },
      );
    }
    await this.audit({
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
    });
    return record;
  }

  async getDeployment(id: string): Promise<Deployment | undefined> {
    const item = await this.getItem(keys.deployment(field('deployment id', KeyName, id)));
    return item ? fromItem(Deployment, item, 'deployment') : undefined;
  }

  /**
   * Changes status/outcome/reason if the record is still at `expectedVersion`. Which transitions
   * are allowed is the domain's rule; the store makes sure nobody changed the record meanwhile.
   */
  async updateDeployment(
    id: string,
    patch: DeploymentPatch,
    expectedVersion: number,
    options: { actor?: string } = {},
  ): Promise<Deployment> {
    const deploymentId = field('deployment id', KeyName, id);
    const changes = parseOrThrow(DeploymentPatch, patch, 'deployment patch');
    const expected = field('expectedVersion', VersionNumber, expectedVersion);
    const { actor } = parseOrThrow(OptionalActor, options, 'updateDeployment options');
    const e = new Expr();
    const updatedAt = this.iso();
    const sets = e.sets({ ...changes, updatedAt, version: expected + 1 });
    const { before, after } = await this.updateDeploymentItem(deploymentId, e, sets, expected, (old) =>
      fromItem(Deployment, { ...old, ...defined(changes), updatedAt, version: expected + 1 }, 'deployment'),
    );
    await this.audit({
      actor: actor ?? after.actor,
      action: 'deployment.update',
      target: auditTarget.deployment(deploymentId),
      service: after.service,
      deploymentId,
      before: { status: before.status, outcome: before.outcome, reason: before.reason },
      after: { status: after.status, outcome: after.outcome, reason: after.reason },
      reason: changes.reason,
    });
    return after;
  }

  /** Appends a step record; with `expectedVersion` only if nobody changed the record meanwhile. */
  async appendStep(
    id: string,
    step: StepInput,
    options: { expectedVersion?: number; actor?: string } = {},
  ): Promise<Deployment> {
    const deploymentId = field('deployment id', KeyName, id);
    const input = parseOrThrow(StepInput, step, 'step');
    const { expectedVersion, actor } = parseOrThrow(
      OptionalActor.extend({ expectedVersion: VersionNumber.optional() }),
      options,
      'appendStep options',
    );
    const updatedAt = this.iso();
    const record = defined({ ...input, startedAt: input.startedAt ?? updatedAt });
    const e = new Expr();
    const sets = [
      `${e.n('steps')} = list_append(${e.n('steps')}, ${e.v([record])})`,
      ...e.sets({ updatedAt }),
      `${e.n('version')} = ${e.n('version')} + ${e.v(1)}`,
    ];
    const { after } = await this.updateDeploymentItem(deploymentId, e, sets, expectedVersion, (old) => ({
      ...old,
      steps: [...old.steps, record],
      updatedAt,
      version: old.version + 1,
    }));
    await this.audit({
      actor: actor ?? after.actor,
      action: 'deployment.step',
      target: auditTarget.deployment(deploymentId),
      service: after.service,
      deploymentId,
      after: record,
    });
    return after;
  }

  /** A service's deployments, newest first; `environment` keeps those that include it. */
  async listDeployments(
    service: string,
    options: PageRequest & { environment?: string } = {},
  ): Promise<Page<Deployment>> {
    const name = field('service', KeyName, service);
    const { environment, ...page } = options;
    const env = field('environment', KeyName.optional(), environment);
    return this.queryPage({
      index: true,
      partition: partitions.deployments(name),
      forward: false,
      page,
      ...(env === undefined ? {} : { filter: (e: Expr) => `contains(${e.n('environments')}, ${e.v(env)})` }),
      parse: (item) => fromItem(Deployment, item, 'deployment'),
    });
  }

  // -------------------------------------------------------------------------------------------
  // environment state and lock

  /** The state of one service environment; version 0 and no fields when nothing was recorded yet. */
  async getEnvironmentState(service: string, environment: string): Promise<EnvironmentState> {
    const name = field('service', KeyName, service);
    const env = field('environment', KeyName, environment);
    const item = await this.getItem(keys.environment(name, env));
    return item
      ? fromItem(EnvironmentState, item, 'environment state')
      : { service: name, environment: env, version: 0 };
  }

  /**
   * Applies `patch` if the state is still at `expectedVersion` (0: nothing recorded yet), else
   * StaleVersionError. With `lockHolder`, also requires that holder's unexpired lease, so a
   * writer whose lease was taken over cannot overwrite the new holder's work.
   */
  async updateEnvironmentState(
    service: string,
    environment: string,
    patch: EnvironmentPatch,
    expectedVersion: number,
    options: { actor?: string; lockHolder?: string } = {},
  ): Promise<EnvironmentState> {
    const name = field('service', KeyName, service);
    const env = field('environment', KeyName, environment);
    const changes = parseOrThrow(EnvironmentPatch, patch, 'environment patch');
    const expected = field('expectedVersion', VersionNumber, expectedVersion);
    const { actor, lockHolder } = parseOrThrow(
      OptionalActor.extend({ lockHolder: z.string().min(1).optional() }),
      options,
      'updateEnvironmentState options',
    );
    const target = auditTarget.environment(name, env);
    const now = this.now();
    const updatedAt = new Date(now).toISOString();

    const e = new Expr();
    const toSet: Record<string, unknown> = {};
    const toRemove: string[] = [];
    for (const [field, value] of Object.entries(changes)) {
      if (value === null) toRemove.push(e.n(field));
      else if (value !== undefined) toSet[field] = value;
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
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
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
      const actual = await this.getEnvironmentState(name, env);
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
    await this.audit({
      actor: actor ?? lockHolder ?? 'kiln',
      action: 'environment.update',
      target,
      service: name,
      before: beforeState,
      after: afterState,
      deploymentId: after.lock?.deploymentId,
    });
    return after;
  }

  /**
   * Takes the service+environment lock for `leaseMs`: succeeds when there is no lock, when the
   * lock's lease has expired (a crashed holder), or when `holder` already holds it (renewal).
   * Otherwise LockHeldError with the current holder and expiry, and nothing changes.
   */
  async acquireLock(service: string, environment: string, request: LockRequest): Promise<EnvironmentLock> {
    const name = field('service', KeyName, service);
    const env = field('environment', KeyName, environment);
    const { holder, deploymentId, leaseMs } = parseOrThrow(LockRequest, request, 'lock request');
    const target = auditTarget.environment(name, env);

    for (let attempt = 1; ; attempt++) {
      const now = this.now();
      const lock: EnvironmentLock = defined({
        holder,
        deploymentId,
        acquiredAt: now,
        expiresAt: now + leaseMs,
      });
      const e = new Expr();
      const sets = e.sets({ lock, kind: 'environment', service: name, environment: env });
      sets.push(`${e.n('version')} = if_not_exists(${e.n('version')}, ${e.v(0)})`);
      try {
        const result = await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.environment(name, env),
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression:
              `attribute_not_exists(${e.n('lock')}) OR ${e.n('lock.expiresAt')} <= ${e.v(now)}` +
              ` OR ${e.n('lock.holder')} = ${e.v(holder)}`,
            ReturnValues: 'ALL_OLD',
            ...e.params(),
          }),
        );
        const previous = result.Attributes
          ? fromItem(EnvironmentState, result.Attributes, 'environment state').lock
          : undefined;
        if (previous?.holder !== holder) {
          await this.audit({
            actor: holder,
            action: previous ? 'lock.takeover' : 'lock.acquire',
            target,
            service: name,
            deploymentId,
            before: previous,
            after: lock,
          });
        }
        return lock;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const current = (await this.getEnvironmentState(name, env)).lock;
        const stillHeld = current && current.holder !== holder && current.expiresAt > this.now();
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
      }
    }
  }

  /** Extends the holder's lease to now + leaseMs; LockNotHeldError if someone else holds it or it is free. */
  async renewLock(
    service: string,
    environment: string,
    request: { holder: string; leaseMs: number },
  ): Promise<EnvironmentLock> {
    const name = field('service', KeyName, service);
    const env = field('environment', KeyName, environment);
    const { holder, leaseMs } = parseOrThrow(
      LockRequest.omit({ deploymentId: true }),
      request,
      'lock request',
    );
    const e = new Expr();
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.environment(name, env),
          UpdateExpression: `SET ${e.n('lock.expiresAt')} = ${e.v(this.now() + leaseMs)}`,
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
      throw await this.lockNotHeld(name, env, holder, 'renew', error);
    }
  }

  /** Releases the lock; only its holder may (LockNotHeldError otherwise, and nothing changes). */
  async releaseLock(service: string, environment: string, request: { holder: string }): Promise<void> {
    const name = field('service', KeyName, service);
    const env = field('environment', KeyName, environment);
    const { holder } = parseOrThrow(z.object({ holder: z.string().min(1) }), request, 'lock release');
    const e = new Expr();
    let previous: EnvironmentLock | undefined;
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
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
      throw await this.lockNotHeld(name, env, holder, 'release', error);
    }
    await this.audit({
      actor: holder,
      action: 'lock.release',
      target: auditTarget.environment(name, env),
      service: name,
      deploymentId: previous?.deploymentId,
      before: previous,
    });
  }

  // -------------------------------------------------------------------------------------------
  // task tokens

  /**
   * Stores the token of a task waiting for `waitKind`/`key`. A later put for the same key
   * replaces it: after a timeout poll the task waits again with a new token, and only the newest
   * can still be resumed. `ttl` lets DynamoDB delete it a day after its deadline.
   */
  async putTaskToken(input: TaskToken): Promise<void> {
    const token = parseOrThrow(TaskToken, input, 'task token');
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.taskToken(token.waitKind, token.key),
          ...keys.taskTokenIndex(new Date(token.expiresAt).toISOString(), token.waitKind, token.key),
          kind: 'task-token',
          ...token,
          // TTL is epoch seconds (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html).
          // Expiry deletes lazily (typically within days) and expired items still show in reads,
          // so nothing here relies on it; the grace keeps overdue tokens visible to the reconciler.
          [TTL]: Math.ceil(token.expiresAt / 1000) + TOKEN_TTL_GRACE_SECONDS,
        },
      }),
    );
  }

  /**
   * Reads and deletes the token in one conditional delete, so when two events race to resume the
   * same task exactly one gets the token; the other gets undefined.
   */
  async takeTaskToken(waitKind: WaitKind, key: string): Promise<TaskToken | undefined> {
    const kind = field('waitKind', WaitKind, waitKind);
    const name = field('key', KeyName, key);
    const e = new Expr();
    try {
      const result = await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
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

  /** Waiting tasks by deadline, soonest first; `expiringBefore` (epoch ms) narrows to overdue ones. */
  async listTaskTokens(
    options: PageRequest & { waitKind?: WaitKind; expiringBefore?: number } = {},
  ): Promise<Page<TaskToken>> {
    const { waitKind, expiringBefore, ...page } = options;
    const kind = field('waitKind', WaitKind.optional(), waitKind);
    const before = field('expiringBefore', z.number().int().positive().optional(), expiringBefore);
    return this.queryPage({
      index: true,
      partition: partitions.taskTokens,
      forward: true,
      page,
      ...(before === undefined ? {} : { sortKeyBelow: new Date(before).toISOString() }),
      ...(kind === undefined ? {} : { filter: (e: Expr) => `${e.n('waitKind')} = ${e.v(kind)}` }),
      parse: (item) => fromItem(TaskToken, item, 'task token'),
    });
  }

  // -------------------------------------------------------------------------------------------
  // audit

  /** Appends an audit entry: who (actor) did what (action) to what (target), before → after. */
  async audit(input: AuditInput): Promise<AuditEntry> {
    const entry = defined({ ...parseOrThrow(AuditInput, input, 'audit entry'), at: this.iso() });
    for (let attempt = 1; ; attempt++) {
      const seq = String(this.auditSeq++).padStart(8, '0');
      const write = await this.createItem(
        defined({
          ...keys.audit(entry.target, entry.at, seq),
          ...(entry.service ? keys.auditIndex(entry.service, entry.at, entry.target, seq) : {}),
          kind: 'audit',
          ...entry,
        }),
      );
      if (write.created) return entry;
      if (attempt >= AUDIT_KEY_ATTEMPTS) throw write.error;
    }
  }

  /** Audit entries about one target, or about everything a service owns; newest first. */
  async listAudit(
    scope: { service: string } | { target: string },
    page: PageRequest = {},
  ): Promise<Page<AuditEntry>> {
    const parse = (item: Item) => fromItem(AuditEntry, item, 'audit entry');
    if ('service' in scope) {
      const name = field('service', KeyName, scope.service);
      return this.queryPage({
        index: true,
        partition: partitions.auditByService(name),
        forward: false,
        page,
        parse,
      });
    }
    const target = field('target', AuditInput.shape.target, scope.target);
    return this.queryPage({
      index: false,
      partition: partitions.auditByTarget(target),
      forward: false,
      page,
      parse,
    });
  }

  // -------------------------------------------------------------------------------------------
  // internals

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  /**
   * Creates an item only if nothing has its key yet: the store's create-only write. When the key
   * is taken it writes nothing and returns the ConditionalCheckFailedException, so the caller can
   * decide (an idempotent repeat, a conflict, or a fresh key); any other error is thrown.
   */
  private async createItem(item: Item): Promise<{ created: true } | { created: false; error: unknown }> {
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

  private async getItem(key: Record<string, string>): Promise<Item | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return result.Item;
  }

  private toServiceRecord(item: Item): ServiceRecord<M> {
    const record = fromItem(ServiceRecord, item, 'service');
    // The manifest was validated by parseManifest before it was stored; the store keeps it whole.
    return { ...record, manifest: item.manifest as M };
  }

  /**
   * Runs a deployment UpdateItem guarded by existence (and the expected version, if given).
   * `apply` mirrors the update on the old record, so the result needs no second read (which
   * could already show a later writer's change).
   */
  private async updateDeploymentItem(
    id: string,
    e: Expr,
    sets: string[],
    expectedVersion: number | undefined,
    apply: (before: Deployment) => Deployment,
  ): Promise<{ before: Deployment; after: Deployment }> {
    const condition =
      expectedVersion === undefined
        ? `attribute_exists(${e.n(PK)})`
        : `attribute_exists(${e.n(PK)}) AND ${e.n('version')} = ${e.v(expectedVersion)}`;
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.deployment(id),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: condition,
          ReturnValues: 'ALL_OLD',
          ...e.params(),
        }),
      );
      // The condition requires the item, so a successful update always returns its old image.
      const before = fromItem(Deployment, result.Attributes ?? {}, 'deployment');
      return { before, after: apply(before) };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const actual = await this.getDeployment(id);
      if (!actual) {
        throw new NotFoundError(`deployment ${id} does not exist`, auditTarget.deployment(id), {
          cause: error,
        });
      }
      throw new StaleVersionError(
        `deployment ${id} is at version ${actual.version}, not ${String(expectedVersion)}: re-read and retry`,
        auditTarget.deployment(id),
        expectedVersion ?? actual.version,
        actual.version,
        { cause: error },
      );
    }
  }

  private async lockNotHeld(
    service: string,
    environment: string,
    holder: string,
    verb: string,
    cause: unknown,
  ): Promise<LockNotHeldError> {
    const current = (await this.getEnvironmentState(service, environment)).lock;
    return new LockNotHeldError(
      `cannot ${verb} the lock on ${service}/${environment}: ${holder} does not hold it` +
        (current ? ` (held by ${current.holder})` : ' (it is free)'),
      auditTarget.environment(service, environment),
      current?.holder,
      { cause },
    );
  }

  /**
   * One page of a Query, newest/oldest first per `forward`. Limit counts items *evaluated*, before
   * any FilterExpression (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html),
   * so a filtered listing keeps reading until it has `limit` matches or the partition ends, and
   * its cursor is then the key of the last item it returned.
   */
  private async queryPage<T>(query: {
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

/** Parses one argument so that an error names it (`invalid service: service: must not be empty`). */
function field<S extends z.ZodType>(name: string, schema: S, value: unknown): z.infer<S> {
  return parseOrThrow(z.object({ [name]: schema }), { [name]: value }, name)[name] as z.infer<S>;
}
