import { KeyName } from '../domain/limits';
import { REFRESH_WAKING_EVENTS, type ProgressSignal } from '../domain/waits';
import * as z from '../domain/zod';
import { eventBridgeEvent } from './envelope';

/**
 * Events that report progress of something a deploy waits for. One schema per `detail-type`; the
 * samples in test/fixtures/events/{ec2,ssm} are AWS's documented examples. Only the fields the
 * wake reads are checked: the id (the key the task's token is stored under, so held to the store's
 * key rules) and the state. States are not held to today's list: a state AWS adds later must not
 * turn a wake-up into a refused event (shared/domain/waits.ts decides which states wake).
 */

const State = z.string().check(z.minLength(1, 'must not be empty'));

/** https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitor-ami-events.html */
export const AmiStateChangeEvent = z.extend(
  eventBridgeEvent(
    'EC2 AMI State Change',
    z.object({
      ImageId: KeyName,
      State,
      ErrorMessage: z.optional(z.string()),
    }),
  ),
  { source: z.literal('aws.ec2') },
);
export type AmiStateChangeEvent = z.infer<typeof AmiStateChangeEvent>;

/**
 * Systems Manager user guide, "Amazon EventBridge event examples for Systems Manager": the status
 * of a whole Run Command command (all its invocations).
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/monitoring-systems-manager-event-examples.html
 */
export const CommandStatusChangeEvent = z.extend(
  eventBridgeEvent(
    'EC2 Command Status-change Notification',
    z.object({
      'command-id': KeyName,
      status: State,
    }),
  ),
  { source: z.literal('aws.ssm') },
);
export type CommandStatusChangeEvent = z.infer<typeof CommandStatusChangeEvent>;

const REFRESH_DETAIL_PREFIX = 'EC2 Auto Scaling Instance Refresh ';

/**
 * The instance refresh events, one schema each: the refresh id is the key the waiting task's token
 * is stored under. Started is read too and ends no wait (shared/domain/waits.ts decides).
 * Samples: test/fixtures/events/autoscaling.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-eventbridge-events.html
 */
const refreshEvent = (what: string) =>
  z.extend(
    eventBridgeEvent(
      `${REFRESH_DETAIL_PREFIX}${what}`,
      z.looseObject({
        InstanceRefreshId: KeyName,
        AutoScalingGroupName: z.string().check(z.minLength(1, 'must not be empty')),
      }),
    ),
    { source: z.literal('aws.autoscaling') },
  );

interface ProgressEventKind<S extends z.ZodMiniType> {
  schema: S;
  signal: (event: z.infer<S>) => ProgressSignal;
}

const kind = <S extends z.ZodMiniType>(entry: ProgressEventKind<S>): ProgressEventKind<S> => entry;

/**
 * The progress events on-progress handles, by detail-type: each names its schema and how it
 * becomes a signal (what it waits for, and the state). The instance refresh events (issue 10)
 * join here with `waitKind: 'refresh'`. serverless.yml's rules for on-progress deliver exactly
 * these detail-types (a test holds the two to the same set).
 */
export const PROGRESS_EVENTS = {
  'EC2 AMI State Change': kind({
    schema: AmiStateChangeEvent,
    signal: (event) => ({
      waitKind: 'image',
      key: event.detail.ImageId,
      detailType: event['detail-type'],
      state: event.detail.State,
    }),
  }),
  'EC2 Command Status-change Notification': kind({
    schema: CommandStatusChangeEvent,
    signal: (event) => ({
      waitKind: 'command',
      key: event.detail['command-id'],
      detailType: event['detail-type'],
      state: event.detail.status,
    }),
  }),
  ...Object.fromEntries(
    ['Started', ...REFRESH_WAKING_EVENTS].map((what) => [
      `${REFRESH_DETAIL_PREFIX}${what}`,
      kind({
        schema: refreshEvent(what),
        signal: (event) => ({
          waitKind: 'refresh',
          key: event.detail.InstanceRefreshId,
          detailType: event['detail-type'],
          state: what,
        }),
      }),
    ]),
  ),
} as const;

export type ProgressDetailType = keyof typeof PROGRESS_EVENTS;
export const PROGRESS_DETAIL_TYPES = Object.keys(PROGRESS_EVENTS) as ProgressDetailType[];

/**
 * Parses a progress event by its detail-type (so errors name the fields of the right schema, not
 * of a union) and reduces it to the signal the wake needs.
 */
export const ProgressEventSchema = z.pipe(
  z.looseObject({
    'detail-type': z.enum(PROGRESS_DETAIL_TYPES as [ProgressDetailType, ...ProgressDetailType[]]),
  }),
  z.transform((event, payload): ProgressSignal => {
    const entry: ProgressEventKind<z.ZodMiniType> = PROGRESS_EVENTS[event['detail-type']];
    const parsed = z.safeParse(entry.schema, event);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        payload.issues.push({ ...issue, code: 'custom', input: event });
      return z.NEVER;
    }
    return entry.signal(parsed.data);
  }),
);
