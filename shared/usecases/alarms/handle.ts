/**
 * An alarm changed state (on-alarm; the reconciler's reconcileAlarms for a lost event): what it
 * means for each environment that lists it, decided by shared/domain/alarms.ts, then done.
 *
 * Course:
 * 1. The environments whose manifests list the alarm, in the alarm's Region.
 * 2. For each, the facts from Kiln's store: the deployment holding its lock (a rollout in flight),
 *    its current release, since when and by which kind of deployment, and the previous release.
 * 3. Decide, then act:
 *    - abort: `abortDeployment` with actor `alarm:<name>` (its next step stops the rollout and
 *      restores the previous release; the request is audited there). Then the blue/green watch's
 *      token (waitKind `alarm`) is taken by its key and woken, so a watch in progress decides now
 *      rather than at the end of its bake time: the abort wakes the deployment's waits from the
 *      store's index, which may not list a token stored a moment ago; the key read is consistent.
 *    - rollback: the `alarm-rollback` claim on service/environment/release (one conditional put:
 *      of a flapping alarm's events, or an event and the reconciler, exactly one wins), then
 *      `startDeployment` mode rollback, trigger `alarm`, to the previous release; the claim is
 *      settled with the deployment id. A refusal (e.g. the release is gone) settles the claim
 *      and becomes a notice; a transient failure lets the claim go and is rethrown (Lambda's retry).
 *    - notify: through the AlarmNotices port.
 *    - ignore: OK and INSUFFICIENT_DATA.
 */
import type { DeployExecutions, SfnTasks } from '../../aws/sfn';
import {
  alarmActor,
  decideAlarm,
  rollbackClaimKey,
  watchersOf,
  type AlarmDecision,
  type AlarmSignal,
  type AlarmWatcher,
  type EnvironmentFacts,
} from '../../domain/alarms';
import { isFinal } from '../../domain/deployment';
import type { ServiceManifest } from '../../domain/manifest/schema';
import type { IdSource } from '../../runtime/ids';
import type { KilnStore, ServiceRecord } from '../../store';
import { abortDeployment } from '../deployments/abort';
import { DeploymentRequestError } from '../deployments/errors';
import { startDeployment } from '../deployments/start';
import { tokenKeys, type WakeReason } from '../rollout/deps';
import type { AlarmNotices } from './notices';

export interface AlarmDeps {
  store: KilnStore<ServiceManifest>;
  tasks: Pick<SfnTasks, 'succeed'>;
  executions: Pick<DeployExecutions, 'executionArn' | 'start'>;
  ids: IdSource;
  now: () => number;
  notices: AlarmNotices;
  /** Who holds an `alarm-rollback` claim: the Lambda request id, or `reconciler`. */
  holder: string;
}

export interface AlarmOutcome {
  service: string;
  environment: string;
  action: AlarmDecision['action'];
  /** What came of it: `requested`, `started`, `already-handled`, `already-rolling-back`, `refused`, `notified`, `ignored`. */
  outcome: string;
  deploymentId?: string;
  reason: string;
}

/** A held claim whose holder died may be taken over after this long. */
const CLAIM_HOLD_MS = 15 * 60_000;
/** A settled claim is kept at least this long: the longest watch window (24 h) and a day more. */
const CLAIM_KEEP_MS = 48 * 3600_000;

export async function handleAlarm(signal: AlarmSignal, deps: AlarmDeps): Promise<AlarmOutcome[]> {
  const manifests = await allManifests(deps.store);
  const outcomes: AlarmOutcome[] = [];
  for (const watcher of watchersOf(manifests, signal)) {
    const facts = await environmentFacts(watcher, deps);
    outcomes.push(await act(signal, watcher, decideAlarm(signal, watcher, facts), deps));
  }
  return outcomes;
}

export async function allManifests(store: KilnStore<ServiceManifest>): Promise<ServiceManifest[]> {
  const manifests: ServiceManifest[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listServices({ limit: 100, ...(cursor === undefined ? {} : { cursor }) });
    manifests.push(...page.items.map((record: ServiceRecord<ServiceManifest>) => record.manifest));
    cursor = page.cursor;
  } while (cursor !== undefined);
  return manifests;
}

/** What decideAlarm needs to know of one environment, from Kiln's records. */
export async function environmentFacts(
  watcher: Pick<AlarmWatcher, 'service' | 'environment'>,
  deps: Pick<AlarmDeps, 'store' | 'now'>,
): Promise<EnvironmentFacts> {
  const { store } = deps;
  const state = await store.getEnvironmentState(watcher.service, watcher.environment);
  const facts: EnvironmentFacts = {};
  const { lock } = state;
  if (lock?.deploymentId !== undefined && lock.expiresAt > deps.now()) {
    const holder = await store.getDeployment(lock.deploymentId);
    if (holder !== undefined && !isFinal(holder.status)) {
      facts.rollout = {
        deploymentId: holder.id,
        mode: holder.mode ?? 'deploy',
        status: holder.status,
        since: lock.acquiredAt,
      };
    }
  }
  const [current, earlier] = state.history ?? [];
  if (current !== undefined) {
    const madeBy =
      current.deploymentId === undefined ? undefined : await store.getDeployment(current.deploymentId);
    facts.current = {
      release: current.release,
      since: Date.parse(current.since),
      mode: madeBy === undefined ? undefined : (madeBy.mode ?? 'deploy'),
    };
  }
  const previous = state.previousRelease ?? earlier?.release;
  if (previous !== undefined) facts.previousRelease = previous;
  return facts;
}

