/**
 * on-lifecycle: an Auto Scaling group holds an instance on a lifecycle hook (EC2 Instance-launch or
 * Instance-terminate Lifecycle Action). A drain can outlast a Lambda call (a deregistration delay
 * and a graceful stop of up to an hour each), so this only starts the handling: the lifecycle state
 * machine's execution, named after the action so a duplicate delivery (EventBridge delivers at
 * least once) starts nothing. A malformed event is refused with the field at fault and changes
 * nothing. The handling itself: shared/usecases/lifecycle/handle.ts.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { LifecycleExecutions } from '../shared/aws/lifecycle';
import { TRANSITIONS, type LifecycleAction } from '../shared/domain/lifecycle';
import * as z from '../shared/domain/zod';
import { LifecycleActionEvent } from '../shared/events/lifecycle';
import { BaseConfigSchema, loadConfig, StateMachineArn } from '../shared/runtime/config';
import { kilnHandler } from '../shared/runtime/handler';
import { createLogger } from '../shared/runtime/logger';
import { startLifecycleHandling } from '../shared/usecases/lifecycle/start';

export const OnLifecycleConfigSchema = z.extend(BaseConfigSchema, {
  KILN_LIFECYCLE_STATE_MACHINE_ARN: StateMachineArn,
});

export interface OnLifecycleDeps {
  sfn: SFNClient;
  lifecycleStateMachineArn: string;
  now?: () => number;
}

export function createOnLifecycleHandler(deps: () => OnLifecycleDeps) {
  const logger = createLogger('on-lifecycle');
  return kilnHandler({
    logger,
    what: 'lifecycle action event',
    schema: LifecycleActionEvent,
    onInvalid: 'drop',
    useCase: async (event) => {
      const { sfn, lifecycleStateMachineArn, now = Date.now } = deps();
      const opened = Date.parse(event.time);
      const action: LifecycleAction = {
        region: event.region,
        groupName: event.detail.AutoScalingGroupName,
        instanceId: event.detail.EC2InstanceId,
        transition: TRANSITIONS[event.detail.LifecycleTransition],
        hookName: event.detail.LifecycleHookName,
        ...(event.detail.LifecycleActionToken === undefined
          ? {}
          : { token: event.detail.LifecycleActionToken }),
        // AWS's documented samples carry a placeholder time; then the action opened about now.
        startedAt: Number.isNaN(opened) ? now() : Math.min(opened, now()),
        source: 'event',
      };
      const result = await startLifecycleHandling(
        action,
        new LifecycleExecutions(sfn, lifecycleStateMachineArn),
      );
      logger.info(
        result.outcome === 'started' ? 'started the handling' : 'already handled; nothing started',
        {
          execution: result.name,
          group: action.groupName,
          instanceId: action.instanceId,
        },
      );
      return { outcome: result.outcome, execution: result.name };
    },
  });
}

let defaults: OnLifecycleDeps | undefined;

/** The deployed handler: configuration is read and checked once, on the first invocation. */
export const handler = createOnLifecycleHandler(() => {
  defaults ??= {
    sfn: new SFNClient({}),
    lifecycleStateMachineArn: loadConfig(OnLifecycleConfigSchema).KILN_LIFECYCLE_STATE_MACHINE_ARN,
  };
  return defaults;
});
