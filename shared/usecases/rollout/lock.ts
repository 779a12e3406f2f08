/**
 * The environment lock (DESIGN.md rule 3): one lease per service and environment, holder = the
 * deployment id, ROLLOUT_LEASE_MS long and renewed by every check step.
 *
 * Course of `takeLock` (`TakeLock`, before an environment is touched):
 * 1. An abort request ends the deployment here (`aborted`): nothing has moved in this environment.
 * 2. Supersede: a newer non-final deployment of the service that includes this environment makes
 *    this one `superseded` (only while it is still queued or baking: one that rolls out is never
 *    superseded), recording which one.
 * 3. The lease: acquired (the first environment's moves the deployment to rolling-out), or held by
 *    another deployment (`wait`: `WaitLock` stores the token and the holder wakes it on release;
 *    its timeout polls, so a crashed holder's lease expiring is found within 5 minutes).
 */
import { supersededBy } from '../../domain/rollout';
import { isFinal } from '../../domain/deployment';
import { LockHeldError, StaleStatusError, type Deployment } from '../../store';
import { currentEnvironment, environmentIn, manifestOf } from './course';
import { tokenKeys, type LockOutcome, type RolloutDeps, type RolloutState } from './deps';
import { notifyStarted } from './notices';
import { deploymentOf, ROLLOUT_LEASE_MS } from './progress';

/** How long WaitLock's task waits before it polls (its TimeoutSeconds in deploy.asl.json). */
export const LOCK_WAIT_SECONDS = 300;

export async function takeLock(state: RolloutState, deps: RolloutDeps): Promise<LockOutcome> {
  const environment = currentEnvironment(state);
  const deployment = await deploymentOf(state, deps);
  if (deployment.status === 'superseded') return { outcome: 'superseded' };
  if (deployment.abort !== undefined) return { outcome: 'aborted' };

  const newer = await newerDeployment(deployment, environment, deps);
  if (newer) {
    await moveOrAccept(deployment, 'superseded', deps, {
      outcome: `superseded by ${newer.id}`,
      reason: `superseded by deployment ${newer.id} (${state.service}@${newer.releaseVersion}), newer and waiting for ${environment}`,
    });
    return { outcome: 'superseded', holder: newer.id };
  }

  let until: number;
  try {
    const lock = await deps.store.acquireLock(state.service, environment, {
      holder: state.deploymentId,
      deploymentId: state.deploymentId,
      leaseMs: ROLLOUT_LEASE_MS,
    });
    until = lock.expiresAt;
  } catch (error) {
    if (!(error instanceof LockHeldError)) throw error;
    await recordLockWait(state, environment, error, deps);
    return { outcome: 'wait', holder: error.holder, until: error.expiresAt };
  }
  if (deployment.status === 'queued' || deployment.status === 'baking') {
    await moveOrAccept(deployment, 'rolling-out', deps, {
      reason: `holds the lock of ${environment}`,
    });
  }
  // The first environment's lock is where the deployment starts changing things. (A retried
  // TakeLock finds the deployment rolling-out already; the notice's claim keeps it to one.)
  if (state.rollout?.index === 0) await notifyStarted(state, state.rollout, deps);
  return { outcome: 'acquired', holder: state.deploymentId, until };
}

/**
 * Stores the token under service/environment/deployment, then looks once: the lock free (or its
 * lease run out), or an abort requested, wakes the task at once so it takes the lock again.
 */
export async function waitForLock(state: RolloutState, taskToken: string, deps: RolloutDeps): Promise<void> {
  const environment = currentEnvironment(state);
  const key = tokenKeys.lock(state.service, environment, state.deploymentId);
  await deps.store.putTaskToken({
    waitKind: 'lock',
    key,
    token: taskToken,
    deploymentId: state.deploymentId,
    expiresAt: deps.now() + LOCK_WAIT_SECONDS * 1000,
  });
  const { lock } = await deps.store.getEnvironmentState(state.service, environment);
  const free = !lock || lock.expiresAt <= deps.now() || lock.holder === state.deploymentId;
  const aborted = (await deploymentOf(state, deps)).abort !== undefined;
  if ((free || aborted) && (await deps.store.takeTaskToken('lock', key))) {
    await deps.wake(taskToken, { woken: aborted ? 'abort' : 'poll' });
  }
}

