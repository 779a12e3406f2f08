/**
 * Starting a deployment of a release that exists (`kiln deploy`, `kiln rollback`; chat later):
 * creates the deployment record, then starts the deploy state machine without an artifact, so it
 * skips the bake (shared/domain/deploy-execution.ts).
 *
 * Course:
 * 1. The service has a manifest; every environment asked for is in it (kept in the manifest's
 *    promotion order, whatever order they were asked in).
 * 2. The release: for a deploy, the version asked for exists and has an AMI in every environment's
 *    Region. For a rollback (one environment), the target is `version` when given, else the
 *    environment's previous release; either way it must be an earlier record of the environment's
 *    history, since a rollback restores exactly what that record holds (launch template version,
 *    capacity, group). A version the history does not hold is refused naming what it holds.
 * 3. The deployment record (trigger, actor, reason, mode), under a new time-sortable id that is
 *    also the execution's name (a ULID-like 26 characters: a valid execution name). Audited by the
 *    store with the actor.
 * 4. StartExecution with { deploymentId, service, version, manifestVersion, environments, mode }.
 *    If Step Functions refuses it (no such state machine, access denied), the deployment is moved
 *    to `failed` with AWS's answer, so no `queued` record waits for an execution that never ran;
 *    a transient failure leaves it `queued` (the start may have landed) and is rethrown.
 *
 * Every refusal in 1-2 is a DeploymentRequestError naming the field, before anything is written.
 */
import type { DeployExecutions } from '../../aws/sfn';
import type { DeployExecutionInput } from '../../domain/deploy-execution';
import type { ServiceManifest } from '../../domain/manifest/schema';
import { AwsRequestRefusedError } from '../../domain/step-errors';
import { newDeploymentId, type IdSource } from '../../runtime/ids';
import type { KilnStore } from '../../store';
import type { Deployment, DeploymentTrigger, EnvironmentState } from '../../store/schemas';
import { DeploymentRequestError } from './errors';

export interface StartDeploymentInput {
  service: string;
  /** The release to deploy; for a rollback without `--to`, the environment's previous release. */
  version?: string;
  environments: string[];
  mode: 'deploy' | 'rollback';
  trigger: DeploymentTrigger;
  actor: string;
  reason?: string;
}

export interface StartDeploymentDeps {
  store: KilnStore<ServiceManifest>;
  /** Only naming and starting executions is needed (a caller may wrap them, as the CLI does). */
  executions: Pick<DeployExecutions, 'executionArn' | 'start'>;
  ids: IdSource;
  now: () => number;
}

export async function startDeployment(
  input: StartDeploymentInput,
  deps: StartDeploymentDeps,
): Promise<{ deployment: Deployment; executionArn: string }> {
  const { store } = deps;
  const service = await store.getService(input.service);
  if (service === undefined) {
    throw new DeploymentRequestError(
      `no service named "${input.service}": \`kiln services list\` shows the services Kiln knows`,
      'service',
    );
  }
  const environments = inManifestOrder(service.manifest, input.environments);
  const version =
    input.mode === 'deploy'
      ? await releaseToDeploy(input, service.manifest, environments, deps)
      : await releaseToRestore(input, environments, deps);

  const id = newDeploymentId(deps.ids, deps.now);
  const executionArn = deps.executions.executionArn(id);
  const deployment = await store.createDeployment({
    id,
    service: input.service,
    releaseVersion: version,
    environments,
    trigger: input.trigger,
    actor: input.actor,
    mode: input.mode,
    executionArn,
    ...(input.reason === undefined ? {} : { reason: input.reason }),
  });
  const execution: DeployExecutionInput = {
    deploymentId: id,
    service: input.service,
    version,
    manifestVersion: service.version,
    environments,
    mode: input.mode,
  };
  try {
    const started = await deps.executions.start(id, execution);
    return { deployment, executionArn: started.executionArn };
  } catch (error) {
    const refusal = refusalIn(error);
    if (refusal !== undefined) {
      await store.moveDeployment(
        id,
        { from: 'queued', to: 'failed', outcome: 'failed', reason: `not started: ${refusal.message}` },
        { actor: input.actor },
      );
    }
    throw error;
  }
}

