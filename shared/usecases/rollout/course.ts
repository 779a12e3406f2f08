/**
 * `rollout-begin` and what every later step reads again rather than carrying in the state: the
 * release, the pinned manifest and one environment of it.
 *
 * Course of `beginRollout`:
 * 1. The release: `$.release` from the bake's RecordRelease, else the store's record of the
 *    deployment's version (`kiln deploy` of a baked version, `kiln rollback`).
 * 2. The manifest at the pinned `manifestVersion` (a manifest applied meanwhile changes nothing
 *    for a running deployment).
 * 3. The environments: the execution's `environments` subset in the manifest's promotion order,
 *    or all of them; in deploy mode, each one's Region must have the release's AMI.
 * 4. A deployment started for a recorded release (no bake) gets the release linked, as the bake's
 *    RecordRelease links it, so `kiln status` and the sweep see what it carries.
 */
import { rolloutCourse } from '../../domain/rollout';
import type { Environment, ServiceManifest } from '../../domain/manifest/schema';
import type { RolloutCursor, RolloutDeps, RolloutState } from './deps';
import { carriedTarget } from './notices';

export async function beginRollout(state: RolloutState, deps: RolloutDeps): Promise<RolloutCursor> {
  const release = await releaseOf(state, deps);
  const manifest = await manifestOf(state, deps);
  const environments = rolloutCourse(
    manifest.environments.map((env) => env.name),
    state.environments,
  );
  const mode = state.mode ?? 'deploy';
  if (mode === 'deploy') {
    for (const name of environments) {
      const env = environmentIn(manifest, name);
      if (release.amis[env.region] === undefined) {
        throw new Error(
          `release ${state.service}@${release.version} has no AMI in ${env.region} (environment ${name}); ` +
            `it has ${Object.keys(release.amis).join(', ')}`,
        );
      }
    }
  }
  if (mode === 'deploy') {
    const deployment = await deps.store.getDeployment(state.deploymentId);
    if (deployment && deployment.release === undefined) {
      await deps.store.updateDeployment(
        state.deploymentId,
        { release: { version: release.version, amis: release.amis } },
        deployment.version,
        { actor: deps.actor },
      );
    }
  }
  const notifications = carriedTarget(manifest.notifications);
  return {
    mode,
    environments,
    index: 0,
    done: environments.length === 0,
    ...(notifications === undefined ? {} : { notifications }),
  };
}

/** The release the deployment carries: `$.release`, or the store's record of `$.version`. */
export async function releaseOf(
  state: RolloutState,
  deps: RolloutDeps,
): Promise<{ version: string; amis: Record<string, string> }> {
  if (state.release) return state.release;
  const release = await deps.store.getRelease(state.service, state.version);
  if (!release) throw new Error(`release ${state.service}@${state.version} is not recorded`);
  return { version: release.version, amis: release.amis };
}

/** The manifest the deployment was started with (its pinned version). */
export async function manifestOf(state: RolloutState, deps: RolloutDeps): Promise<ServiceManifest> {
  const service = await deps.store.getService(state.service, { version: state.manifestVersion });
  if (!service) throw new Error(`service ${state.service} has no manifest version ${state.manifestVersion}`);
  return service.manifest;
}

export function environmentIn(manifest: ServiceManifest, name: string): Environment {
  const env = manifest.environments.find((candidate) => candidate.name === name);
  if (!env) throw new Error(`the manifest of ${manifest.name} has no environment ${name}`);
  return env;
}

/** The environment the cursor points at. */
export function currentEnvironment(state: RolloutState): string {
  const cursor = cursorOf(state);
  const name = cursor.environments[cursor.index];
  if (name === undefined) throw new Error(`no environment at index ${cursor.index} of the rollout`);
  return name;
}

export function cursorOf(state: RolloutState): RolloutCursor {
  if (!state.rollout) throw new Error('the rollout has not begun (no $.rollout in the state)');
  return state.rollout;
}
