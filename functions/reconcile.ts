/**
 * reconcile: every minute (serverless.yml's schedule), heals what events missed and dead
 * executions left: stuck deployments, expired locks, orphaned task tokens, bake leftovers, and
 * (through their own use cases) lifecycle actions nobody handles and alarms whose event was lost.
 * The rules are the domain's (shared/domain/reconcile.ts), the course the use case's
 * (shared/usecases/reconcile/reconcile.ts); this handler only wires them.
 *
 * A phase that fails is logged at error level and the invocation still succeeds: the next
 * minute's run is the retry (serverless.yml sets no Lambda retries, which would only overlap the
 * schedule and find the run's claim held).
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { AutoScalingGroups } from '../shared/aws/autoscaling';
import { Alarms } from '../shared/aws/cloudwatch';
import { Ec2Bake } from '../shared/aws/ec2';
import { LifecycleActions, LifecycleExecutions } from '../shared/aws/lifecycle';
import { DeployExecutions, SfnTasks } from '../shared/aws/sfn';
import type { ServiceManifest } from '../shared/domain/manifest/schema';
import * as z from '../shared/domain/zod';
import { ScheduledEventSchema } from '../shared/events/scheduled';
import { defaultDocumentClient } from '../shared/runtime/clients';
import { BaseConfigSchema, loadConfig, StateMachineArn } from '../shared/runtime/config';
import { kilnHandler } from '../shared/runtime/handler';
import { randomIds, type IdSource } from '../shared/runtime/ids';
import { createLogger } from '../shared/runtime/logger';
import { KilnStore } from '../shared/store';
import { reconcileAlarms } from '../shared/usecases/alarms/reconcile';
import { loggedAlarmNotices } from '../shared/usecases/alarms/notices';
import { healLifecycleActions } from '../shared/usecases/lifecycle/heal';
import { reconcile, type HealPort, type ReconcileDeps } from '../shared/usecases/reconcile/reconcile';

export const RECONCILER_ACTOR = 'reconciler';

export interface ReconcileHandlerDeps {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  /** The EC2 client for a Region (made once per Region and reused). */
  ec2For: (region: string) => EC2Client;
  /** The CloudWatch client for a Region (the alarms' healing describes alarms where they live). */
  cloudWatchFor: (region: string) => CloudWatchClient;
  /** The Auto Scaling client for a Region (the lifecycle hooks' healing). */
  autoScalingFor: (region: string) => AutoScalingClient;
  /** The function's own Region: lifecycle actions are healed where their state machine runs. */
  region: string;
  /** The lifecycle state machine (KILN_LIFECYCLE_STATE_MACHINE_ARN), whose executions handle actions. */
  lifecycleStateMachineArn: string;
  sfn: SFNClient;
  /** The deploy state machine (KILN_DEPLOY_STATE_MACHINE_ARN): whose executions are deployments. */
  deployStateMachineArn: string;
  ids?: IdSource;
  now?: () => number;
}

export const ReconcileConfigSchema = z.extend(BaseConfigSchema, {
  KILN_DEPLOY_STATE_MACHINE_ARN: StateMachineArn,
  KILN_LIFECYCLE_STATE_MACHINE_ARN: StateMachineArn,
});

