/**
 * sweep-bakes: the deploy machine's catch-all for executions that ended without running their own
 * `CleanUp` or `finish` (StopExecution, an execution timeout, a failure outside every Catch): the
 * bake's builder and images, and the environment locks a rollout held (released, their waiters
 * woken, the deployment recorded failed). Its trigger is the deploy state machine's "Step
 * Functions Execution Status Change" for ABORTED, TIMED_OUT and FAILED (serverless.yml's rule
 * matches that machine only): it cleans up that one deployment. Step Functions delivers those
 * events best effort; what a lost one leaves, the reconciler finds (functions/reconcile.ts runs the
 * same use case for every dead run, and its tag scan, sweepAllBakes, every quarter hour).
 * The use case (shared/usecases/bake/sweep.ts) asks Step Functions how the execution ended rather
 * than trusting the event, and is idempotent: a duplicate delivery finds nothing left and writes
 * nothing.
 *
 * Why a function of its own and not bake-steps or on-progress: its role holds only what cleaning
 * up needs (describe, terminate Kiln's builders, deregister Kiln's images and delete their
 * snapshots, DescribeExecution on the deploy machine) — no RunInstances, CreateImage, PassRole or
 * SendCommand as bake-steps' role has, and no EC2 at all in on-progress, which every AMI event in
 * the account reaches. It runs rarely, so its cold start is off every bake's path.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Ec2Bake } from '../shared/aws/ec2';
import { DeployExecutions, SfnTasks } from '../shared/aws/sfn';
import type { ServiceManifest } from '../shared/domain/manifest/schema';
import * as z from '../shared/domain/zod';
import { SweepEventSchema } from '../shared/events/execution-status';
import { BaseConfigSchema, loadConfig, StateMachineArn } from '../shared/runtime/config';
import { defaultDocumentClient } from '../shared/runtime/clients';
import { kilnHandler } from '../shared/runtime/handler';
import type { IdSource } from '../shared/runtime/ids';
import { createLogger } from '../shared/runtime/logger';
import { KilnStore } from '../shared/store';
import { AutoScalingGroups } from '../shared/aws/autoscaling';
import { sweepDeployment, type SweepDeps } from '../shared/usecases/bake/sweep';

export interface SweepBakesDeps {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  /** The EC2 client for a Region (made once per Region and reused). */
  ec2For: (region: string) => EC2Client;
  /** Auto Scaling in a Region: a dead rollout's instance refresh still at work is rolled back. */
  autoScalingFor: (region: string) => AutoScalingClient;
  sfn: SFNClient;
  /** The deploy state machine (KILN_DEPLOY_STATE_MACHINE_ARN): whose executions are Kiln's bakes. */
  deployStateMachineArn: string;
  ids?: IdSource;
  now?: () => number;
}

export const SweepBakesConfigSchema = z.extend(BaseConfigSchema, {
  KILN_DEPLOY_STATE_MACHINE_ARN: StateMachineArn,
});

export function createSweepBakesHandler(deps: () => SweepBakesDeps) {
  const logger = createLogger('sweep-bakes');
  let sweepDeps: SweepDeps | undefined;
  const build = (): SweepDeps => {
    const d = deps();
    const ec2 = new Map<string, Ec2Bake>();
    const executions = new DeployExecutions(d.sfn, d.deployStateMachineArn);
    const tasks = new SfnTasks(d.sfn);
    return {
      store: new KilnStore<ServiceManifest>({
        client: d.documentClient,
        tableName: d.tableName,
        ...(d.ids === undefined ? {} : { ids: d.ids }),
        ...(d.now === undefined ? {} : { now: d.now }),
      }),
      ec2: (region) => ec2.get(region) ?? ec2.set(region, new Ec2Bake(d.ec2For(region))).get(region)!,
      autoScaling: (region) => new AutoScalingGroups(d.autoScalingFor(region)),
      actor: 'sweep-bakes',
      describeExecution: (deploymentId) => executions.describe(deploymentId),
      // A released lock's waiters take it at once instead of at their next poll.
      wake: async (taskToken, output) => {
        await tasks.succeed(taskToken, output);
      },
    };
  };
  return kilnHandler({
    logger,
    what: 'execution status change',
    schema: SweepEventSchema,
    onInvalid: 'drop',
    correlationId: (request) => request.deploymentId,
    useCase: async (request) => {
      sweepDeps ??= build();
      if (request.stateMachineArn !== deps().deployStateMachineArn) {
        // The rule matches the deploy machine only; anything else is not a bake.
        logger.info('not the deploy state machine; nothing to clean up', { ...request });
        return { kind: 'execution', outcome: 'other-machine', deploymentId: request.deploymentId };
      }
      const swept = await sweepDeployment(request.deploymentId, sweepDeps);
      logger.info('swept the deployment whose execution ended', { event: request.status, ...swept });
      return { kind: 'execution', ...swept };
    },
  });
}

let defaults: SweepBakesDeps | undefined;

/** The deployed handler: configuration read once; one EC2 client per Region, made on first use. */
export const handler = createSweepBakesHandler(() => {
  if (!defaults) {
    const config = loadConfig(SweepBakesConfigSchema);
    const ec2 = new Map<string, EC2Client>();
    const autoScaling = new Map<string, AutoScalingClient>();
    defaults = {
      documentClient: defaultDocumentClient(),
      tableName: config.KILN_TABLE,
      ec2For: (region) => ec2.get(region) ?? ec2.set(region, new EC2Client({ region })).get(region)!,
      autoScalingFor: (region) =>
        autoScaling.get(region) ?? autoScaling.set(region, new AutoScalingClient({ region })).get(region)!,
      sfn: new SFNClient({}),
      deployStateMachineArn: config.KILN_DEPLOY_STATE_MACHINE_ARN,
    };
  }
  return defaults;
});
