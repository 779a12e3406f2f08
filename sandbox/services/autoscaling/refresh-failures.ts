/**
 * When an instance refresh gives up, and what it says while it retries. Pure: the refresh part
 * (instance-refresh.ts) keeps the clock; this file holds the window and the words.
 *
 * "When an instance refresh is unable to continue making replacements because it is waiting to
 * replace instances on standby or protected from scale in, or the new instances do not pass their
 * health checks, Amazon EC2 Auto Scaling keeps retrying for an hour. It also provides a status
 * message to help you resolve the issue. If the problem persists after an hour, the operation fails."
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-overview.html#instance-refresh-limitations
 *
 * With AutoRollback the same hour applies before it "fails and rolls back".
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-rollback.html
 *
 * AWS documents no StatusReason text for any of these; the texts below are the sandbox's own
 * (sandbox/README.md, fidelity notes).
 */

/** How long a refresh (or its rollback) keeps retrying without progress before it fails. */
export const REFRESH_RETRY_SECONDS = 3600;

/**
 * Why a refresh cannot make progress: its new instances fail to launch or fail their health checks,
 * or every instance left is one it must wait for (ScaleInProtectedInstances / StandbyInstances Wait).
 */
export type StuckCause = 'launch-failures' | 'health-checks' | 'scale-in-protected' | 'standby';

export interface Stuck {
  /**
   * Virtual ms when the refresh last stopped making progress. AWS does not say when the hour starts
   * or whether progress restarts it: the sandbox starts it at the first failure (or the first wait)
   * and restarts it when a new instance passes its health checks and warms up, or when a waiting
   * refresh can replace again.
   */
  since: number;
  cause: StuckCause;
  /** The latest example to name: an instance and what happened to it, or a launch failure's message. */
  example: string;
}

/** What is wrong, as the waiting status and the failure each say it. */
const STUCK_TEXT: Record<StuckCause, { waiting: string; failed: string }> = {
  'health-checks': {
    waiting: 'Waiting for new instances to pass their health checks; unhealthy ones are replaced.',
    failed: 'new instances did not pass their health checks',
  },
  'launch-failures': {
    waiting: 'Waiting for new instances to launch; failed launches are retried.',
    failed: 'new instances failed to launch',
  },
  'scale-in-protected': {
    waiting:
      'Waiting for scale-in protection to be removed from the remaining instances (ScaleInProtectedInstances is Wait).',
    failed: 'instances were still protected from scale in',
  },
  standby: {
    waiting: 'Waiting for the instances in Standby to return to service (StandbyInstances is Wait).',
    failed: 'instances were still in Standby',
  },
};

/** The StatusReason of a refresh that is retrying (InProgress or RollbackInProgress). */
export function waitingReason(stuck: Stuck): string {
  return `${STUCK_TEXT[stuck.cause].waiting} For example: ${stuck.example}`;
}

/** The StatusReason (and RollbackReason) of a refresh that gave up: `Failed`, or the reason it rolls back. */
export function failedReason(stuck: Stuck): string {
  return `Instance refresh failed: ${STUCK_TEXT[stuck.cause].failed} for ${REFRESH_RETRY_SECONDS} seconds. For example: ${stuck.example}`;
}

/** The StatusReason of a rollback that gave up (`RollbackFailed`). */
export function rollbackFailedReason(stuck: Stuck): string {
  return `Rollback failed: ${STUCK_TEXT[stuck.cause].failed} for ${REFRESH_RETRY_SECONDS} seconds. For example: ${stuck.example}`;
}

/** Examples, so every reason names an instance (or a launch error) the same way. */
export const STUCK_EXAMPLE = {
  unhealthy: (instanceId: string, check: string) => `${instanceId} failed its ${check} health check.`,
  bootFailed: (instanceId: string) => `${instanceId} was terminated before it reached InService.`,
  abandoned: (instanceId: string) => `${instanceId}'s launch lifecycle action was abandoned.`,
  launchFailed: (message: string) => message,
  protectedFromScaleIn: (instanceId: string) => `${instanceId} is protected from scale in.`,
  inStandby: (instanceId: string) => `${instanceId} is in Standby.`,
} as const;
