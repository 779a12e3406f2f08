import type { AlarmSignal } from '../domain/alarms';
import * as z from '../domain/zod';
import { eventBridgeEvent } from './envelope';

/**
 * "CloudWatch Alarm State Change" (on-alarm). AWS documents several shapes of one event, and the
 * page has grown over time, so only what Kiln reads is checked and the rest is let through:
 * - the older user guide (awsdocs/amazon-cloudwatch-user-guide, doc_source/cloudwatch-and-eventbridge.md)
 *   shows a single-metric, a metric math and an anomaly detection alarm: `configuration.metrics`,
 *   `previousState` without `reasonData` after "Initial alarm creation", fields in any order;
 * - the current page (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html)
 *   adds composite alarms (`configuration.alarmRule`, actions suppressor settings, `triggeringAlarms`
 *   in `reasonData`, `actionsSuppressedBy` on a state), `muteDetail`, and `alarmTags` /
 *   `alarmTagsStatus` when tag propagation is on.
 * Samples: test/fixtures/events/cloudwatch (sources in its README).
 *
 * Alarm names: 1–255 characters
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
 * The state time is CloudWatch's `2019-10-02T17:04:40.989+0000`; the envelope's `time` stands in
 * when it is missing, and an event with neither as a time is refused naming `detail.state.timestamp`.
 */
const StateValue = z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']);

const AlarmStateChangeDetail = z.looseObject({
  alarmName: z.string().check(z.minLength(1, 'must not be empty'), z.maxLength(255)),
  state: z.looseObject({
    value: StateValue,
    reason: z.optional(z.string()),
    timestamp: z.optional(z.string()),
  }),
  previousState: z.optional(z.looseObject({ value: StateValue })),
  configuration: z.optional(
    z.looseObject({
      alarmRule: z.optional(z.string()),
      metrics: z.optional(z.array(z.unknown())),
    }),
  ),
});

export const AlarmStateChangeEvent = z.extend(
  eventBridgeEvent('CloudWatch Alarm State Change', AlarmStateChangeDetail),
  { source: z.literal('aws.cloudwatch') },
);
export type AlarmStateChangeEvent = z.infer<typeof AlarmStateChangeEvent>;

/** The event reduced to what on-alarm decides on (shared/domain/alarms.ts). */
export const AlarmEventSchema = z.pipe(
  AlarmStateChangeEvent,
  z.transform((event, payload): AlarmSignal => {
    const { detail } = event;
    const at = timeOf(detail.state.timestamp) ?? timeOf(event.time);
    if (at === undefined) {
      payload.issues.push({
        code: 'custom',
        path: ['detail', 'state', 'timestamp'],
        message: 'must be a time (and the event time is not one either)',
        input: detail.state.timestamp,
      });
      return z.NEVER;
    }
    return {
      alarmName: detail.alarmName,
      region: event.region,
      kind: detail.configuration?.alarmRule === undefined ? 'metric' : 'composite',
      state: detail.state.value,
      ...(detail.previousState === undefined ? {} : { previousState: detail.previousState.value }),
      at,
      ...(detail.state.reason === undefined ? {} : { reason: detail.state.reason }),
    };
  }),
);

function timeOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
