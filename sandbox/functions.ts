/**
 * How the sandbox builds each Kiln function: the deployed module's own handler factory, given
 * the sandbox's SDK clients instead of the defaults. Keyed by the serverless.yml function key;
 * a test holds this map and serverless.yml to the same set of functions.
 * The functions' modules are imported statically (see cli/commands/sandbox.ts for why an import()
 * costs more than it saves in the CLI's bundle); each handler is still built on first invocation.
 */
import { createOnAlarmHandler } from '../functions/on-alarm';
import { createChatopsHandler } from '../functions/chatops';
import { createOnArtifactHandler } from '../functions/on-artifact';
import { createOnLifecycleHandler } from '../functions/on-lifecycle';
import { createOnProgressHandler } from '../functions/on-progress';
import { createReconcileHandler } from '../functions/reconcile';
import { createRetainImagesHandler } from '../functions/retain-images';
import { createBakeStepsHandler } from '../functions/steps/bake';
import { createLifecycleStepsHandler } from '../functions/steps/lifecycle';
import { createRolloutStepsHandler } from '../functions/steps/rollout';
import { createSweepBakesHandler } from '../functions/sweep-bakes';
import { Ec2Bake } from '../shared/aws/ec2';
import { notifyAdapters } from '../shared/aws/notify-adapters';
import { SlackSecretsParameter } from '../shared/aws/secrets';
import type { IdSource } from '../shared/runtime/ids';
import type { WebhookPoster } from '../shared/slack/incoming-webhook';
import type { LambdaHandler } from './services/lambda';
import type { SandboxClients } from './core/sdk';
import type { SlackResponses } from './services/slack';

export interface SandboxFunctionEnv {
  /** Clients whose calls the timeline attributes to this function. */
  clients: SandboxClients;
  /** The run's seeded source for the ids Kiln makes up (shared by every function, so none repeat). */
  ids: IdSource;
  tableName: string;
  region: string;
  stage: string;
  /** ARNs of the state machines deployed from serverless.yml, by logical id (filled before any invocation). */
  stateMachineArns: ReadonlyMap<string, string>;
  /** The function's clients for a Region (its own Region's are `clients`). */
  clientsIn: (region: string) => SandboxClients;
  /**
   * The deploy state machine on-artifact starts: serverless.yml's KILN_DEPLOY_STATE_MACHINE_ARN
   * as the sandbox resolves it (undefined when serverless.yml names none).
   */
  deployStateMachineArn?: string;
  /** Slack incoming webhook POSTs go to the region's recorder (sandbox/services/slack-webhooks.ts), never the network. */
  postWebhook: WebhookPoster;
  /** Where chat's answers to Slack go: recorded, never sent. */
  slack: SlackResponses;
}

/**
 * The Slack signing secret's parameter in the sandbox: serverless.yml's default
 * `params.default.slackSecretParameter` for stage sandbox (a test holds the two equal).
 * `kiln sandbox --serve` puts KILN_SANDBOX_SLACK_SECRET there as a SecureString.
 */
export const sandboxSlackSecretParameter = (stage: string): string => `/kiln/${stage}/slack`;

/**
 * The deploy state machine a function starts; fails loudly, as the deployed function does on a
 * missing variable: an event that cannot start its deployment must not look handled.
 */
function deployStateMachineOf(env: SandboxFunctionEnv, functionName: string): string {
  if (env.deployStateMachineArn === undefined) {
    throw new Error(
      `${functionName}: no deploy state machine (serverless.yml custom.deployStateMachineName)`,
    );
  }
  return env.deployStateMachineArn;
}

export type SandboxFunctionFactory = (env: SandboxFunctionEnv) => Promise<LambdaHandler>;

