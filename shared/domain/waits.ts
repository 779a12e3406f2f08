/**
 * Which progress events end a wait (DESIGN.md rule 5). A waiting task stores its token keyed by
 * what it waits for; the matching event wakes it only when the thing it waits for has reached a
 * state it will not leave by itself. The task then reads the real state from AWS, so a wake is a
 * hint, never a verdict: waking on a state missing here costs one extra poll, missing a terminal
 * state costs one heartbeat interval.
 */

/** What an event may wake: the kinds of wait whose key an AWS event names. */
export type EventWaitKind = 'image' | 'command' | 'refresh';

/** An event, reduced to what the wake needs. */
export interface ProgressSignal {
  waitKind: EventWaitKind;
  /** The image, command or instance refresh id the event is about (the key the task's token is stored under). */
  key: string;
  /** The event's detail-type, passed on to the task so its logs say what woke it. */
  detailType: string;
  /** The state the event reports, as AWS spells it. */
  state: string;
}

/**
 * EC2 sends "EC2 AMI State Change" only when an image enters available, failed, deregistered or
 * disabled, never for pending: every one of them ends a wait for a pending image.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitor-ami-events.html
 */
export const TERMINAL_IMAGE_STATES: readonly string[] = ['available', 'failed', 'deregistered', 'disabled'];

/**
 * A Run Command command's status is terminal at Success, Failed, TimedOut and Cancelled
 * (`Pending`, `InProgress`, `Delayed` and `Cancelling` are on the way). Incomplete, Delivery Timed
 * Out, Execution Timed Out, Undeliverable, Terminated, Rate Exceeded and Access Denied are the
 * terminal *details* AWS documents for the same command; an event carrying one is terminal too.
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_Command.html (Status, StatusDetails)
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/monitor-commands.html
 */
export const TERMINAL_COMMAND_STATUSES: readonly string[] = [
  'Success',
  'Failed',
  'TimedOut',
  'Cancelled',
  'Incomplete',
  'DeliveryTimedOut',
  'ExecutionTimedOut',
  'Undeliverable',
  'Terminated',
  'RateExceeded',
  'AccessDenied',
];

/**
 * Auto Scaling's instance refresh events carry no status, only what happened (the detail-type:
 * "EC2 Auto Scaling Instance Refresh Checkpoint Reached", …). Every one but Started ends a wait:
 * a checkpoint is where the rollout records its progress, the others where the refresh settles
 * or AWS starts rolling it back. The task reads DescribeInstanceRefreshes itself.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-eventbridge-events.html
 */
export const REFRESH_WAKING_EVENTS: readonly string[] = [
  'Checkpoint Reached',
  'Succeeded',
  'Failed',
  'Cancelled',
  'Rollback Started',
  'Rollback Succeeded',
  'Rollback Failed',
];

/** True when the signal reports a state the waiting task should wake for. */
export function endsWait(signal: Pick<ProgressSignal, 'waitKind' | 'state'>): boolean {
  if (signal.waitKind === 'refresh') return REFRESH_WAKING_EVENTS.includes(signal.state);
  const terminal = signal.waitKind === 'image' ? TERMINAL_IMAGE_STATES : TERMINAL_COMMAND_STATUSES;
  // AWS's prose spells some details with spaces ("Delivery Timed Out"); the API without.
  return terminal.includes(signal.state.replace(/ /g, ''));
}

/** What on-progress sends a woken task as its output: a wake-up, not a result. */
export interface WakeOutput {
  woken: 'event';
  detailType: string;
  state: string;
}

export function wakeOutput(signal: ProgressSignal): WakeOutput {
  return { woken: 'event', detailType: signal.detailType, state: signal.state };
}