export function createReconcileHandler(deps: () => ReconcileHandlerDeps) {
  const logger = createLogger('reconcile');
  let built: { base: Omit<ReconcileDeps, 'runId'> } | undefined;
  const build = () => {
    const d = deps();
    const ec2 = new Map<string, Ec2Bake>();
    const cloudWatch = new Map<string, Alarms>();
    const executions = new DeployExecutions(d.sfn, d.deployStateMachineArn);
    const tasks = new SfnTasks(d.sfn);
    const now = d.now ?? Date.now;
    const ids = d.ids ?? randomIds;
    const store = new KilnStore<ServiceManifest>({
      client: d.documentClient,
      tableName: d.tableName,
      now,
      ids,
    });
    // The alarms' own healing (shared/usecases/alarms/reconcile.ts): an alarm in ALARM whose event
    // was lost is acted on as on-alarm would, under the same `alarm-rollback` claim.
    const alarms: HealPort = async () => {
      const result = await reconcileAlarms({
        store,
        tasks,
        executions,
        ids,
        now,
        notices: loggedAlarmNotices({ store, logger }),
        holder: RECONCILER_ACTOR,
        alarms: (region) =>
          cloudWatch.get(region) ?? cloudWatch.set(region, new Alarms(d.cloudWatchFor(region))).get(region)!,
      });
      for (const acted of result.acted) logger.info(`alarm: ${acted.action} ${acted.outcome}`, { ...acted });
      return {
        environments: result.environments,
        alarms: result.alarms,
        inAlarm: result.inAlarm,
        acted: result.acted.length,
      };
    };
    // The lifecycle hooks' own healing (shared/usecases/lifecycle/heal.ts): an instance waiting in
    // a hook nobody handles (its event was lost) gets the handling the event would have started.
    const lifecycle: HealPort = async () => {
      const autoScaling = d.autoScalingFor(d.region);
      const report = await healLifecycleActions({
        store,
        region: d.region,
        groups: () => new AutoScalingGroups(autoScaling),
        actions: () => new LifecycleActions(autoScaling),
        executions: new LifecycleExecutions(d.sfn, d.lifecycleStateMachineArn),
        now,
      });
      return { ...report };
    };
    return {
      base: {
        store,
        now,
        actor: RECONCILER_ACTOR,
        describeExecution: (deploymentId: string) => executions.describe(deploymentId),
        succeed: (token: string, output: unknown) => tasks.succeed(token, output),
        ec2: (region: string) =>
          ec2.get(region) ?? ec2.set(region, new Ec2Bake(d.ec2For(region))).get(region)!,
        autoScaling: (region: string) => new AutoScalingGroups(d.autoScalingFor(region)),
        reconcileAlarms: alarms,
        healLifecycleActions: lifecycle,
      },
    };
  };
  return kilnHandler({
    logger,
    what: 'scheduled event',
    schema: ScheduledEventSchema,
    onInvalid: 'drop',
    useCase: async (event, context: Context) => {
      built ??= build();
      const { base } = built;
      const at = Date.parse(event.time);
      const report = await reconcile(
        { ...base, runId: context.awsRequestId },
        { scheduledAt: Number.isNaN(at) ? base.now() : at },
      );
      const summary = {
        outcome: report.outcome,
        records: report.records,
        deployments: report.deployments,
        locks: report.locks,
        woken: report.woken,
        deleted: report.deleted,
        ...(report.bakes === undefined ? {} : { bakes: report.bakes }),
        lifecycle: report.lifecycle,
        alarms: report.alarms,
        truncated: report.truncated,
      };
      if (report.errors.length > 0)
        logger.error('reconciler phases failed', { errors: report.errors, ...summary });
      else logger.info('reconciled', summary);
      return { ...summary, errors: report.errors };
    },
  });
}

let defaults: ReconcileHandlerDeps | undefined;

/** The deployed handler: configuration read once; one EC2 client per Region, made on first use. */
export const handler = createReconcileHandler(() => {
  if (!defaults) {
    const config = loadConfig(ReconcileConfigSchema);
    const ec2 = new Map<string, EC2Client>();
    const cloudWatch = new Map<string, CloudWatchClient>();
    const autoScaling = new Map<string, AutoScalingClient>();
    defaults = {
      documentClient: defaultDocumentClient(),
      tableName: config.KILN_TABLE,
      ec2For: (region) => ec2.get(region) ?? ec2.set(region, new EC2Client({ region })).get(region)!,
      cloudWatchFor: (region) =>
        cloudWatch.get(region) ?? cloudWatch.set(region, new CloudWatchClient({ region })).get(region)!,
      autoScalingFor: (region) =>
        autoScaling.get(region) ?? autoScaling.set(region, new AutoScalingClient({ region })).get(region)!,
      region: config.AWS_REGION,
      sfn: new SFNClient({}),
      deployStateMachineArn: config.KILN_DEPLOY_STATE_MACHINE_ARN,
      lifecycleStateMachineArn: config.KILN_LIFECYCLE_STATE_MACHINE_ARN,
    };
  }
  return defaults;
});