export const sandboxFunctions: Record<string, SandboxFunctionFactory> = {
  onArtifact: async (env) => {
    const deployStateMachineArn = deployStateMachineOf(env, 'onArtifact');
    const handler = createOnArtifactHandler(() => ({
      documentClient: env.clients.doc,
      tableName: env.tableName,
      ids: env.ids,
      sfn: env.clients.sfn,
      deployStateMachineArn,
    }));
    return (event, context) => handler(event, context);
  },
  bakeSteps: async (env) => {
    const handler = createBakeStepsHandler(() => ({
      documentClient: env.clients.doc,
      tableName: env.tableName,
      ids: env.ids,
      ec2For: (region) => env.clientsIn(region).ec2,
      ssmFor: (region) => env.clientsIn(region).ssm,
      sfn: env.clients.sfn,
    }));
    return (event, context) => handler(event, context);
  },
  rolloutSteps: async (env) => {
    const handler = createRolloutStepsHandler(() => ({
      documentClient: env.clients.doc,
      tableName: env.tableName,
      ids: env.ids,
      autoScalingFor: (region) => env.clientsIn(region).autoScaling,
      ec2For: (region) => env.clientsIn(region).ec2,
      elbFor: (region) => env.clientsIn(region).elbv2,
      cloudWatchFor: (region) => env.clientsIn(region).cloudWatch,
      sfn: env.clients.sfn,
      ssm: env.clients.ssm,
      snsFor: (region) => env.clientsIn(region).sns,
      postWebhook: env.postWebhook,
    }));
    return (event, context) => handler(event, context);
  },
  retainImages: async (env) => {
    // One adapter per Region, on the function's clients there (the sandbox simulates the home
    // Region and the copy Regions; a Region it does not simulate fails for that Region alone, which
    // the use case reports and leaves that Region's images be).
    const ec2 = new Map<string, InstanceType<typeof Ec2Bake>>();
    const handler = createRetainImagesHandler(() => ({
      documentClient: env.clients.doc,
      tableName: env.tableName,
      ids: env.ids,
      ec2For: (region) =>
        ec2.get(region) ?? ec2.set(region, new Ec2Bake(env.clientsIn(region).ec2)).get(region)!,
    }));
    return (event, context) => handler(event, context);
  },
  sweepBakes: async (env) => {
    const deployStateMachineArn = deployStateMachineOf(env, 'sweepBakes');
    const handler = createSweepBakesHandler(() => ({
      documentClient: env.clients.doc,
      tableName: env.tableName,
      ids: env.ids,
      ec2For: (region) => env.clientsIn(region).ec2,
      autoScalingFor: (region) => env.clientsIn(region).autoScaling,
      sfn: env.clients.sfn,
      deployStateMachineArn,
    }));
    return (event, context) => handler(event, context);
  },
  onProgress: async (env) => {
    const handler = createOnProgressHandler(() => ({
      documentClient: env.clients.doc,
      tableName: env.tableName,
      sfn: env.clients.sfn,
      ids: env.ids,
    }));
    return (event, context) => handler(event, context);
  },
  onLifecycle: async (env) => {
    const lifecycleStateMachineArn = env.stateMachineArns.get('LifecycleStateMachine');
    if (lifecycleStateMachineArn === undefined) {
      throw new Error(
        'onLifecycle: no lifecycle state machine (serverless.yml resources.LifecycleStateMachine)',
      );
    }
    const handler = createOnLifecycleHandler(() => ({ sfn: env.clients.sfn, lifecycleStateMachineArn }));
    return (event, context) => handler(event, context);
  },
  lifecycleSteps: async (env) => {
    const handler = createLifecycleStepsHandler(() => ({
      documentClient: env.clients.doc,
      tableName: env.tableName,
      ids: env.ids,
      autoScalingFor: (region) => env.clientsIn(region).autoScaling,
      ec2For: (region) => env.clientsIn(region).ec2,
      elbFor: (region) => env.clientsIn(region).elbv2,
      ssmFor: (region) => env.clientsIn(region).ssm,
    }));
    return (event, context) => handler(event, context);
  },

  onAlarm: async (env) => {
    const deployStateMachineArn = deployStateMachineOf(env, 'onAlarm');
    const handler = createOnAlarmHandler(() => ({
      documentClient: env.clients.doc,
      tableName: env.tableName,
      sfn: env.clients.sfn,
      deployStateMachineArn,
      ids: env.ids,
      destinations: async () =>
        notifyAdapters({
          ssm: env.clients.ssm,
          snsFor: (region) => env.clientsIn(region).sns,
          postWebhook: env.postWebhook,
        }),
    }));
    return (event, context) => handler(event, context);
  },

  chatops: async (env) => {
    const deployStateMachineArn = deployStateMachineOf(env, 'chatops');
    // Read through the simulated Parameter Store, as the deployed function reads it: a missing
    // parameter fails the request (500), as it would on AWS.
    const secrets = new SlackSecretsParameter(env.clients.ssm, sandboxSlackSecretParameter(env.stage));
    const handler = createChatopsHandler(() => ({
      documentClient: env.clients.doc,
      tableName: env.tableName,
      ids: env.ids,
      sfn: env.clients.sfn,
      lambda: env.clients.lambda,
      secrets,
      deployStateMachineArn,
      responder: env.slack,
      // No Slack Web API in the sandbox: user groups in access lists grant nothing there.
      userGroups: () => undefined,
    }));
    return (event, context) => handler(event, context);
  },

  reconcile: async (env) => {
    const deployStateMachineArn = deployStateMachineOf(env, 'reconcile');
    const lifecycleStateMachineArn = env.stateMachineArns.get('LifecycleStateMachine');
    if (lifecycleStateMachineArn === undefined) {
      throw new Error(
        'reconcile: no lifecycle state machine (serverless.yml resources.LifecycleStateMachine)',
      );
    }
    const handler = createReconcileHandler(() => ({
      documentClient: env.clients.doc,
      tableName: env.tableName,
      ids: env.ids,
      ec2For: (region) => env.clientsIn(region).ec2,
      cloudWatchFor: (region) => env.clientsIn(region).cloudWatch,
      autoScalingFor: (region) => env.clientsIn(region).autoScaling,
      region: env.region,
      sfn: env.clients.sfn,
      deployStateMachineArn,
      lifecycleStateMachineArn,
    }));
    return (event, context) => handler(event, context);
  },
};
