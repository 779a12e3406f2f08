import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ServiceManifest } from '../domain/manifest/schema';
import { randomIds, type IdSource } from '../runtime/ids';
import { AuditLog } from './audit-log';
import { Claims, type ClaimOutcome } from './claims';
import { StoreCore } from './core';
import { Deployments } from './deployments';
import { Environments } from './environments';
import { Releases } from './releases';
import type {
  ArtifactInput,
  ArtifactRecord,
  AuditEntry,
  AuditInput,
  Claim,
  ClaimInput,
  ClaimScope,
  Deployment,
  DeploymentInput,
  DeploymentMove,
  DeploymentPatch,
  EnvironmentLock,
  EnvironmentPatch,
  EnvironmentState,
  LockRelease,
  LockRequest,
  NamedManifest,
  Page,
  PageRequest,
  Release,
  ReleaseInput,
  ServiceRecord,
  StepInput,
  TaskToken,
  WaitKind,
} from './schemas';
import { Services } from './services';
import { TaskTokens } from './task-tokens';

export type { NamedManifest } from './schemas';

/**
 * KilnStore: the typed repository over Kiln's one DynamoDB table (key design in ./keys.ts). Each
 * kind of record has its own module (services, releases, deployments, environments, task tokens,
 * audit-log); this class is the one door to them all.
 *
 * Rules the store keeps:
 * 1. Single-item conditional writes only, no transactions (dynalite has none; DESIGN.md rule 6).
 *    A write whose condition fails throws ConditionalCheckFailedException
 *    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html);
 *    the store re-reads the item consistently and turns that into a named error. No
 *    ConditionalCheckFailedException ever reaches a caller.
 * 2. Optimistic concurrency by a numeric `version` on services, deployments and environment
 *    state: a write names the version it read and fails with StaleVersionError if it moved.
 * 3. Every method that changes a service, artifact, release, deployment or environment state writes
 *    an audit entry — a second single-item write, not a transaction — and the two outcomes are
 *    kept apart: the change is made or refused first, then its entry is written. An entry's key
 *    is unique to its writer (ids from `KilnStoreOptions.ids`); on a key collision the store
 *    draws a fresh writer id and tries again, a bounded number of times. If the entry still
 *    cannot be written, the change stands and the method throws AuditMissingError, which carries
 *    the method's result and the missing entry: the caller decides (log it, or hand the entry to
 *    `audit()`), and must not make the change again. Lease renewals are not audited (they change
 *    nothing but an expiry, every few seconds); acquiring, taking over and releasing are.
 * 4. A write the SDK re-sends after a lost response (it retries 5xx and timeouts, and the first
 *    attempt may have landed) is never applied twice: conditional writes fail the second time,
 *    and the two writes that are not conditional on what they change — creating a record once
 *    and appending a step — carry this writer's token, so a re-send that finds its own token
 *    knows it landed and reports (and audits) the change once.
 * 5. Reads of single items are strongly consistent; listings come from GSI1 and are eventually
 *    consistent (newest writes can be missing from a listing for a moment).
 */

export interface KilnStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Epoch milliseconds; injectable because the sandbox runs on a virtual clock. */
  now?: () => number;
  /**
   * Where the store draws its writer id (once, on its first write): random by default; the
   * sandbox passes its seeded source (DESIGN.md rule 10). Stores that may write at the same
   * moment must not share a source that repeats itself.
   */
  ids?: IdSource;
}

export class KilnStore<M extends NamedManifest = ServiceManifest> {
  private readonly auditLog: AuditLog;
  private readonly services: Services<M>;
  private readonly releases: Releases;
  private readonly deployments: Deployments;
  private readonly environments: Environments;
  private readonly taskTokens: TaskTokens;
  private readonly claims: Claims;

  constructor(options: KilnStoreOptions) {
    const core = new StoreCore(options);
    this.auditLog = new AuditLog(core, options.ids ?? randomIds);
    this.services = new Services<M>(core, this.auditLog);
    this.releases = new Releases(core, this.auditLog);
    this.deployments = new Deployments(core, this.auditLog);
    this.environments = new Environments(core, this.auditLog);
    this.taskTokens = new TaskTokens(core);
    this.claims = new Claims(core);
  }

  // services

  /**
   * Stores a new manifest version for its service. `expectedVersion` is the version the caller
   * read (0: the service must not exist yet); omitted, the store reads it, so only a concurrent
   * apply can make this fail. The current item is the point of truth; the history copy follows.
   */
  putServiceManifest(
    manifest: M,
    options: { actor: string; expectedVersion?: number },
  ): Promise<ServiceRecord<M>> {
    return this.services.put(manifest, options);
  }

  /** The current manifest of a service, or the one at `version` from its history. */
  getService(service: string, options: { version?: number } = {}): Promise<ServiceRecord<M> | undefined> {
    return this.services.get(service, options);
  }

