import { DEPLOYMENT_STATUSES } from '../domain/deployment';
import * as z from '../domain/zod';
import { ArtifactDigest, ArtifactUri, KeyName, StoredArtifact } from '../domain/limits';

/**
 * Shapes of what the store accepts and returns. Inputs are parsed (bad input names the field and
 * writes nothing); records read back are parsed too, which strips the key attributes and fails
 * loudly on an item some other writer shaped differently.
 *
 * Timestamps: record times (`createdAt`, `updatedAt`, step times, audit `at`) are ISO-8601 UTC
 * strings; lease and deadline times that conditions compare (`lock.expiresAt`, token `expiresAt`)
 * are epoch milliseconds, because a condition expression can only compare them as numbers.
 */

const IsoTime = z.iso.datetime({ offset: false });
const Version = z.number().check(z.int(), z.gte(0));
const NonEmpty = z.string().check(z.minLength(1));

/** EC2 resource IDs are the prefix plus 8 or 17 hex characters (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/resource-ids.html). */
export const AmiId = z
  .string()
  .check(z.regex(/^ami-([0-9a-f]{8}|[0-9a-f]{17})$/, 'must be an AMI ID (ami- and 8 or 17 hex digits)'));
const Region = z
  .string()
  .check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS Region code such as us-east-1'));

// ---------------------------------------------------------------------------------------------
// services

/**
 * What the store needs of a manifest: the service name it is filed under. The store is generic
 * so tests can store small stand-ins; Kiln itself stores the domain's ServiceManifest.
 */
export interface NamedManifest {
  name: string;
}

export const ServiceRecord = z.object({
  service: z.string(),
  manifest: z.unknown(),
  /** The manifest version: 1 for the first apply, +1 on each apply. */
  version: Version,
  createdAt: IsoTime,
  updatedAt: IsoTime,
  updatedBy: z.string(),
});
/** A service's manifest at one version (the current one, or one from its history). */
export type ServiceRecord<M> = Omit<z.infer<typeof ServiceRecord>, 'manifest'> & { manifest: M };

// ---------------------------------------------------------------------------------------------
// releases

export const ReleaseInput = z.object({
  service: KeyName,
  version: KeyName,
  amis: z
    .record(Region, AmiId)
    .check(z.refine((amis) => Object.keys(amis).length > 0, 'must name at least one Region')),
  artifact: z.object({ uri: ArtifactUri, digest: ArtifactDigest }),
  recipeHash: NonEmpty,
  baseAmiId: AmiId,
});
export type ReleaseInput = z.input<typeof ReleaseInput>;

export const Release = z.extend(ReleaseInput, { createdAt: IsoTime, createdBy: z.string() });
export type Release = z.infer<typeof Release>;

// ---------------------------------------------------------------------------------------------
// artifacts (what CI published, before it is baked into a release)

/**
 * The limits (version, digest, URI) are defined once in shared/domain/limits.ts, which the
 * artifact events are parsed with too: an event that parses can always be recorded.
 */
export const ArtifactInput = StoredArtifact;
export type ArtifactInput = z.input<typeof ArtifactInput>;

export const ArtifactRecord = z.extend(ArtifactInput, { receivedAt: IsoTime, receivedBy: z.string() });
export type ArtifactRecord = z.infer<typeof ArtifactRecord>;

// ---------------------------------------------------------------------------------------------
// deployments

export const DeploymentTrigger = z.enum(['artifact', 'chatops', 'cli', 'alarm', 'reconciler']);
export type DeploymentTrigger = z.infer<typeof DeploymentTrigger>;

export const DeploymentStep = z.object({
  name: NonEmpty,
  status: NonEmpty,
  startedAt: IsoTime,
  endedAt: z.optional(IsoTime),
  detail: z.optional(z.string()),
});
export type DeploymentStep = z.infer<typeof DeploymentStep>;

/** A step as a caller records it; `startedAt` defaults to the store's clock. */
export const StepInput = z.extend(DeploymentStep, { startedAt: z.optional(IsoTime) });
export type StepInput = z.input<typeof StepInput>;

