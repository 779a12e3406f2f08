/**
 * `prepare-environment`: settles what the environment runs now (the before record, restored
 * exactly by a rollback) and what it moves to (the target), before anything in it changes.
 *
 * Course:
 * 1. The environment's group: the one the environment state names active (blue/green moves it),
 *    else the manifest's; DescribeAutoScalingGroups. A refresh still at work on it is not this
 *    deployment's (it holds the lock and has started none): a killed holder's, or a person's. The
 *    step waits for it to end (RefreshInProgressError, retried by the ASL) rather than take a
 *    half-moved group for the before record. Its launch template version is resolved to a number
 *    (DESIGN.md rule 2: `$Latest`/`$Default` never travel further).
 * 2. The before record: the recorded release (or `unrecorded` when Kiln never rolled this
 *    environment), the group, that version and the group's capacity now.
 * 3. The target. Deploy: a new launch template version from the current one (`SourceVersion`)
 *    with only the image changed to the release's AMI for the environment's Region, made once per
 *    deployment and environment (client token). Rollback mode: the environment history's record
 *    of the release, exactly: its launch template version, capacity and group; a release the
 *    history does not hold is an error naming what it holds.
 */
import { clientToken } from '../../domain/ids';
import { recordOf } from '../../domain/rollout';
import { EnvironmentSetupError, RefreshInProgressError } from '../../domain/step-errors';
import type { EnvironmentRecord } from '../../store/schemas';
import { currentEnvironment, environmentIn, manifestOf, releaseOf } from './course';
import type { EnvironmentRun, RolloutDeps, RolloutState } from './deps';
import { deploymentOf } from './progress';

/** The release name of a before record Kiln has no record of (the platform's initial fleet). */
export const UNRECORDED_RELEASE = 'unrecorded';

export async function prepareEnvironment(state: RolloutState, deps: RolloutDeps): Promise<EnvironmentRun> {
  const name = currentEnvironment(state);
  const env = environmentIn(await manifestOf(state, deps), name);
  const recorded = await deps.store.getEnvironmentState(state.service, name);
  const groupName = recorded.activeGroup ?? env.autoScalingGroup;
  const group = await deps.autoScaling(env.region).describeGroup(groupName);
  if (!group) {
    throw new EnvironmentSetupError(
      `environment ${name}: Auto Scaling group ${groupName} does not exist in ${env.region}`,
    );
  }
  if (!group.launchTemplate) {
    throw new EnvironmentSetupError(
      `environment ${name}: group ${groupName} launches from no launch template (a launch configuration or a mixed instances policy); Kiln rolls launch template versions only`,
    );
  }
  const active = await deps.autoScaling(env.region).activeRefresh(groupName);
  if (active) {
    throw new RefreshInProgressError(
      `environment ${name}: group ${groupName} has instance refresh ${active.refreshId} ${active.status}, not started by this deployment; waiting for it to end`,
      active.refreshId,
      active.desiredLaunchTemplate,
    );
  }
  const templates = deps.launchTemplates(env.region);
  const currentVersion = await templates.resolveVersion(
    group.launchTemplate.id,
    group.launchTemplate.version,
  );
  const now = deps.now();
  const head = recorded.history?.[0];
  const before: EnvironmentRecord = {
    release: recorded.currentRelease ?? UNRECORDED_RELEASE,
    group: group.name,
    launchTemplate: { id: group.launchTemplate.id, version: currentVersion },
    capacity: group.capacity,
    since: head?.since ?? new Date(now).toISOString(),
    ...(head?.deploymentId === undefined ? {} : { deploymentId: head.deploymentId }),
  };

  const mode = state.rollout?.mode ?? state.mode ?? 'deploy';
  let target: EnvironmentRun['target'];
  if (mode === 'rollback') {
    const record = recordOf(recorded.history, state.version, `environment ${state.service}/${name}`);
    const version = await templates.describeVersion(record.launchTemplate.id, record.launchTemplate.version);
    if (!version) {
      throw new EnvironmentSetupError(
        `environment ${name}: launch template ${record.launchTemplate.id} version ${record.launchTemplate.version} of release ${record.release} no longer exists`,
      );
    }
    target = {
      release: record.release,
      imageId: version.imageId ?? '',
      launchTemplate: record.launchTemplate,
      group: record.group,
      capacity: record.capacity,
    };
  } else {
    const release = await releaseOf(state, deps);
    const imageId = release.amis[env.region];
    if (imageId === undefined) {
      throw new EnvironmentSetupError(
        `release ${state.service}@${release.version} has no AMI in ${env.region}`,
      );
    }
    const launchTemplate = await templates.createVersion({
      launchTemplateId: group.launchTemplate.id,
      sourceVersion: currentVersion,
      imageId,
      description: `kiln ${state.service}@${release.version} (deployment ${state.deploymentId})`,
      clientToken: clientToken([state.deploymentId, 'lt-version', name]),
    });
    target = {
      release: release.version,
      imageId,
      launchTemplate,
      group: group.name,
      capacity: group.capacity,
    };
  }

  const run: EnvironmentRun = {
    name,
    region: env.region,
    strategy: env.strategy.type,
    before,
    target,
    targetGroupArns: [...env.targetGroupArns],
    startedAt: now,
  };
  const deployment = await deploymentOf(state, deps);
  await deps.store.updateDeployment(
    state.deploymentId,
    {
      rollout: {
        environment: name,
        index: state.rollout?.index ?? 0,
        strategy: run.strategy,
        phase: 'prepared',
        detail: `${before.release} (launch template ${before.launchTemplate.id} v${before.launchTemplate.version}) → ${target.release} (v${target.launchTemplate.version})`,
        fromGroup: before.group,
        toGroup: target.group,
        at: new Date(now).toISOString(),
      },
    },
    deployment.version,
    { actor: deps.actor },
  );
  return run;
}
