/**
 * rollout-steps: every task of the deploy state machine's rollout phase (statemachines/
 * deploy.asl.json, from `RolloutBegin` on), in one function that dispatches on `step`, as
 * bake-steps does and for the same reason: the steps share their clients (Auto Scaling, EC2, ELB,
 * CloudWatch, DynamoDB, Step Functions) and run one after another for the same rollout, so one
 * warm container serves it instead of ~20 functions each paying a cold start.
 *
 * An error leaves with its name (what the ASL's Retry/Catch match, shared/domain/step-errors.ts)
 * and a message that starts with what the step was doing, so the deployment's recorded reason
 * says which step failed. The contract between the steps: shared/usecases/rollout/deps.ts.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AutoScalingGroups } from '../../shared/aws/autoscaling';
import { perRegion, stepError } from '../../shared/aws/aws-errors';
import { Alarms } from '../../shared/aws/cloudwatch';
import { TargetGroups } from '../../shared/aws/elbv2';
import { LaunchTemplates } from '../../shared/aws/launch-templates';
import { notifyAdapters } from '../../shared/aws/notify-adapters';
import { SfnTasks } from '../../shared/aws/sfn';
import type { ServiceManifest } from '../../shared/domain/manifest/schema';
import * as z from '../../shared/domain/zod';
import { defaultDocumentClient } from '../../shared/runtime/clients';
import { BaseConfigSchema, loadConfig } from '../../shared/runtime/config';
import { kilnHandler } from '../../shared/runtime/handler';
import type { IdSource } from '../../shared/runtime/ids';
import { createLogger } from '../../shared/runtime/logger';
import type { WebhookPoster } from '../../shared/slack/incoming-webhook';
import { KilnStore } from '../../shared/store';
import { notify } from '../../shared/usecases/notify';
import * as blueGreen from '../../shared/usecases/rollout/blue-green';
import type { RolloutDeps, RolloutState } from '../../shared/usecases/rollout/deps';
import * as steps from '../../shared/usecases/rollout/steps';

/** What each step does, in the words a failure reason starts with. */
const STEPS = {
  'rollout-begin': 'planning the rollout',
  'take-lock': 'taking the environment lock',
  'wait-lock': 'waiting for the environment lock',
  'prepare-environment': 'preparing the environment',
  'start-refresh': 'starting the instance refresh',
  'check-refresh': 'checking the instance refresh',
  'wait-refresh': 'waiting for the instance refresh',
  'create-green': 'creating the green group',
  'check-green': 'checking the green group',
  'attach-green': 'attaching the green group',
  'check-health-gate': 'checking the health gate',
  'switch-traffic': 'moving traffic to green',
  'watch-alarms': 'watching the alarms',
  'check-watch': 'checking the alarms',
  'retire-blue': 'retiring the blue group',
  'environment-done': 'recording the environment',
  'check-gate': 'checking the promotion gate',
  'wait-approval': 'waiting for approval',
  'pass-gate': 'passing the promotion gate',
  'record-rollback': 'recording the rollback',
  'rollback-environment': 'rolling back the environment',
  'check-rollback': 'checking the rollback',
  'wait-rollback': 'waiting for the rollback',
  finish: 'finishing the deployment',
} as const;
type Step = keyof typeof STEPS;

const FINISH_OUTCOMES = [
  'succeeded',
  'rolled-back',
  'rollback-failed',
  'failed',
  'approval-timed-out',
  'approval-refused',
  'aborted',
] as const;

const StepInputSchema = z.object({
  step: z.enum(Object.keys(STEPS) as [Step, ...Step[]]),
  state: z.looseObject({
    deploymentId: z.string().check(z.minLength(1)),
    service: z.string().check(z.minLength(1)),
    version: z.string().check(z.minLength(1)),
  }),
  taskToken: z.optional(z.string().check(z.minLength(1))),
  outcome: z.optional(z.enum(FINISH_OUTCOMES)),
});

export interface RolloutStepsDeps {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  /** Clients for a Region (made once per Region and reused). */
  autoScalingFor: (region: string) => AutoScalingClient;
  ec2For: (region: string) => EC2Client;
  elbFor: (region: string) => ElasticLoadBalancingV2Client;
  cloudWatchFor: (region: string) => CloudWatchClient;
  sfn: SFNClient;
  /** Notifications: the webhook URL's SecureString (Kiln's own Region), SNS in the topic's Region. */
  ssm: SSMClient;
  snsFor: (region: string) => SNSClient;
  /** How a Slack webhook POST goes out (default: fetch; the sandbox records instead). */
  postWebhook?: WebhookPoster;
  ids?: IdSource;
  now?: () => number;
}

