import * as z from '../domain/zod';
import { eventBridgeEvent } from './envelope';

/**
 * The Auto Scaling lifecycle action events Kiln's hooks answer, one schema per `detail-type`.
 * Samples: test/fixtures/events/autoscaling/instance-{launch,terminate}-lifecycle-action.json, copied
 * from https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-event-reference.html
 * (the reference page's examples). Only the fields Kiln reads are checked; the token is optional
 * because CompleteLifecycleAction also takes the instance id instead
 * (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CompleteLifecycleAction.html).
 */
const NonEmpty = z.string().check(z.minLength(1, 'must not be empty'));
const InstanceId = z.string().check(z.regex(/^i-[0-9a-f]{8,17}$/, 'must be an EC2 instance id (i-…)'));
// PutLifecycleHook's name pattern (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PutLifecycleHook.html).
const HookName = z.string().check(z.regex(/^[A-Za-z0-9\-_/]{1,255}$/, 'must be a lifecycle hook name'));

const detail = <T extends string>(transition: T) =>
  z.object({
    LifecycleActionToken: z.optional(NonEmpty),
    AutoScalingGroupName: NonEmpty,
    LifecycleHookName: HookName,
    EC2InstanceId: InstanceId,
    LifecycleTransition: z.literal(transition),
    NotificationMetadata: z.optional(z.string()),
  });

export const LAUNCHING = 'autoscaling:EC2_INSTANCE_LAUNCHING';
export const TERMINATING = 'autoscaling:EC2_INSTANCE_TERMINATING';

export const LaunchLifecycleActionEvent = z.extend(
  eventBridgeEvent('EC2 Instance-launch Lifecycle Action', detail(LAUNCHING)),
  { source: z.literal('aws.autoscaling') },
);
export const TerminateLifecycleActionEvent = z.extend(
  eventBridgeEvent('EC2 Instance-terminate Lifecycle Action', detail(TERMINATING)),
  { source: z.literal('aws.autoscaling') },
);

// Discriminated by detail-type, so a bad event's error names the field at fault, not just "the union".
export const LifecycleActionEvent = z.discriminatedUnion('detail-type', [
  LaunchLifecycleActionEvent,
  TerminateLifecycleActionEvent,
]);
export type LifecycleActionEvent = z.infer<typeof LifecycleActionEvent>;
