/**
 * The install (and the optional smoke check) with Run Command, and the callback wait for it
 * (DESIGN.md rule 5): `waitForCommand` stores the task token keyed by the command id, then looks
 * once; on-progress resumes the task on SSM's "EC2 Command Status-change Notification", and the
 * task's TimeoutSeconds resumes it anyway. Either way `checkCommand` reads the real status: the
 * callback is only a wake-up.
 */
import { commandComment, WAIT_POLL_SECONDS, type CommandPurpose } from '../../domain/bake';
import { BakeFailedError } from '../../domain/step-errors';
import { checkDeadline } from './builder';
import { builderOf, planOf, type BakeDeps, type BakeState } from './deps';

/** Single-quoted for sh: every ' becomes '\'' (POSIX shell quoting). */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The artifact's location and digest, for the install commands: exported as KILN_ARTIFACT_URI,
 * KILN_ARTIFACT_DIGEST and KILN_ARTIFACT_KIND; an S3 artifact is also downloaded to
 * KILN_ARTIFACT_PATH with the builder's instance profile (the AWS CLI is on Amazon Linux).
 */
export function artifactPrelude(artifact: BakeState['artifact']): string[] {
  const lines = [
    'set -euo pipefail',
    `export KILN_ARTIFACT_URI=${shellQuote(artifact.uri)}`,
    `export KILN_ARTIFACT_DIGEST=${shellQuote(artifact.digest)}`,
    `export KILN_ARTIFACT_KIND=${shellQuote(artifact.kind)}`,
  ];
  if (artifact.kind === 's3') {
    lines.push(
      'export KILN_ARTIFACT_PATH=/tmp/kiln-artifact',
      'aws s3 cp "$KILN_ARTIFACT_URI" "$KILN_ARTIFACT_PATH"',
    );
  }
  return lines;
}

export async function sendCommand(
  state: BakeState,
  deps: BakeDeps,
): Promise<{ commandId: string; purpose: CommandPurpose }> {
  const plan = planOf(state);
  const purpose: CommandPurpose = state.purpose ?? 'install';
  const service = await deps.store.getService(state.service, { version: state.manifestVersion });
  if (!service)
    throw new BakeFailedError(`service ${state.service} has no manifest version ${state.manifestVersion}`);
  const { bake } = service.manifest;
  const instanceId = builderOf(state);
  let documentName = 'AWS-RunShellScript';
  let parameters: Record<string, string[]>;
  if (purpose === 'smoke-check') {
    if (!bake.smokeCheck) throw new BakeFailedError('the manifest has no bake.smokeCheck');
    parameters = { commands: [...artifactPrelude(state.artifact), ...bake.smokeCheck.commands] };
  } else if (bake.install.ssmDocument) {
    // The document declares artifactUri and artifactDigest parameters (README, "Bake").
    documentName = bake.install.ssmDocument.name;
    parameters = {
      ...bake.install.ssmDocument.parameters,
      artifactUri: [state.artifact.uri],
      artifactDigest: [state.artifact.digest],
    };
  } else {
    parameters = { commands: [...artifactPrelude(state.artifact), ...(bake.install.commands ?? [])] };
  }
  const remainingSeconds = Math.floor((plan.deadline - deps.now()) / 1000);
  const { commandId } = await deps.ssm(plan.region).sendOnce({
    instanceId,
    comment: commandComment(state.deploymentId, purpose),
    documentName,
    parameters,
    deliveryTimeoutSeconds: Math.max(30, remainingSeconds),
  });
  return { commandId, purpose };
}

/** Stores the task token under the command id, then looks once: done already → wakes itself. */
export async function waitForCommand(state: BakeState, taskToken: string, deps: BakeDeps): Promise<void> {
  const command = commandOf(state);
  await deps.store.putTaskToken({
    waitKind: 'command',
    key: command.commandId,
    token: taskToken,
    deploymentId: state.deploymentId,
    expiresAt: deps.now() + WAIT_POLL_SECONDS.command * 1000,
  });
  const result = await deps.ssm(planOf(state).region).commandResult(command.commandId, builderOf(state));
  if (result.state !== 'running' && (await deps.store.takeTaskToken('command', command.commandId))) {
    await deps.wake(taskToken, { woken: 'poll' });
  }
}

/** Done (success), still running (wait again), or the bake fails with what the command said. */
export async function checkCommand(state: BakeState, deps: BakeDeps): Promise<{ done: boolean }> {
  const command = commandOf(state);
  const instanceId = builderOf(state);
  const result = await deps.ssm(planOf(state).region).commandResult(command.commandId, instanceId);
  if (result.state === 'success') return { done: true };
  if (result.state === 'running') {
    checkDeadline(state, deps, `the ${command.purpose} command ${command.commandId} was running`);
    return { done: false };
  }
  throw new BakeFailedError(
    `the ${command.purpose} command ${command.commandId} on builder ${instanceId} ended ${result.status}` +
      (result.output === undefined ? '' : `: ${result.output}`),
  );
}

function commandOf(state: BakeState): { commandId: string; purpose: CommandPurpose } {
  if (!state.command) throw new Error('no command in the state ($.command)');
  return state.command;
}
