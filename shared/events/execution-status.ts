import * as z from '../domain/zod';
import { eventBridgeEvent } from './envelope';

/**
 * Step Functions' "Step Functions Execution Status Change": the `detail` is what
 * DescribeExecution answers, `status` one of RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED (and,
 * since redrive, PENDING_REDRIVE). The samples in test/fixtures/events/stepfunctions are AWS's.
 * https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html
 *
 * Only what the clean-up reads is checked: which execution (its ARN, its machine, its name, which
 * is the deployment id) and the status. The status is not held to today's list, and the clean-up
 * asks Step Functions again anyway, so a replayed or late event never decides on its own.
 */
const StateMachineArn = z
  .string()
  .check(
    z.regex(/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/, 'must be a state machine ARN'),
  );
const ExecutionArn = z
  .string()
  .check(
    z.regex(/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/, 'must be an execution ARN'),
  );

export const ExecutionStatusChangeEvent = z.extend(
  eventBridgeEvent(
    'Step Functions Execution Status Change',
    z.object({
      executionArn: ExecutionArn,
      stateMachineArn: StateMachineArn,
      // Execution names are 1-80 characters (API_StartExecution.html).
      name: z.string().check(z.minLength(1), z.maxLength(80)),
      status: z.string().check(z.minLength(1, 'must not be empty')),
    }),
  ),
  { source: z.literal('aws.states') },
);
export type ExecutionStatusChangeEvent = z.infer<typeof ExecutionStatusChangeEvent>;

/**
 * What sweep-bakes is asked to do: clean up the one deployment whose execution ended. (Its old
 * rate(15 minutes) schedule is the reconciler's now: shared/usecases/reconcile/reconcile.ts.)
 */
export interface SweepRequest {
  kind: 'execution';
  deploymentId: string;
  stateMachineArn: string;
  status: string;
}

/**
 * Parses the detail-type first (so another event is refused naming `detail-type`, not every field
 * it lacks), then the event, reduced to the request.
 */
export const SweepEventSchema = z.pipe(
  z.looseObject({ 'detail-type': z.literal('Step Functions Execution Status Change') }),
  z.transform((event, payload): SweepRequest => {
    const parsed = z.safeParse(ExecutionStatusChangeEvent, event);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        payload.issues.push({ ...issue, code: 'custom', input: event });
      return z.NEVER;
    }
    const { name, stateMachineArn, status } = parsed.data.detail;
    return { kind: 'execution', deploymentId: name, stateMachineArn, status };
  }),
);
