/**
 * bake-steps: every task of the deploy state machine's bake phase, in one function that
 * dispatches on `step` (statemachines/deploy.asl.json passes `{ step, state, taskToken? }`).
 *
 * Why one function and not one per step: the steps share their clients (EC2, SSM, DynamoDB,
 * Step Functions) and nearly all of their code, and run one after another for the same bake, so
 * one warm container serves the whole bake instead of ~14 functions each paying a cold start
 * (README, Measurements: every function has a cold-start budget). Its role is the union of what the
 * steps call, each mutating EC2 action conditioned on Kiln's tags (serverless.yml).
 *
 * An error leaves with its name (what the ASL's Retry/Catch match, shared/domain/step-errors.ts)
 * and a message that starts with what the step was doing, so the deployment's recorded reason
 * says which step failed.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Ec2Bake } from '../../shared/aws/ec2';
import { perRegion, stepError } from '../../shared/aws/aws-errors';
import { SfnTasks } from '../../shared/aws/sfn';
import { SsmBake } from '../../shared/aws/ssm';
import type { ServiceManifest } from '../../shared/domain/manifest/schema';
import * as z from '../../shared/domain/zod';
import { defaultDocumentClient } from '../../shared/runtime/clients';
import { BaseConfigSchema, loadConfig } from '../../shared/runtime/config';
import { kilnHandler } from '../../shared/runtime/handler';
import type { IdSource } from '../../shared/runtime/ids';
import { createLogger } from '../../shared/runtime/logger';
import { KilnStore } from '../../shared/store';
import { beginBake } from '../../shared/usecases/bake/begin';
import {
  builderReady,
  launchBuilder,
  stopBuilder,
  terminateBuilder,
} from '../../shared/usecases/bake/builder';
import { checkCommand, sendCommand, waitForCommand } from '../../shared/usecases/bake/command';
import type { BakeDeps, BakeState, CopyState } from '../../shared/usecases/bake/deps';
import { cleanUpAfterFailure, recordRelease } from '../../shared/usecases/bake/finish';
import {
  checkCopy,
  checkImage,
  copyImage,
  createImage,
  waitForImage,
} from '../../shared/usecases/bake/image';

/** What each step does, in the words a failure reason starts with. */
const STEPS = {
  begin: 'planning the bake',
  'launch-builder': 'launching the builder',
  'builder-ready': 'waiting for the builder',
  'send-command': 'sending the command',
  'wait-command': 'waiting for the command',
  'check-command': 'checking the command',
  'stop-builder': 'stopping the builder',
  'create-image': 'creating the image',
  'wait-image': 'waiting for the image',
  'check-image': 'checking the image',
  'terminate-builder': 'terminating the builder',
  'copy-image': 'copying the image',
  'check-copy': 'checking the copy',
  'record-release': 'recording the release',
  'clean-up': 'cleaning up',
} as const;
type Step = keyof typeof STEPS;

const Artifact = z.object({ kind: z.string(), uri: z.string(), digest: z.string() });
const StepInputSchema = z.object({
  step: z.enum(Object.keys(STEPS) as [Step, ...Step[]]),
  state: z.looseObject({
    deploymentId: z.string().check(z.minLength(1)),
    service: z.string().check(z.minLength(1)),
    version: z.string().check(z.minLength(1)),
    artifact: Artifact,
  }),
  taskToken: z.optional(z.string().check(z.minLength(1))),
});

export interface BakeStepsDeps {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  /** EC2 and SSM clients for a Region (made once per Region and reused). */
  ec2For: (region: string) => EC2Client;
  ssmFor: (region: string) => SSMClient;
  sfn: SFNClient;
  ids?: IdSource;
  now?: () => number;
}

export function createBakeStepsHandler(deps: () => BakeStepsDeps) {
  const logger = createLogger('bake-steps');
  let bakeDeps: BakeDeps | undefined;
  const build = (): BakeDeps => {
    const d = deps();
    const tasks = new SfnTasks(d.sfn);
    return {
      store: new KilnStore<ServiceManifest>({
        client: d.documentClient,
        tableName: d.tableName,
        ...(d.ids === undefined ? {} : { ids: d.ids }),
      }),
      ec2: perRegion((region) => new Ec2Bake(d.ec2For(region))),
      ssm: perRegion((region) => new SsmBake(d.ssmFor(region))),
      // A task already moved on (woken by on-progress, or timed out to its poll) is not an error.
      wake: async (taskToken, output) => {
        await tasks.succeed(taskToken, output);
      },
      now: d.now ?? Date.now,
      actor: 'deploy:bake',
    };
  };
  return kilnHandler({
    logger,
    what: 'bake step',
    schema: StepInputSchema,
    onInvalid: 'throw',
    correlationId: (input) => input.state.deploymentId,
    useCase: async (input) => {
      bakeDeps ??= build();
      try {
        return await run(input.step, input.state as unknown as BakeState, input.taskToken, bakeDeps);
      } catch (caught) {
        // An AWS call a use case made directly (the store's DynamoDB calls, say) that is still
        // throttled or failing on AWS's side after the SDK's retries is TransientAwsError, which
        // the state machine retries with its longer backoff, whichever step it came from.
        throw stepError(caught, STEPS[input.step]);
      }
    },
  });
}

async function run(
  step: Step,
  state: BakeState,
  taskToken: string | undefined,
  deps: BakeDeps,
): Promise<unknown> {
  const token = (): string => {
    if (taskToken === undefined) throw new Error(`step ${step} needs taskToken`);
    return taskToken;
  };
  switch (step) {
    case 'begin':
      return beginBake(state, deps);
    case 'launch-builder':
      return launchBuilder(state, deps);
    case 'builder-ready':
      return builderReady(state, deps);
    case 'send-command':
      return sendCommand(state, deps);
    case 'wait-command':
      await waitForCommand(state, token(), deps);
      return { waiting: true };
    case 'check-command':
      return checkCommand(state, deps);
    case 'stop-builder':
      return stopBuilder(state, deps);
    case 'create-image':
      return createImage(state, deps);
    case 'wait-image':
      await waitForImage(state, token(), deps);
      return { waiting: true };
    case 'check-image':
      return checkImage(state, deps);
    case 'terminate-builder':
      return terminateBuilder(state, deps);
    case 'copy-image':
      return copyImage(state as unknown as CopyState, deps);
    case 'check-copy':
      return checkCopy(state as unknown as CopyState, deps);
    case 'record-release':
      return recordRelease(state, deps);
    case 'clean-up':
      return cleanUpAfterFailure(state, deps);
  }
}

let defaults: BakeStepsDeps | undefined;

/** The deployed handler: configuration is read and checked once, on the first invocation. */
export const handler = createBakeStepsHandler(() => {
  if (!defaults) {
    defaults = {
      documentClient: defaultDocumentClient(),
      tableName: loadConfig(BaseConfigSchema).KILN_TABLE,
      ec2For: perRegion((region) => new EC2Client({ region })),
      ssmFor: perRegion((region) => new SSMClient({ region })),
      sfn: new SFNClient({}),
    };
  }
  return defaults;
});
