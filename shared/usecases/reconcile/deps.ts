/**
 * What the reconciler takes (DESIGN.md "Conventions": a dependencies object, plain fakes in
 * tests), and the two ports through which it calls the other reactions' own healing: the
 * lifecycle hooks' (`healLifecycleActions`, shared/usecases/lifecycle/heal.ts) and the alarms'
 * (`reconcileAlarms`, shared/usecases/alarms/reconcile.ts). The function wires them; the use case
 * only knows they return counts.
 */
import type { TaskResumption } from '../../aws/sfn';
import type { ReconcileLimits } from '../../domain/reconcile';
import type { ServiceManifest } from '../../domain/manifest/schema';
import type { KilnStore } from '../../store';
import type { ExecutionReport, SweepDeps } from '../bake/sweep';

/** A healer of another part of Kiln, run once per reconciler run; answers what it did, in counts. */
export type HealPort = () => Promise<Record<string, number>>;

export interface ReconcileDeps {
  store: KilnStore<ServiceManifest>;
  now: () => number;
  /** Who the store and the audit log record as acting: `reconciler`. */
  actor: string;
  /** This run's id (the Lambda request id): the holder of the `reconcile` claim. */
  runId: string;
  /** How the deploy execution of a deployment stands; undefined when there is none. */
  describeExecution: (deploymentId: string) => Promise<ExecutionReport | undefined>;
  /** SendTaskSuccess; a task that is gone is reported, not thrown (SfnTasks.succeed). */
  succeed: (taskToken: string, output: unknown) => Promise<TaskResumption>;
  /** EC2 in a Region, for the bake sweep (shared/usecases/bake/sweep.ts). */
  ec2: SweepDeps['ec2'];
  /** Auto Scaling in a Region, for the sweep of a dead rollout (its refresh rolled back). */
  autoScaling: SweepDeps['autoScaling'];
  /** Instances waiting in a lifecycle hook with nobody handling them (issue 11, part A). */
  healLifecycleActions?: HealPort;
  /** Alarms in ALARM whose event was lost (issue 11, part B). */
  reconcileAlarms?: HealPort;
  limits?: Partial<ReconcileLimits>;
}