export async function act(
  signal: AlarmSignal,
  watcher: AlarmWatcher,
  decision: AlarmDecision,
  deps: AlarmDeps,
): Promise<AlarmOutcome> {
  const base = { service: watcher.service, environment: watcher.environment, action: decision.action };
  switch (decision.action) {
    case 'ignore':
      return { ...base, outcome: 'ignored', reason: decision.reason };
    case 'notify':
      await notify(signal, watcher, decision.reason, deps);
      return { ...base, outcome: 'notified', reason: decision.reason };
    case 'abort':
      return { ...base, ...(await abortRollout(signal, watcher, decision, deps)) };
    case 'rollback':
      return { ...base, ...(await rollBack(signal, watcher, decision, deps)) };
  }
}

async function notify(signal: AlarmSignal, watcher: AlarmWatcher, reason: string, deps: AlarmDeps) {
  await deps.notices.alarmNotice({
    service: watcher.service,
    environment: watcher.environment,
    alarmName: signal.alarmName,
    kind: signal.kind,
    at: signal.at,
    reason,
  });
}

async function abortRollout(
  signal: AlarmSignal,
  watcher: AlarmWatcher,
  decision: Extract<AlarmDecision, { action: 'abort' }>,
  deps: AlarmDeps,
): Promise<{ outcome: string; deploymentId: string; reason: string }> {
  const { deploymentId, reason } = decision;
  let outcome: string;
  try {
    ({ outcome } = await abortDeployment(
      { deploymentId, actor: alarmActor(signal.alarmName), reason },
      { store: deps.store, tasks: deps.tasks, now: deps.now },
    ));
  } catch (error) {
    // It moved to rolling back since the facts were read: restoring already, as asked.
    if (error instanceof DeploymentRequestError)
      return { outcome: 'already-rolling-back', deploymentId, reason };
    throw error;
  }
  if (outcome !== 'already-final') {
    const token = await deps.store.takeTaskToken('alarm', tokenKeys.watch(deploymentId, watcher.environment));
    if (token !== undefined) {
      const wake: WakeReason = { woken: 'abort' };
      try {
        await deps.tasks.succeed(token.token, wake);
      } catch (error) {
        await deps.store.restoreTaskToken(token);
        throw error;
      }
    }
  }
  return { outcome, deploymentId, reason };
}

async function rollBack(
  signal: AlarmSignal,
  watcher: AlarmWatcher,
  decision: Extract<AlarmDecision, { action: 'rollback' }>,
  deps: AlarmDeps,
): Promise<{ outcome: string; deploymentId?: string; reason: string }> {
  const { store } = deps;
  const key = rollbackClaimKey(watcher.service, watcher.environment, decision.release);
  const claimed = await store.claim({
    scope: 'alarm-rollback',
    key,
    holder: deps.holder,
    expiresAt: deps.now() + CLAIM_HOLD_MS,
    data: { alarm: signal.alarmName, from: decision.release, to: decision.toRelease },
  });
  if (!claimed.claimed) {
    const earlier = claimed.existing.outcome?.startsWith('started ')
      ? claimed.existing.outcome.slice('started '.length)
      : undefined;
    return {
      outcome: 'already-handled',
      ...(earlier === undefined ? {} : { deploymentId: earlier }),
      reason: `${decision.release} of ${watcher.service}/${watcher.environment} was rolled back once already (${claimed.existing.holder}, ${claimed.existing.outcome ?? claimed.existing.status})`,
    };
  }
  try {
    const { deployment } = await startDeployment(
      {
        service: watcher.service,
        version: decision.toRelease,
        environments: [watcher.environment],
        mode: 'rollback',
        trigger: 'alarm',
        actor: alarmActor(signal.alarmName),
        reason: decision.reason,
      },
      { store, executions: deps.executions, ids: deps.ids, now: deps.now },
    );
    await store.settleClaim('alarm-rollback', key, {
      holder: deps.holder,
      outcome: `started ${deployment.id}`,
      expiresAt: deps.now() + CLAIM_KEEP_MS,
    });
    return { outcome: 'started', deploymentId: deployment.id, reason: decision.reason };
  } catch (error) {
    if (error instanceof DeploymentRequestError) {
      await store.settleClaim('alarm-rollback', key, {
        holder: deps.holder,
        outcome: `refused: ${error.message}`,
        expiresAt: deps.now() + CLAIM_KEEP_MS,
      });
      const reason = `${decision.reason}; the rollback was refused: ${error.message}`;
      await notify(signal, watcher, reason, deps);
      return { outcome: 'refused', reason };
    }
    await store.releaseClaim('alarm-rollback', key, { holder: deps.holder });
    throw error;
  }
}