export const DeploymentInput = z.object({
  /** Chosen by the caller (the deterministic execution name), so a duplicate start is detectable. */
  id: KeyName,
  service: KeyName,
  /** The release version being deployed (`version` on a deployment is the record's version). */
  releaseVersion: KeyName,
  environments: z.array(KeyName).check(z.minLength(1, 'must name at least one environment')),
  trigger: DeploymentTrigger,
  actor: NonEmpty,
  reason: z.optional(z.string()),
  /** The artifact it deploys, for an artifact-triggered deployment (what the bake installs). */
  artifact: z.optional(z.object({ uri: ArtifactUri, digest: ArtifactDigest })),
  /** `rollback` when it restores a recorded release (DeployExecutionInput.mode); absent: a deploy. */
  mode: z.optional(z.enum(['deploy', 'rollback'])),
  /** The Step Functions execution carrying it (its name is the deployment id). */
  executionArn: z.optional(
    z
      .string()
      .check(
        z.regex(
          /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/,
          'must be a Step Functions execution ARN',
        ),
      ),
  ),
});
export type DeploymentInput = z.input<typeof DeploymentInput>;

/** Statuses and their allowed moves are the domain's (shared/domain/deployment.ts). */
export const DeploymentStatus = z.enum(DEPLOYMENT_STATUSES);

/**
 * What the bake settled, recorded once so a re-run step reads it rather than deciding again: the
 * base AMI (an SSM parameter is resolved once, at the start), the recipe hash and the deadline.
 */
export const DeploymentBake = z.object({
  baseAmiId: AmiId,
  recipeHash: NonEmpty,
  /** Epoch milliseconds: the bake must be done by then (`bake.timeoutMinutes` from its start). */
  deadline: z.number().check(z.int(), z.positive()),
});
export type DeploymentBake = z.infer<typeof DeploymentBake>;

/** The release a deployment carries, linked once the bake recorded (or reused) it. */
export const DeploymentRelease = z.object({
  version: KeyName,
  amis: z.record(Region, AmiId),
});
export type DeploymentRelease = z.infer<typeof DeploymentRelease>;

export const LaunchTemplateRef = z.object({
  id: z.string().check(z.regex(/^lt-([0-9a-f]{8}|[0-9a-f]{17})$/, 'must be a launch template ID (lt-…)')),
  /** Always an explicit version number, never $Latest/$Default (DESIGN.md rule 2). */
  version: z.number().check(z.int(), z.gte(1)),
});

export const Capacity = z
  .object({ min: Version, max: Version, desired: Version })
  .check(z.refine((c) => c.min <= c.desired && c.desired <= c.max, 'must satisfy min <= desired <= max'));

/**
 * Where the rollout of one environment stands, as the rollout steps record it (README "Rollout"):
 * what `kiln status` and `kiln deploy --wait` show. Replaced as the rollout moves on; the history
 * of moves is the deployment's steps and the audit log.
 */
export const DeploymentRollout = z.object({
  environment: KeyName,
  /** Position in the deployment's `environments`. */
  index: Version,
  strategy: z.enum(['rolling', 'blue-green']),
  /** A short name of the phase, e.g. `waiting-lock`, `refreshing`, `health-gate`, `watching`. */
  phase: NonEmpty,
  /** What the phase waits for, in words (`lock held by …`, `3 of 10 green targets healthy`). */
  detail: z.optional(z.string()),
  /** The instance refresh carrying it (rolling). */
  refreshId: z.optional(NonEmpty),
  /** The group being replaced and the one replacing it (blue/green; both the same for rolling). */
  fromGroup: z.optional(NonEmpty),
  toGroup: z.optional(NonEmpty),
  at: IsoTime,
});
export type DeploymentRollout = z.infer<typeof DeploymentRollout>;

/** Someone asked the deployment to stop (`kiln abort`): its next step stops it safely. */
export const AbortRequest = z.object({ actor: NonEmpty, at: IsoTime, reason: z.optional(z.string()) });
export type AbortRequest = z.infer<typeof AbortRequest>;

export const Deployment = z.extend(DeploymentInput, {
  /** Starts `queued`; moves only as shared/domain/deployment.ts allows. */
  status: DeploymentStatus,
  bake: z.optional(DeploymentBake),
  release: z.optional(DeploymentRelease),
  rollout: z.optional(DeploymentRollout),
  abort: z.optional(AbortRequest),
  steps: z.array(DeploymentStep),
  outcome: z.optional(z.string()),
  createdAt: IsoTime,
  updatedAt: IsoTime,
  version: Version,
});
export type Deployment = z.infer<typeof Deployment>;

