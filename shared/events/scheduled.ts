import * as z from '../domain/zod';
import { eventBridgeEvent } from './envelope';

/**
 * What a scheduled EventBridge rule (`rate(...)` or `cron(...)`) delivers: the envelope with
 * source `aws.events`, the rule's ARN in `resources` and an empty detail
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html). Kiln's
 * scheduled functions read nothing from it but check that it is one.
 */
export const ScheduledEventSchema = eventBridgeEvent('Scheduled Event', z.object({})).check(
  z.refine((event) => event.source === 'aws.events', {
    message: 'must come from aws.events',
    path: ['source'],
  }),
);
export type ScheduledEvent = z.infer<typeof ScheduledEventSchema>;
