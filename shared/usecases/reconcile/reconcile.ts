/**
 * The reconciler (issue 11, item 6): every minute, heals what lost events and dead executions
 * left behind. The rules of what is stuck are the domain's (shared/domain/reconcile.ts).
 *
 * Course:
 * 1. One run at a time: the `reconcile` claim (key `run`), held until the run's budget is spent
 *    (a crashed run's claim expires and the next minute takes it over). A run that finds it held
 *    does nothing (`busy`).
 * Every fifth minute (the reads of 2–4 are most of a run's cost; see recordsScanDue):
 * 2. Deployments: each service's newest non-final deployments whose execution ended without its
 *    own finish are swept (shared/usecases/bake/sweep.ts, the sweep-bakes use case: bake
 *    leftovers removed, rollout locks released, waiters woken, the record failed or aborted); one
 *    whose execution never started is failed and its locks released.
 * 3. Locks: every environment's lock whose lease ran out and whose holder is gone is released, and
 *    whoever waits for it woken.
 * 4. Task tokens: each past its deadline is woken so its step polls (its execution runs), or
 *    deleted as an orphan (its task is gone); so are those of a final deployment whose task is gone.
 * Every quarter hour:
 * 5. Builders and half-made images of any failed bake, by a tag scan (sweepAllBakes, which took
 *    over sweep-bakes' schedule).
 * Every minute:
 * 6. The lifecycle hooks' and the alarms' own healing, through their ports.
 * Each phase is bounded (pages, actions, the run's time budget); what is left waits a minute.
 * A phase that fails is reported and the next still runs. Everything the reconciler changes is
 * audited with actor `reconciler` (status moves and lock releases by the store, the rest here).
 */
import {
  RECONCILE_LIMITS,
  bakeSweepDue,
  deploymentStalled,
  recordsScanDue,
  judgeDeployment,
  judgeLock,
  judgeToken,
  tokenNeedsLook,
  type ExecutionState,
  type ReconcileLimits,
} from '../../domain/reconcile';
import type { ServiceManifest } from '../../domain/manifest/schema';
import { auditTarget, type Deployment, type ServiceRecord, type TaskToken } from '../../store';
import { sweepAllBakes, sweepDeployment, type SweepDeps } from '../bake/sweep';
import { moveOrAccept, wakeLockWaiters } from '../rollout/lock';
import type { HealPort, ReconcileDeps } from './deps';

export type { HealPort, ReconcileDeps } from './deps';

const CLAIM_KEY = 'run';
/** The claim outlives the run's budget by this much, so a slow last call still ends inside it. */
const CLAIM_MARGIN_MS = 20_000;

export interface ReconcileReport {
  outcome: 'reconciled' | 'busy';
  /** Deployments, locks and tokens were looked at (every fifth minute). */
  records: boolean;
  /** Deployments swept (execution ended) or failed (never started): `id: status`. */
  deployments: string[];
  /** Locks released: `service/environment (holder)`. */
  locks: string[];
  /** Tokens woken to poll and orphans deleted: `waitKind/key`. */
  woken: string[];
  deleted: string[];
  /** Deployments whose bake leftovers the quarter-hour scan cleaned (absent when not due). */
  bakes?: string[];
  lifecycle?: Record<string, number> | 'unavailable';
  alarms?: Record<string, number> | 'unavailable';
  /** `phase: message` for each phase that failed. */
  errors: string[];
  /** The budget ran out before every candidate was looked at. */
  truncated: boolean;
}

class Run {
  readonly limits: ReconcileLimits;
  readonly report: ReconcileReport = {
    outcome: 'reconciled',
    records: false,
    deployments: [],
    locks: [],
    woken: [],
    deleted: [],
    errors: [],
    truncated: false,
  };
  private readonly deadline: number;
  private actions = 0;
  private readonly executions = new Map<string, ExecutionState>();
  services: Array<ServiceRecord<ServiceManifest>> | undefined;
  readonly sweep: SweepDeps;

  constructor(readonly deps: ReconcileDeps) {
    this.limits = { ...RECONCILE_LIMITS, ...deps.limits };
    this.deadline = deps.now() + this.limits.runBudgetMs;
    this.sweep = {
      store: deps.store,
      ec2: deps.ec2,
      autoScaling: deps.autoScaling,
      actor: deps.actor,
      describeExecution: deps.describeExecution,
      wake: async (token, output) => {
        await deps.succeed(token, output);
      },
    };
  }