export const DeploymentPatch = z
  .object({
    status: z.optional(DeploymentStatus),
    outcome: z.optional(NonEmpty),
    reason: z.optional(NonEmpty),
    bake: z.optional(DeploymentBake),
    release: z.optional(DeploymentRelease),
    rollout: z.optional(DeploymentRollout),
    abort: z.optional(AbortRequest),
  })
  .check(
    z.refine(
      (patch) => Object.values(patch).some((value) => value !== undefined),
      'must change at least one field',
    ),
  );
export type DeploymentPatch = z.input<typeof DeploymentPatch>;

/** A status move as a step handler makes it: from the status it read, to the next. */
export const DeploymentMove = z.object({
  from: DeploymentStatus,
  to: DeploymentStatus,
  outcome: z.optional(NonEmpty),
  reason: z.optional(NonEmpty),
});
export type DeploymentMove = z.input<typeof DeploymentMove>;

// ---------------------------------------------------------------------------------------------
// environment state and lock

export const EnvironmentLock = z.object({
  holder: z.string(),
  deploymentId: z.optional(z.string()),
  /** Epoch milliseconds. */
  acquiredAt: z.number(),
  /** Epoch milliseconds. */
  expiresAt: z.number(),
});
export type EnvironmentLock = z.infer<typeof EnvironmentLock>;

/**
 * What an environment ran at one time: the release, the group serving it, its launch template
 * version and its capacity. A rollback restores exactly this (DESIGN.md rule 2).
 */
export const EnvironmentRecord = z.object({
  release: KeyName,
  group: NonEmpty,
  launchTemplate: LaunchTemplateRef,
  capacity: Capacity,
  /** When this became the environment's current release. */
  since: IsoTime,
  /** The deployment that made it current. */
  deploymentId: z.optional(KeyName),
});
export type EnvironmentRecord = z.infer<typeof EnvironmentRecord>;

/** How many earlier records an environment keeps (what `kiln rollback --to` can restore). */
export const ENVIRONMENT_HISTORY_LENGTH = 5;

export const EnvironmentState = z.object({
  service: z.string(),
  environment: z.string(),
  currentRelease: z.optional(z.string()),
  previousRelease: z.optional(z.string()),
  launchTemplate: z.optional(LaunchTemplateRef),
  capacity: z.optional(Capacity),
  /** The group serving the environment (blue/green moves it; rolling keeps the manifest's). */
  activeGroup: z.optional(NonEmpty),
  /** The current record first, then earlier ones, newest first (at most ENVIRONMENT_HISTORY_LENGTH + 1). */
  history: z.optional(z.array(EnvironmentRecord)),
  lock: z.optional(EnvironmentLock),
  /** 0 until the first state update; lock operations leave it alone. */
  version: Version,
  updatedAt: z.optional(IsoTime),
});
export type EnvironmentState = z.infer<typeof EnvironmentState>;

/** Fields to set; `null` removes a field. The lock is changed only through the lock methods. */
export const EnvironmentPatch = z
  .strictObject({
    currentRelease: z.optional(z.nullable(KeyName)),
    previousRelease: z.optional(z.nullable(KeyName)),
    launchTemplate: z.optional(z.nullable(LaunchTemplateRef)),
    capacity: z.optional(z.nullable(Capacity)),
    activeGroup: z.optional(z.nullable(NonEmpty)),
    history: z.optional(
      z.nullable(z.array(EnvironmentRecord).check(z.maxLength(ENVIRONMENT_HISTORY_LENGTH + 1))),
    ),
  })
  .check(
    z.refine(
      (patch) => Object.values(patch).some((value) => value !== undefined),
      'must change at least one field',
    ),
  );
export type EnvironmentPatch = z.input<typeof EnvironmentPatch>;

export const LockRequest = z.object({
  holder: NonEmpty,
  deploymentId: z.optional(NonEmpty),
  leaseMs: z.number().check(z.int(), z.positive()),
});
export type LockRequest = z.input<typeof LockRequest>;

/**
 * What releaseLock did: `released` the caller's lock (returned as it was), or found the lock
 * `already-free` and changed nothing (a repeated release, or a lease that ran out and was let go).
 */
export type LockRelease = { outcome: 'released'; lock: EnvironmentLock } | { outcome: 'already-free' };

