/**
 * The reconciler's part of lifecycle handling (issue 11, item 6): AWS delivers lifecycle action
 * events best effort, so a lost one would leave an instance waiting until its hook times out (up to
 * 48 hours). Every run looks at Kiln's groups (the manifests' environments' groups in the Region and
 * groups tagged `kiln:managed=true`) for instances in `Pending:Wait` or `Terminating:Wait` and
 * starts their handling under the same execution name the event would have (so an action whose
 * event did arrive is not handled twice). An action whose handling already ended but which is still
 * open (its completion failed past every retry) is completed here: CONTINUE for a terminating
 * instance, ABANDON for a launching one, the reason recorded.
 */
import { lifecycleExecutionName, TRANSITIONS, type LifecycleAction } from '../../domain/lifecycle';
import type { LifecycleDeps } from './deps';
import { environmentsIn } from './environments';
import { completeLifecycle } from './handle';
import { startLifecycleHandling, type LifecycleExecutionsPort } from './start';

export interface HealLifecycleDeps extends Pick<LifecycleDeps, 'store' | 'groups' | 'actions' | 'now'> {
  region: string;
  executions: LifecycleExecutionsPort;
  /** At most this many actions are started or completed per run (the rest wait for the next run). */
  limit?: number;
}

export interface HealLifecycleReport {
  /** Groups looked at. */
  groups: number;
  /** Instances found in a wait state. */
  waiting: number;
  /** Handlings started for actions nobody handled (their event was lost). */
  started: number;
  /** Actions whose handling was already running (nothing to do). */
  inProgress: number;
  /** Actions completed here because their handling had ended without completing them. */
  completed: number;
  /** Actions left for the next run (the per-run limit). */
  deferred: number;
}

const WAIT_STATES: Record<string, LifecycleAction['transition']> = {
  'Pending:Wait': 'launch',
  'Terminating:Wait': 'terminate',
};

export async function healLifecycleActions(deps: HealLifecycleDeps): Promise<HealLifecycleReport> {
  const report: HealLifecycleReport = {
    groups: 0,
    waiting: 0,
    started: 0,
    inProgress: 0,
    completed: 0,
    deferred: 0,
  };
  const limit = deps.limit ?? 200;
  const groups = deps.groups(deps.region);
  const names = new Set<string>();
  for (const env of await environmentsIn(deps.store, deps.region)) for (const g of env.groups) names.add(g);
  for (const group of await groups.findGroupsByTags({ 'kiln:managed': 'true' })) names.add(group.name);
  for (const name of [...names].sort()) {
    const group = await groups.describeGroup(name);
    if (group === undefined) continue;
    report.groups += 1;
    const waiting = group.instances.filter((i) => WAIT_STATES[i.lifecycleState] !== undefined);
    if (waiting.length === 0) continue;
    const hooks = await groups.lifecycleHooks(name);
    for (const instance of waiting) {
      const transition = WAIT_STATES[instance.lifecycleState];
      report.waiting += 1;
      for (const hook of hooks.filter((h) => TRANSITIONS[h.transition] === transition)) {
        if (report.started + report.completed >= limit) {
          report.deferred += 1;
          continue;
        }
        const action: LifecycleAction = {
          region: deps.region,
          groupName: name,
          instanceId: instance.instanceId,
          transition: transition ?? 'terminate',
          hookName: hook.name,
          startedAt: deps.now(),
          source: 'reconciler',
        };
        const { outcome } = await startLifecycleHandling(action, deps.executions);
        if (outcome === 'started') {
          report.started += 1;
          continue;
        }
        const status = await deps.executions.status(lifecycleExecutionName(action));
        if (status === 'RUNNING' || status === undefined) {
          report.inProgress += 1;
          continue;
        }
        await completeLifecycle(
          action,
          { phase: 'done', next: 'complete' },
          { Error: 'HandlingEnded', Cause: `the handling ended ${status} with the action still open` },
          deps,
        );
        report.completed += 1;
      }
    }
  }
  return report;
}