export function createRolloutStepsHandler(deps: () => RolloutStepsDeps) {
  const logger = createLogger('rollout-steps');
  let rolloutDeps: RolloutDeps | undefined;
  const build = (): RolloutDeps => {
    const d = deps();
    const tasks = new SfnTasks(d.sfn);
    const now = d.now ?? Date.now;
    const store = new KilnStore<ServiceManifest>({
      client: d.documentClient,
      tableName: d.tableName,
      ...(d.ids === undefined ? {} : { ids: d.ids }),
    });
    const notifyDeps = {
      store,
      ...notifyAdapters({
        ssm: d.ssm,
        snsFor: d.snsFor,
        now,
        ...(d.postWebhook === undefined ? {} : { postWebhook: d.postWebhook }),
      }),
      now,
      actor: 'deploy:rollout',
      log: logger,
    };
    return {
      store,
      autoScaling: perRegion((region) => new AutoScalingGroups(d.autoScalingFor(region))),
      launchTemplates: perRegion((region) => new LaunchTemplates(d.ec2For(region))),
      loadBalancing: perRegion((region) => new TargetGroups(d.elbFor(region))),
      alarms: perRegion((region) => new Alarms(d.cloudWatchFor(region))),
      // A task already moved on (woken by an event, or timed out to its poll) is not an error.
      wake: async (taskToken, output) => {
        await tasks.succeed(taskToken, output);
      },
      now,
      actor: 'deploy:rollout',
      notify: (notice) => notify(notice, notifyDeps),
    };
  };
  return kilnHandler({
    logger,
    what: 'rollout step',
    schema: StepInputSchema,
    onInvalid: 'throw',
    correlationId: (input) => input.state.deploymentId,
    useCase: async (input) => {
      rolloutDeps ??= build();
      try {
        return await run(input.step, input.state as unknown as RolloutState, input, rolloutDeps);
      } catch (caught) {
        throw stepError(caught, STEPS[input.step]);
      }
    },
  });
}

async function run(
  step: Step,
  state: RolloutState,
  input: { taskToken?: string | undefined; outcome?: (typeof FINISH_OUTCOMES)[number] | undefined },
  deps: RolloutDeps,
): Promise<unknown> {
  const token = (): string => {
    if (input.taskToken === undefined) throw new Error(`step ${step} needs taskToken`);
    return input.taskToken;
  };
  const waiting = { waiting: true };
  switch (step) {
    case 'rollout-begin':
      return steps.beginRollout(state, deps);
    case 'take-lock':
      return steps.takeLock(state, deps);
    case 'wait-lock':
      await steps.waitForLock(state, token(), deps);
      return waiting;
    case 'prepare-environment':
      return steps.prepareEnvironment(state, deps);
    case 'start-refresh':
      return steps.startRefresh(state, deps);
    case 'check-refresh':
      return steps.checkRefresh(state, deps);
    case 'wait-refresh':
      await steps.waitForRefresh(state, token(), deps);
      return waiting;
    case 'create-green':
      return blueGreen.createGreen(state, deps);
    case 'check-green':
      return blueGreen.checkGreen(state, deps);
    case 'attach-green':
      return blueGreen.attachGreen(state, deps);
    case 'check-health-gate':
      return blueGreen.checkHealthGate(state, deps);
    case 'switch-traffic':
      return blueGreen.switchTraffic(state, deps);
    case 'watch-alarms':
      await blueGreen.watchAlarms(state, token(), deps);
      return waiting;
    case 'check-watch':
      return blueGreen.checkWatch(state, deps);
    case 'retire-blue':
      return blueGreen.retireBlue(state, deps);
    case 'environment-done':
      return steps.environmentDone(state, deps);
    case 'check-gate':
      return steps.checkGate(state, deps);
    case 'wait-approval':
      await steps.waitForApproval(state, token(), deps);
      return waiting;
    case 'pass-gate':
      return steps.passGate(state, deps);
    case 'record-rollback':
      return steps.recordRollback(state, deps);
    case 'rollback-environment':
      return steps.rollbackEnvironment(state, deps);
    case 'check-rollback':
      return steps.checkRollback(state, deps);
    case 'wait-rollback':
      await steps.waitForRollback(state, token(), deps);
      return waiting;
    case 'finish': {
      if (input.outcome === undefined) throw new Error('step finish needs outcome');
      return steps.finish(state, input.outcome, deps);
    }
  }
}

let defaults: RolloutStepsDeps | undefined;

/** The deployed handler: configuration is read and checked once, on the first invocation. */
export const handler = createRolloutStepsHandler(() => {
  if (!defaults) {
    defaults = {
      documentClient: defaultDocumentClient(),
      tableName: loadConfig(BaseConfigSchema).KILN_TABLE,
      autoScalingFor: perRegion((region) => new AutoScalingClient({ region })),
      ec2For: perRegion((region) => new EC2Client({ region })),
      elbFor: perRegion((region) => new ElasticLoadBalancingV2Client({ region })),
      cloudWatchFor: perRegion((region) => new CloudWatchClient({ region })),
      sfn: new SFNClient({}),
      ssm: new SSMClient({}),
      snsFor: perRegion((region) => new SNSClient({ region })),
    };
  }
  return defaults;
});