/**
 * Releases this deployment's lock on `environment` (a lock already free, or never taken, is
 * fine) and wakes every deployment waiting for it; they race for it in TakeLock, where the
 * supersede rule decides between them.
 */
export async function releaseLock(
  service: string,
  environment: string,
  deploymentId: string,
  deps: Pick<RolloutDeps, 'store' | 'wake'>,
): Promise<void> {
  const { lock } = await deps.store.getEnvironmentState(service, environment);
  if (lock?.holder === deploymentId) {
    await deps.store.releaseLock(service, environment, { holder: deploymentId });
  }
  await wakeLockWaiters(service, environment, deps);
}

export async function wakeLockWaiters(
  service: string,
  environment: string,
  deps: Pick<RolloutDeps, 'store' | 'wake'>,
): Promise<number> {
  const prefix = tokenKeys.lockPrefix(service, environment);
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.listTaskTokens({
      waitKind: 'lock',
      limit: 100,
      ...(cursor === undefined ? {} : { cursor }),
    });
    for (const token of page.items) if (token.key.startsWith(prefix)) keys.push(token.key);
    cursor = page.cursor;
  } while (cursor !== undefined);
  let woken = 0;
  for (const key of keys.sort()) {
    const token = await deps.store.takeTaskToken('lock', key);
    if (!token) continue;
    await deps.wake(token.token, { woken: 'lock-released' });
    woken += 1;
  }
  return woken;
}

async function newerDeployment(
  deployment: Deployment,
  environment: string,
  deps: RolloutDeps,
): Promise<Deployment | undefined> {
  if (deployment.status !== 'queued' && deployment.status !== 'baking') return undefined;
  // Newest first: the first page holds every deployment that can be newer than one still waiting.
  const page = await deps.store.listDeployments(deployment.service, { environment, limit: 50 });
  const newer = supersededBy(deployment, page.items, environment);
  return newer ? page.items.find((item) => item.id === newer.id) : undefined;
}

async function recordLockWait(
  state: RolloutState,
  environment: string,
  held: LockHeldError,
  deps: RolloutDeps,
): Promise<void> {
  const manifest = await manifestOf(state, deps);
  const deployment = await deploymentOf(state, deps);
  await deps.store.updateDeployment(
    state.deploymentId,
    {
      rollout: {
        environment,
        index: state.rollout?.index ?? 0,
        strategy: environmentIn(manifest, environment).strategy.type,
        phase: 'waiting-lock',
        detail: `lock held by ${held.holder} until ${new Date(held.expiresAt).toISOString()}`,
        at: new Date(deps.now()).toISOString(),
      },
    },
    deployment.version,
    { actor: deps.actor },
  );
}

/**
 * Moves the deployment, or accepts that a re-run of this step already did (the ASL retries a step
 * whose answer was lost).
 */
export async function moveOrAccept(
  deployment: Deployment,
  to: Deployment['status'],
  deps: Pick<RolloutDeps, 'store' | 'actor'>,
  details: { outcome?: string; reason?: string } = {},
): Promise<Deployment> {
  if (deployment.status === to || isFinal(deployment.status)) return deployment;
  try {
    return await deps.store.moveDeployment(
      deployment.id,
      { from: deployment.status, to, ...details },
      { actor: deps.actor },
    );
  } catch (error) {
    if (error instanceof StaleStatusError) {
      const current = await deps.store.getDeployment(deployment.id);
      if (current?.status === to) return current;
    }
    throw error;
  }
}
