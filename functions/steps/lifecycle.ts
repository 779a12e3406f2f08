/**
 * lifecycle-steps: the tasks of the lifecycle state machine (statemachines/lifecycle.asl.json):
 * `advance` (one step of a drain or a launch verification, shared/usecases/lifecycle/handle.ts)
 * and `complete` (CompleteLifecycleAction, the outcome audited). Errors leave with their names for
 * the ASL's Retry/Catch (shared/domain/step-errors.ts).
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AutoScalingGroups } from '../../shared/aws/autoscaling';
import { perRegion, stepError } from '../../shared/aws/aws-errors';
import { InstanceViews, LifecycleActions, TargetDrain } from '../../shared/aws/lifecycle';
import { SsmBake } from '../../shared/aws/ssm';
import type { LifecycleAction } from '../../shared/domain/lifecycle';
import type { ServiceManifest } from '../../shared/domain/manifest/schema';
import * as z from '../../shared/domain/zod';
import { defaultDocumentClient } from '../../shared/runtime/clients';
import { BaseConfigSchema, loadConfig } from '../../shared/runtime/config';
import { kilnHandler } from '../../shared/runtime/handler';
import type { IdSource } from '../../shared/runtime/ids';
import { createLogger } from '../../shared/runtime/logger';
import { KilnStore } from '../../shared/store';
import type { LifecycleDeps, LifecycleProgress } from '../../shared/usecases/lifecycle/deps';
import { advanceLifecycle, completeLifecycle } from '../../shared/usecases/lifecycle/handle';

const NonEmpty = z.string().check(z.minLength(1));

export const LifecycleActionSchema = z.object({
  region: NonEmpty,
  groupName: NonEmpty,
  instanceId: NonEmpty,
  transition: z.enum(['launch', 'terminate']),
  hookName: NonEmpty,
  token: z.optional(NonEmpty),
  startedAt: z.number(),
  source: z.enum(['event', 'reconciler']),
});

const StepInputSchema = z.object({
  step: z.enum(['advance', 'complete']),
  action: LifecycleActionSchema,
  // The handling's own state, written by the previous step: checked for its shape's spine only.
  progress: z.looseObject({
    phase: z.enum(['begin', 'draining', 'stopping', 'verifying', 'done']),
    next: z.enum(['wait', 'complete', 'ignore']),
  }),
  error: z.optional(z.looseObject({ Error: z.optional(z.string()), Cause: z.optional(z.string()) })),
});

export interface LifecycleStepsDeps {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  autoScalingFor: (region: string) => AutoScalingClient;
  ec2For: (region: string) => EC2Client;
  elbFor: (region: string) => ElasticLoadBalancingV2Client;
  ssmFor: (region: string) => SSMClient;
  ids?: IdSource;
  now?: () => number;
}

export function createLifecycleStepsHandler(deps: () => LifecycleStepsDeps) {
  const logger = createLogger('lifecycle-steps');
  let built: LifecycleDeps | undefined;
  const build = (): LifecycleDeps => {
    const d = deps();
    return {
      store: new KilnStore<ServiceManifest>({
        client: d.documentClient,
        tableName: d.tableName,
        ...(d.ids === undefined ? {} : { ids: d.ids }),
      }),
      groups: perRegion((region) => new AutoScalingGroups(d.autoScalingFor(region))),
      actions: perRegion((region) => new LifecycleActions(d.autoScalingFor(region))),
      drain: perRegion((region) => new TargetDrain(d.elbFor(region))),
      instances: perRegion((region) => new InstanceViews(d.ec2For(region))),
      commands: perRegion((region) => new SsmBake(d.ssmFor(region))),
      now: d.now ?? Date.now,
    };
  };
  return kilnHandler({
    logger,
    what: 'lifecycle step',
    schema: StepInputSchema,
    onInvalid: 'throw',
    correlationId: (input) => `${input.action.instanceId}-${input.action.transition}`,
    useCase: async (input) => {
      built ??= build();
      const action = input.action as LifecycleAction;
      const progress = input.progress as unknown as LifecycleProgress;
      try {
        if (input.step === 'advance') return await advanceLifecycle(action, progress, built);
        const error =
          input.error === undefined
            ? undefined
            : {
                ...(input.error.Error === undefined ? {} : { Error: input.error.Error }),
                ...(input.error.Cause === undefined ? {} : { Cause: input.error.Cause }),
              };
        return await completeLifecycle(action, progress, error, built);
      } catch (caught) {
        throw stepError(
          caught,
          input.step === 'advance'
            ? `handling ${action.instanceId}`
            : `completing the lifecycle action of ${action.instanceId}`,
        );
      }
    },
  });
}

let defaults: LifecycleStepsDeps | undefined;

/** The deployed handler: configuration is read and checked once, on the first invocation. */
export const handler = createLifecycleStepsHandler(() => {
  defaults ??= {
    documentClient: defaultDocumentClient(),
    tableName: loadConfig(BaseConfigSchema).KILN_TABLE,
    autoScalingFor: perRegion((region) => new AutoScalingClient({ region })),
    ec2For: perRegion((region) => new EC2Client({ region })),
    elbFor: perRegion((region) => new ElasticLoadBalancingV2Client({ region })),
    ssmFor: perRegion((region) => new SSMClient({ region })),
  };
  return defaults;
});
