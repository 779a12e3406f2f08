import { z } from 'zod';
import { DEPLOYMENT_STATUSES } from '../domain/deployment';
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
const Version = z.number().int().min(0);

/** EC2 resource IDs are the prefix plus 8 or 17 hex characters (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/resource-ids.html). */
export const AmiId = z
  .string()
  .regex(/^ami-([0-9a-f]{8}|[0-9a-f]{17})$/, 'must be an AMI ID (ami- and 8 or 17 hex digits)');
const Region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS Region code such as us-east-1');

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
    .refine((amis) => Object.keys(amis).length > 0, 'must name at least one Region'),
  artifact: z.object({ uri: ArtifactUri, digest: ArtifactDigest }),
  recipeHash: z.string().min(1),
  baseAmiId: AmiId,
});
export type ReleaseInput = z.input<typeof ReleaseInput>;

export const Release = ReleaseInput.extend({ createdAt: IsoTime, createdBy: z.string() });
export type Release = z.infer<typeof Release>;

// ---------------------------------------------------------------------------------------------
// artifacts (what CI published, before it is baked into a release)

/**
 * The limits (version, digest, URI) are defined once in shared/domain/limits.ts, which the
 * artifact events are parsed with too: an event that parses can always be recorded.
 */
export const ArtifactInput = StoredArtifact;
export type ArtifactInput = z.input<typeof ArtifactInput>;

export const ArtifactRecord = ArtifactInput.extend({ receivedAt: IsoTime, receivedBy: z.string() });
export type ArtifactRecord = z.infer<typeof ArtifactRecord>;

// ---------------------------------------------------------------------------------------------
// deployments

export const DeploymentTrigger = z.enum(['artifact', 'chatops', 'cli', 'alarm', 'reconciler']);
export type DeploymentTrigger = z.infer<typeof DeploymentTrigger>;

export const DeploymentStep = z.object({
  name: z.string().min(1),
  status: z.string().min(1),
  startedAt: IsoTime,
  endedAt: IsoTime.optional(),
  detail: z.string().optional(),
});
export type DeploymentStep = z.infer<typeof DeploymentStep>;

/** A step as a caller records it; `startedAt` defaults to the store's clock. */
export const StepInput = DeploymentStep.extend({ startedAt: IsoTime.optional() });
export type StepInput = z.input<typeof StepInput>;

export const DeploymentInput = z.object({
  /** Chosen by the caller (the deterministic execution name), so a duplicate start is detectable. */
  id: KeyName,
  service: KeyName,
  /** The release version being deployed (`version` on a deployment is the record's version). */
  releaseVersion: KeyName,
  environments: z.array(KeyName).min(1, 'must name at least one environment'),
  trigger: DeploymentTrigger,
  actor: z.string().min(1),
  reason: z.string().optional(),
});
export type DeploymentInput = z.input<typeof DeploymentInput>;

/** Statuses and their allowed moves are the domain's (shared/domain/deployment.ts). */
export const DeploymentStatus = z.enum(DEPLOYMENT_STATUSES);

export const Deployment = DeploymentInput.extend({
  /** Starts `queued`; moves only as shared/domain/deployment.ts allows. */
  status: DeploymentStatus,
  steps: z.array(DeploymentStep),
  outcome: z.string().optional(),
  createdAt: IsoTime,
  updatedAt: IsoTime,
  version: Version,
});
export type Deployment = z.infer<typeof Deployment>;

export const DeploymentPatch = z
  .object({
    status: DeploymentStatus.optional(),
    outcome: z.string().min(1).optional(),
    reason: z.string().min(1).optional(),
  })
  .refine(
    (patch) => Object.values(patch).some((value) => value !== undefined),
    'must change at least one field',
  );
export type DeploymentPatch = z.input<typeof DeploymentPatch>;

/** A status move as a step handler makes it: from the status it read, to the next. */
export const DeploymentMove = z.object({
  from: DeploymentStatus,
  to: DeploymentStatus,
  outcome: z.string().min(1).optional(),
  reason: z.string().min(1).optional(),
});
export type DeploymentMove = z.input<typeof DeploymentMove>;

// ---------------------------------------------------------------------------------------------
// environment state and lock

export const LaunchTemplateRef = z.object({
  id: z.string().regex(/^lt-([0-9a-f]{8}|[0-9a-f]{17})$/, 'must be a launch template ID (lt-…)'),
  /** Always an explicit version number, never $Latest/$Default (DESIGN.md rule 2). */
  version: z.number().int().min(1),
});