// ---------------------------------------------------------------------------------------------
// task tokens

export const WaitKind = z.enum([
  'refresh',
  'image',
  'command',
  'hook',
  'approval',
  'target-health',
  'lock',
  'alarm',
  'group',
]);
export type WaitKind = z.infer<typeof WaitKind>;

export const TaskToken = z.object({
  waitKind: WaitKind,
  /** What the task waits for: instance refresh id, image id, command id, lifecycle token, … */
  key: KeyName,
  token: NonEmpty,
  deploymentId: NonEmpty,
  /** Epoch milliseconds: the task's own deadline. */
  expiresAt: z.number().check(z.int(), z.positive()),
});
export type TaskToken = z.infer<typeof TaskToken>;

// ---------------------------------------------------------------------------------------------
// claims (shared/store/claims.ts)

/**
 * What a claim guards, one scope per kind of reaction (issue 11):
 * - `lifecycle`: a lifecycle action being handled (key `<region>/<group>/<instance>/<transition>`);
 * - `alarm-rollback`: the automatic rollback an alarm started (key `<service>/<environment>/<release>`),
 *   so a flapping alarm rolls back once;
 * - `slack-request`: a Slack request already acted on (key: its signature), so a replay changes nothing;
 * - `notification`: a notification already sent (key `<deployment>/<event>`);
 * - `reconcile`: one reconciler run at a time (key `run`).
 */
export const ClaimScope = z.enum([
  'lifecycle',
  'alarm-rollback',
  'slack-request',
  'notification',
  'reconcile',
]);
export type ClaimScope = z.infer<typeof ClaimScope>;

export const ClaimInput = z.object({
  scope: ClaimScope,
  key: KeyName,
  /** Who handles it: a Lambda request id, an execution name, `reconciler`, … */
  holder: NonEmpty,
  /** Epoch milliseconds: a `held` claim past this may be taken over; a `done` one is kept until then. */
  expiresAt: z.number().check(z.int(), z.positive()),
  /** What the holder needs to find again (an execution ARN, a deployment id, …). */
  data: z.optional(z.record(z.string(), z.unknown())),
});
export type ClaimInput = z.input<typeof ClaimInput>;

export const Claim = z.extend(ClaimInput, {
  status: z.enum(['held', 'done']),
  claimedAt: IsoTime,
  settledAt: z.optional(IsoTime),
  outcome: z.optional(z.string()),
});
export type Claim = z.infer<typeof Claim>;

// ---------------------------------------------------------------------------------------------
// audit

export const AuditInput = z.object({
  actor: NonEmpty,
  action: NonEmpty,
  /** `kind:name`, e.g. `service:web`, `release:web@1.4.0`, `deployment:d-1`, `environment:web/prod`, `image:us-east-1/ami-…`. */
  target: z.string().check(
    z.minLength(1),
    z.refine((value) => !value.includes('#'), 'must not contain "#"'),
  ),
  /** Indexes the entry under its service too, so `listAudit({ service })` sees everything it owns. */
  service: z.optional(KeyName),
  before: z.optional(z.unknown()),
  after: z.optional(z.unknown()),
  reason: z.optional(z.string()),
  deploymentId: z.optional(z.string()),
});
export type AuditInput = z.input<typeof AuditInput>;

export const AuditEntry = z.extend(AuditInput, { at: IsoTime });
export type AuditEntry = z.infer<typeof AuditEntry>;

/** Targets of audit entries, one spelling for the whole code base. */
export const auditTarget = {
  service: (service: string) => `service:${service}`,
  artifact: (service: string, version: string) => `artifact:${service}@${version}`,
  release: (service: string, version: string) => `release:${service}@${version}`,
  deployment: (id: string) => `deployment:${id}`,
  environment: (service: string, environment: string) => `environment:${service}/${environment}`,
  image: (region: string, imageId: string) => `image:${region}/${imageId}`,
};

// ---------------------------------------------------------------------------------------------
// listings

export const PageRequest = z.object({
  limit: z.optional(z.number().check(z.int(), z.gte(1), z.lte(1000))),
  cursor: z.optional(NonEmpty),
});
export type PageRequest = z.input<typeof PageRequest>;

export interface Page<T> {
  items: T[];
  /** Present when more items may follow; pass it back as `cursor` for the next page. */
  cursor?: string;
}