/** The environments asked for, checked against the manifest and put in its promotion order. */
function inManifestOrder(manifest: ServiceManifest, requested: readonly string[]): string[] {
  const names = manifest.environments.map((env) => env.name);
  if (requested.length === 0) {
    throw new DeploymentRequestError(
      `name at least one environment of ${manifest.name} (${names.join(', ')})`,
      'environments',
    );
  }
  const unknown = requested.filter((name) => !names.includes(name));
  if (unknown.length > 0) {
    throw new DeploymentRequestError(
      `${manifest.name} has no environment ${unknown.map((name) => `"${name}"`).join(', ')} (its environments: ${names.join(', ')})`,
      'environments',
    );
  }
  return names.filter((name) => requested.includes(name));
}

async function releaseToDeploy(
  input: StartDeploymentInput,
  manifest: ServiceManifest,
  environments: readonly string[],
  deps: StartDeploymentDeps,
): Promise<string> {
  const { version } = input;
  if (version === undefined)
    throw new DeploymentRequestError('a deploy needs the version to deploy', 'version');
  const release = await deps.store.getRelease(input.service, version);
  if (release === undefined) {
    const recent = await deps.store.listReleases(input.service, { limit: 5 });
    const known = recent.items.map((r) => r.version);
    throw new DeploymentRequestError(
      `${input.service} has no release ${version}: Kiln deploys releases it has baked` +
        (known.length === 0 ? ' (it has none yet)' : ` (newest: ${known.join(', ')})`),
      'version',
    );
  }
  // Every environment's Region needs the AMI, or its rollout would fail half-way through.
  for (const env of manifest.environments.filter((e) => environments.includes(e.name))) {
    if (release.amis[env.region] === undefined) {
      throw new DeploymentRequestError(
        `release ${input.service}@${version} has no AMI in ${env.region}, where ${env.name} runs (it has: ${Object.keys(release.amis).join(', ')})`,
        'version',
      );
    }
  }
  return version;
}

async function releaseToRestore(
  input: StartDeploymentInput,
  environments: readonly string[],
  deps: StartDeploymentDeps,
): Promise<string> {
  const [environment] = environments;
  if (environment === undefined || environments.length > 1) {
    throw new DeploymentRequestError('a rollback restores one environment at a time', 'environments');
  }
  const state = await deps.store.getEnvironmentState(input.service, environment);
  const earlier = earlierReleases(state);
  const where = `${input.service}/${environment}`;
  const holds = `its history holds ${describeHistory(state)}`;
  const target = input.version ?? state.previousRelease ?? earlier[0];
  if (target === undefined) {
    throw new DeploymentRequestError(
      `${where} has no earlier release to roll back to: ${holds}`,
      'environments',
    );
  }
  if (target === state.currentRelease) {
    throw new DeploymentRequestError(`${where} runs ${target} already: ${holds}`, 'version');
  }
  if (!earlier.includes(target)) {
    throw new DeploymentRequestError(
      `${where} has no record of ${target} to restore: ${holds}`,
      input.version === undefined ? 'environments' : 'version',
    );
  }
  if ((await deps.store.getRelease(input.service, target)) === undefined) {
    throw new DeploymentRequestError(
      `release ${input.service}@${target} is no longer in the store`,
      'version',
    );
  }
  return target;
}

/** The releases of the environment's history other than the current one, newest first. */
function earlierReleases(state: EnvironmentState): string[] {
  const history = state.history ?? [];
  return history.filter((record) => record.release !== state.currentRelease).map((record) => record.release);
}

function describeHistory(state: EnvironmentState): string {
  const history = state.history ?? [];
  if (history.length === 0) return 'nothing (no rollout has completed there)';
  return history
    .map((record) => `${record.release}${record.release === state.currentRelease ? ' (current)' : ''}`)
    .join(', ');
}

/** Step Functions' definitive refusal, possibly wrapped by the caller (the CLI explains errors). */
function refusalIn(error: unknown): AwsRequestRefusedError | undefined {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof AwsRequestRefusedError) return cause;
  }
  return undefined;
}