  /** True while the run may start another action (counted) or look further (not counted). */
  canAct(): boolean {
    const ok = this.actions < this.limits.actionsPerRun && this.deps.now() < this.deadline;
    if (!ok) this.report.truncated = true;
    return ok;
  }

  acted(): void {
    this.actions += 1;
  }

  async execution(deploymentId: string): Promise<ExecutionState> {
    const known = this.executions.get(deploymentId);
    if (known !== undefined) return known;
    const found = (await this.deps.describeExecution(deploymentId))?.status ?? 'missing';
    this.executions.set(deploymentId, found);
    return found;
  }

  forget(deploymentId: string): void {
    this.executions.delete(deploymentId);
  }

  async phase(name: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.report.errors.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

export async function reconcile(
  deps: ReconcileDeps,
  options: { scheduledAt: number },
): Promise<ReconcileReport> {
  const run = new Run(deps);
  const records = recordsScanDue(options.scheduledAt);
  const bakes = bakeSweepDue(options.scheduledAt);
  // Nothing due this minute (no records scan, no bake sweep, no healer wired): no claim either.
  if (!records && !bakes && deps.healLifecycleActions === undefined && deps.reconcileAlarms === undefined) {
    return { ...run.report, lifecycle: 'unavailable', alarms: 'unavailable' };
  }
  const claimed = await deps.store.claim({
    scope: 'reconcile',
    key: CLAIM_KEY,
    holder: deps.runId,
    expiresAt: deps.now() + run.limits.runBudgetMs + CLAIM_MARGIN_MS,
  });
  if (!claimed.claimed) return { ...run.report, outcome: 'busy' };
  try {
    if (records) {
      run.report.records = true;
      await run.phase('deployments', () => healDeployments(run));
      await run.phase('locks', () => healLocks(run));
      await run.phase('tokens', () => healTokens(run));
    }
    if (bakes) {
      await run.phase('bakes', async () => {
        const swept = await sweepAllBakes(run.sweep);
        run.report.bakes = swept.deployments.map((d) => `${d.deploymentId}: ${d.status ?? '?'}`);
      });
    }
    await run.phase('lifecycle', () => heal(run, deps.healLifecycleActions, 'lifecycle'));
    await run.phase('alarms', () => heal(run, deps.reconcileAlarms, 'alarms'));
  } finally {
    await deps.store.releaseClaim('reconcile', CLAIM_KEY, { holder: deps.runId });
  }
  return run.report;
}

async function heal(run: Run, port: HealPort | undefined, key: 'lifecycle' | 'alarms'): Promise<void> {
  run.report[key] = port === undefined ? 'unavailable' : await port();
}

/** Every service, read once per run, page by page (tens of services: one or two pages). */
async function services(run: Run): Promise<Array<ServiceRecord<ServiceManifest>>> {
  if (run.services !== undefined) return run.services;
  const all: Array<ServiceRecord<ServiceManifest>> = [];
  let cursor: string | undefined;
  do {
    const page = await run.deps.store.listServices({
      limit: 100,
      ...(cursor === undefined ? {} : { cursor }),
    });
    all.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  run.services = all;
  return all;
}

async function healDeployments(run: Run): Promise<void> {
  const { deps } = run;
  for (const service of await services(run)) {
    const page = await deps.store.listDeployments(service.service, {
      limit: run.limits.deploymentsPerService,
    });
    for (const listed of page.items) {
      if (!deploymentStalled(listed, deps.now(), run.limits)) continue;
      if (!run.canAct()) return;
      const verdict = judgeDeployment(listed, await run.execution(listed.id), deps.now(), run.limits);
      if (verdict.action === 'leave') continue;
      run.acted();
      if (verdict.action === 'sweep') {
        const swept = await sweepDeployment(listed.id, run.sweep);
        if (swept.status !== undefined && swept.status !== listed.status) {
          run.report.deployments.push(`${listed.id}: ${swept.status}`);
        }
      } else {
        const failed = await failNeverStarted(listed, verdict.reason, run);
        run.report.deployments.push(`${listed.id}: ${failed}`);
      }
    }
  }
}

/**
 * A deployment with no execution: nothing of it runs, so its locks go and it is failed. A lock it
 * holds would otherwise stay until its lease ends (and is taken only if it was ever renewed).
 */
async function failNeverStarted(deployment: Deployment, reason: string, run: Run): Promise<string> {
  const { deps } = run;
  const released: string[] = [];
  for (const environment of deployment.environments) {
    const { lock } = await deps.store.getEnvironmentState(deployment.service, environment);
    if (lock?.holder !== deployment.id) continue;
    await deps.store.releaseLock(deployment.service, environment, {
      holder: deployment.id,
      actor: deps.actor,
    });
    released.push(environment);
    await wakeLockWaiters(deployment.service, environment, run.sweep);
  }
  const moved = await moveOrAccept(deployment, 'failed', run.sweep, {
    outcome: 'never-started',
    reason: released.length > 0 ? `${reason}; the lock of ${released.join(', ')} released` : reason,
  });
  return moved.status;
}

async function healLocks(run: Run): Promise<void> {
  const { deps } = run;
  for (const service of await services(run)) {
    for (const { name } of service.manifest.environments) {
      if (!run.canAct()) return;
      const { lock } = await deps.store.getEnvironmentState(service.service, name);
      if (lock === undefined || lock.expiresAt > deps.now()) continue;
      const holder = await deps.store.getDeployment(lock.deploymentId ?? lock.holder);
      const verdict = judgeLock(
        lock,
        {
          ...(holder === undefined ? {} : { status: holder.status }),
          execution: await run.execution(holder?.id ?? lock.holder),
        },
        deps.now(),
      );
      if (verdict.action === 'leave') continue;
      run.acted();
      const released = await deps.store.releaseExpiredLock(service.service, name, {
        holder: lock.holder,
        expiresAt: lock.expiresAt,
        actor: deps.actor,
        reason: verdict.reason,
      });
      if (released.outcome === 'released') {
        run.report.locks.push(`${service.service}/${name} (${lock.holder})`);
        await wakeLockWaiters(service.service, name, run.sweep);
      }
    }
  }
}

async function healTokens(run: Run): Promise<void> {
  const { deps } = run;
  const deployments = new Map<string, Deployment | undefined>();
  let cursor: string | undefined;
  do {
    if (!run.canAct()) return;
    const page = await deps.store.listTaskTokens({ limit: 100, ...(cursor === undefined ? {} : { cursor }) });
    for (const token of page.items) {
      if (!run.canAct()) return;
      if (!deployments.has(token.deploymentId)) {
        deployments.set(token.deploymentId, await deps.store.getDeployment(token.deploymentId));
      }
      // A wait of something other than a deployment (a lifecycle action's, say) is its owner's.
      const deployment = deployments.get(token.deploymentId);
      if (deployment === undefined) continue;
      if (!tokenNeedsLook(token, deployment.status, deps.now(), run.limits)) continue;
      const verdict = judgeToken(token, await run.execution(deployment.id), deps.now(), run.limits);
      if (verdict.action === 'leave') continue;
      run.acted();
      await settleToken(token, deployment, verdict, run);
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
}

async function settleToken(
  listed: TaskToken,
  deployment: Deployment,
  verdict: { action: 'wake' | 'delete'; reason: string },
  run: Run,
): Promise<void> {
  const { deps } = run;
  // Taken meanwhile: an event or the task itself got there first; nothing left to heal.
  const token = await deps.store.takeTaskToken(listed.waitKind, listed.key);
  if (token === undefined) return;
  let action: 'resume' | 'orphan-token' = 'orphan-token';
  let reason = verdict.reason;
  if (verdict.action === 'wake') {
    let resumed;
    try {
      resumed = await deps.succeed(token.token, { woken: 'poll' });
    } catch (error) {
      // Step Functions failed transiently: the token goes back for the task's own poll or the next run.
      await deps.store.restoreTaskToken(token);
      throw error;
    }
    if (resumed.outcome === 'resumed') action = 'resume';
    else reason = `its task is gone (${resumed.code})`;
    run.forget(deployment.id);
  }
  const name = `${token.waitKind}/${token.key}`;
  (action === 'resume' ? run.report.woken : run.report.deleted).push(name);
  await deps.store.audit({
    actor: deps.actor,
    action: action === 'resume' ? 'reconcile.resume-wait' : 'reconcile.delete-orphan-token',
    target: auditTarget.deployment(deployment.id),
    service: deployment.service,
    deploymentId: deployment.id,
    before: { waitKind: token.waitKind, key: token.key, expiresAt: new Date(token.expiresAt).toISOString() },
    reason,
  });
}