export const Capacity = z
  .object({ min: z.number().int().min(0), max: z.number().int().min(0), desired: z.number().int().min(0) })
  .refine((c) => c.min <= c.desired && c.desired <= c.max, 'must satisfy min <= desired <= max');

export const EnvironmentLock = z.object({
  holder: z.string(),
  deploymentId: z.string().optional(),
  /** Epoch milliseconds. */
  acquiredAt: z.number(),
  /** Epoch milliseconds. */
  expiresAt: z.number(),
});
export type EnvironmentLock = z.infer<typeof EnvironmentLock>;

export const EnvironmentState = z.object({
  service: z.string(),
  environment: z.string(),
  currentRelease: z.string().optional(),
  previousRelease: z.string().optional(),
  launchTemplate: LaunchTemplateRef.optional(),
  capacity: Capacity.optional(),
  lock: EnvironmentLock.optional(),
  /** 0 until the first state update; lock operations leave it alone. */
  version: Version,
  updatedAt: IsoTime.optional(),
});
export type EnvironmentState = z.infer<typeof EnvironmentState>;

/** Fields to set; `null` removes a field. The lock is changed only through the lock methods. */
export const EnvironmentPatch = z
  .object({
    currentRelease: KeyName.nullable().optional(),
    previousRelease: KeyName.nullable().optional(),
    launchTemplate: LaunchTemplateRef.nullable().optional(),
    capacity: Capacity.nullable().optional(),
  })
  .strict()
  .refine(
    (patch) => Object.values(patch).some((value) => value !== undefined),
    'must change at least one field',
  );
export type EnvironmentPatch = z.input<typeof EnvironmentPatch>;

export const LockRequest = z.object({
  holder: z.string().min(1),
  deploymentId: z.string().min(1).optional(),
  leaseMs: z.number().int().positive(),
});
export type LockRequest = z.input<typeof LockRequest>;

/**
 * What releaseLock did: `released` the caller's lock (returned as it was), or found the lock
 * `already-free` and changed nothing (a repeated release, or a lease that ran out and was let go).
 */
export type LockRelease = { outcome: 'released'; lock: EnvironmentLock } | { outcome: 'already-free' };

// ---------------------------------------------------------------------------------------------
// task tokens

export const WaitKind = z.enum(['refresh', 'image', 'command', 'hook', 'approval', 'target-health']);
export type WaitKind = z.infer<typeof WaitKind>;

export const TaskToken = z.object({
  waitKind: WaitKind,
  /** What the task waits for: instance refresh id, image id, command id, lifecycle token, … */
  key: KeyName,
  token: z.string().min(1),
  deploymentId: z.string().min(1),
  /** Epoch milliseconds: the task's own deadline. */
  expiresAt: z.number().int().positive(),
});
export type TaskToken = z.infer<typeof TaskToken>;

// ---------------------------------------------------------------------------------------------
// audit

export const AuditInput = z.object({
  actor: z.string().min(1),
  action: z.string().min(1),
  /** `kind:name`, e.g. `service:web`, `release:web@1.4.0`, `deployment:d-1`, `environment:web/prod`. */
  target: z
    .string()
    .min(1)
    .refine((value) => !value.includes('#'), 'must not contain "#"'),
  /** Indexes the entry under its service too, so `listAudit({ service })` sees everything it owns. */
  service: KeyName.optional(),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
  reason: z.string().optional(),
  deploymentId: z.string().optional(),
});
export type AuditInput = z.input<typeof AuditInput>;

export const AuditEntry = AuditInput.extend({ at: IsoTime });
export type AuditEntry = z.infer<typeof AuditEntry>;

/** Targets of audit entries, one spelling for the whole code base. */
export const auditTarget = {
  service: (service: string) => `service:${service}`,
  artifact: (service: string, version: string) => `artifact:${service}@${version}`,
  release: (service: string, version: string) => `release:${service}@${version}`,
  deployment: (id: string) => `deployment:${id}`,
  environment: (service: string, environment: string) => `environment:${service}/${environment}`,
};

// ---------------------------------------------------------------------------------------------
// listings

export const PageRequest = z.object({
  limit: z.number().int().min(1).max(1000).optional(),
  cursor: z.string().min(1).optional(),
});
export type PageRequest = z.input<typeof PageRequest>;

export interface Page<T> {
  items: T[];
  /** Present when more items may follow; pass it back as `cursor` for the next page. */
  cursor?: string;
}