  /** Services by name. */
  listServices(page: PageRequest = {}): Promise<Page<ServiceRecord<M>>> {
    return this.services.list(page);
  }

  /** A service's manifest versions, newest first. */
  listServiceVersions(service: string, page: PageRequest = {}): Promise<Page<ServiceRecord<M>>> {
    return this.services.listVersions(service, page);
  }

  // artifacts and releases

  /**
   * Records a published artifact once per service+version+digest. EventBridge delivers at least
   * once, so a second record of the same build is expected: it returns `created: false` and the
   * stored record, and writes no audit entry.
   */
  recordArtifact(
    input: ArtifactInput,
    options: { actor: string },
  ): Promise<{ created: boolean; artifact: ArtifactRecord }> {
    return this.releases.recordArtifact(input, options);
  }

  /** A service's recorded artifacts, newest first. */
  listArtifacts(service: string, page: PageRequest = {}): Promise<Page<ArtifactRecord>> {
    return this.releases.listArtifacts(service, page);
  }

  /**
   * Records a release, once. Putting the same content again (a redelivered event) returns the
   * stored release; different content under the same service+version is a ConflictError, since a
   * release must always mean the same AMIs.
   */
  putRelease(input: ReleaseInput, options: { actor: string }): Promise<Release> {
    return this.releases.putRelease(input, options);
  }

  getRelease(service: string, version: string): Promise<Release | undefined> {
    return this.releases.getRelease(service, version);
  }

  /** A service's releases, newest first. */
  listReleases(service: string, page: PageRequest = {}): Promise<Page<Release>> {
    return this.releases.listReleases(service, page);
  }

  // deployments

  /**
   * Creates a deployment record (version 1, no steps). The id is the caller's deterministic
   * execution name, so a duplicate start with the same content returns the stored record; the
   * same id for a different deployment is a ConflictError.
   */
  createDeployment(input: DeploymentInput): Promise<Deployment> {
    return this.deployments.create(input);
  }

  getDeployment(id: string): Promise<Deployment | undefined> {
    return this.deployments.get(id);
  }

  /**
   * Changes status/outcome/reason if the record is still at `expectedVersion`. A status change
   * must be a move the domain allows (shared/domain/deployment.ts) from the stored status,
   * checked in the same conditional write: an illegal one is an IllegalTransitionError and
   * changes nothing.
   */
  updateDeployment(
    id: string,
    patch: DeploymentPatch,
    expectedVersion: number,
    options: { actor?: string } = {},
  ): Promise<Deployment> {
    return this.deployments.update(id, patch, expectedVersion, options);
  }

  /**
   * Moves the status `from` → `to` (with an optional outcome and reason) if the deployment is
   * still `from`, whatever its version: an illegal move is an IllegalTransitionError before any
   * write; a deployment that has moved on meanwhile is a StaleStatusError. A re-sent request
   * that already landed reports the move once.
   */
  moveDeployment(id: string, move: DeploymentMove, options: { actor?: string } = {}): Promise<Deployment> {
    return this.deployments.move(id, move, options);
  }

  /**
   * Appends a step record; with `expectedVersion` only if nobody changed the record meanwhile.
   * Each call appends once (a re-sent request included); calling it again appends again, so after
   * an AuditMissingError the step is there and must not be appended a second time.
   */
  appendStep(
    id: string,
    step: StepInput,
    options: { expectedVersion?: number; actor?: string } = {},
  ): Promise<Deployment> {
    return this.deployments.appendStep(id, step, options);
  }

  /** A service's deployments, newest first; `environment` keeps those that include it. */
  listDeployments(
    service: string,
    options: PageRequest & { environment?: string } = {},
  ): Promise<Page<Deployment>> {
    return this.deployments.list(service, options);
  }

  // environment state and lock

  /** The state of one service environment; version 0 and no fields when nothing was recorded yet. */
  getEnvironmentState(service: string, environment: string): Promise<EnvironmentState> {
    return this.environments.get(service, environment);
  }

  /**
   * Applies `patch` if the state is still at `expectedVersion` (0: nothing recorded yet), else
   * StaleVersionError. With `lockHolder`, also requires that holder's unexpired lease, so a
   * writer whose lease was taken over cannot overwrite the new holder's work.
   */
  updateEnvironmentState(
    service: string,
    environment: string,
    patch: EnvironmentPatch,
    expectedVersion: number,
    options: { actor?: string; lockHolder?: string } = {},
  ): Promise<EnvironmentState> {
    return this.environments.update(service, environment, patch, expectedVersion, options);
  }

