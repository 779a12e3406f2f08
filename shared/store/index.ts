export type { ClaimOutcome } from './claims';
export { KilnStore, type KilnStoreOptions, type NamedManifest } from './store';
export {
  AuditMissingError,
  ConflictError,
  LockHeldError,
  LockNotHeldError,
  NotFoundError,
  StaleStatusError,
  StaleVersionError,
} from './errors';
export { IllegalTransitionError } from '../domain/deployment';
export { createTableInput, kilnTableProperties, TABLE_KEYS, type KilnTableProperties } from './table';
export {
  auditTarget,
  type ArtifactInput,
  type ArtifactRecord,
  type AuditEntry,
  type AuditInput,
  type Claim,
  type ClaimInput,
  type ClaimScope,
  type Deployment,
  type DeploymentBake,
  type DeploymentInput,
  type DeploymentRelease,
  type DeploymentMove,
  type DeploymentPatch,
  type DeploymentStep,
  type DeploymentTrigger,
  type EnvironmentLock,
  type EnvironmentPatch,
  type EnvironmentState,
  type LockRelease,
  type LockRequest,
  type Page,
  type PageRequest,
  type Release,
  type ReleaseInput,
  type ServiceRecord,
  type StepInput,
  type TaskToken,
  type WaitKind,
} from './schemas';