  /**
   * Takes the service+environment lock for `leaseMs`: succeeds when there is no lock, when the
   * lock's lease has expired (a crashed holder), or when `holder` already holds it (renewal).
   * Otherwise LockHeldError with the current holder and expiry, and nothing changes. Once the
   * lock is taken it is the caller's, even if its audit entry then fails (AuditMissingError,
   * whose `result` is the lock).
   */
  acquireLock(service: string, environment: string, request: LockRequest): Promise<EnvironmentLock> {
    return this.environments.acquireLock(service, environment, request);
  }

  /** Extends the holder's lease to now + leaseMs; LockNotHeldError if someone else holds it or it is free. */
  renewLock(
    service: string,
    environment: string,
    request: { holder: string; leaseMs: number },
  ): Promise<EnvironmentLock> {
    return this.environments.renewLock(service, environment, request);
  }

  /**
   * Lets go of the lock, idempotently: `released` (and audited) when `holder` held it, even past
   * its expiry; `already-free` (nothing changed, nothing audited) when nobody holds it, as after
   * a repeated release; LockNotHeldError naming the holder when someone else holds it (the
   * caller's lease ran out and was taken over), and nothing changes. Audited as `actor` when given
   * (one that frees a dead holder's lock, such as the sweep or the reconciler), else as the holder.
   */
  releaseLock(
    service: string,
    environment: string,
    request: { holder: string; actor?: string },
  ): Promise<LockRelease> {
    return this.environments.releaseLock(service, environment, request);
  }

  /**
   * Lets go of a lease that ran out (the reconciler, for a holder that is gone), audited as
   * `actor`; only if it is still the lease seen expiring (same holder and expiry), else `changed`.
   */
  releaseExpiredLock(
    service: string,
    environment: string,
    request: { holder: string; expiresAt: number; actor: string; reason?: string },
  ): Promise<{ outcome: 'released'; lock: EnvironmentLock } | { outcome: 'changed' }> {
    return this.environments.releaseExpiredLock(service, environment, request);
  }

  // task tokens

  /**
   * Stores the token of a task waiting for `waitKind`/`key`. A later put for the same key
   * replaces it: after a timeout poll the task waits again with a new token, and only the newest
   * can still be resumed. `ttl` lets DynamoDB delete it a day after its deadline.
   */
  putTaskToken(input: TaskToken): Promise<void> {
    return this.taskTokens.put(input);
  }

  /**
   * Reads and deletes the token in one conditional delete, so when two events race to resume the
   * same task exactly one gets the token; the other gets undefined.
   */
  takeTaskToken(waitKind: WaitKind, key: string): Promise<TaskToken | undefined> {
    return this.taskTokens.take(waitKind, key);
  }

  /**
   * Puts back a token `takeTaskToken` returned when its task could not be resumed, unless a newer
   * token is stored for the same key by now. True when it was put back.
   */
  restoreTaskToken(input: TaskToken): Promise<boolean> {
    return this.taskTokens.restore(input);
  }

  /** Waiting tasks by deadline, soonest first; `expiringBefore` (epoch ms) narrows to overdue ones. */
  listTaskTokens(
    options: PageRequest & { waitKind?: WaitKind; expiringBefore?: number } = {},
  ): Promise<Page<TaskToken>> {
    return this.taskTokens.list(options);
  }

  // claims

  /**
   * Claims `scope`/`key` for `holder` until `expiresAt`, in one conditional write: exactly one of
   * racing callers gets `claimed: true`; the others read the claim that won. An expired held claim
   * is taken over; a done one never is.
   */
  claim(input: ClaimInput): Promise<ClaimOutcome> {
    return this.claims.claim(input);
  }

  getClaim(scope: ClaimScope, key: string): Promise<Claim | undefined> {
    return this.claims.get(scope, key);
  }

  /** Marks the holder's claim done (optionally with an outcome and a new expiry). False if not its claim. */
  settleClaim(
    scope: ClaimScope,
    key: string,
    request: { holder: string; outcome?: string; expiresAt?: number },
  ): Promise<boolean> {
    return this.claims.settle(scope, key, request);
  }

  /** Lets the holder's held claim go. False if not its claim (or done). */
  releaseClaim(scope: ClaimScope, key: string, request: { holder: string }): Promise<boolean> {
    return this.claims.release(scope, key, request);
  }

  listClaims(
    scope: ClaimScope,
    options: PageRequest & { expiringBefore?: number } = {},
  ): Promise<Page<Claim>> {
    return this.claims.list(scope, options);
  }

  // audit

  /**
   * Appends an audit entry: who (actor) did what (action) to what (target), before → after.
   * AuditMissingError (with the entry) if it cannot be written.
   */
  audit(input: AuditInput): Promise<AuditEntry> {
    return this.auditLog.record(input);
  }

  /** Audit entries about one target, or about everything a service owns; newest first. */
  listAudit(
    scope: { service: string } | { target: string },
    page: PageRequest = {},
  ): Promise<Page<AuditEntry>> {
    return this.auditLog.list(scope, page);
  }
}
