/**
 * The Auto Scaling errors the simulator throws, built from the SDK's own exception classes so callers
 * see exactly what the real client would raise (name, $fault, HTTP status).
 */
import {
  ActiveInstanceRefreshNotFoundFault,
  AlreadyExistsFault,
  AutoScalingServiceException,
  InstanceRefreshInProgressFault,
  IrreversibleInstanceRefreshFault,
  ResourceInUseFault,
  ScalingActivityInProgressFault,
} from '@aws-sdk/client-auto-scaling';

const clientError = { httpStatusCode: 400 } as const;

/** AWS's generic `ValidationError` (not modeled by the SDK, so it arrives as the service exception). */
export function validationError(message: string): AutoScalingServiceException {
  return new AutoScalingServiceException({
    name: 'ValidationError',
    $fault: 'client',
    message,
    $metadata: clientError,
  });
}

/** The Query protocol's message for a missing required member, naming the field. */
export function missingField(field: string): AutoScalingServiceException {
  return validationError(
    `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
  );
}

export function groupNotFound(name: string): AutoScalingServiceException {
  return validationError(`AutoScalingGroup name not found - AutoScalingGroup '${name}' not found`);
}

export function alreadyExists(name: string): AlreadyExistsFault {
  return new AlreadyExistsFault({
    message: `AutoScalingGroup by this name already exists - A group with the name ${name} already exists`,
    $metadata: clientError,
  });
}

export function refreshInProgress(): InstanceRefreshInProgressFault {
  return new InstanceRefreshInProgressFault({
    message: 'An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.',
    $metadata: clientError,
  });
}

export function noActiveRefresh(groupName: string): ActiveInstanceRefreshNotFoundFault {
  return new ActiveInstanceRefreshNotFoundFault({
    message: `No in progress or pending Instance Refresh found for Auto Scaling group ${groupName}`,
    $metadata: clientError,
  });
}

export function irreversible(message: string): IrreversibleInstanceRefreshFault {
  return new IrreversibleInstanceRefreshFault({ message, $metadata: clientError });
}

export function resourceInUse(message: string): ResourceInUseFault {
  return new ResourceInUseFault({ message, $metadata: clientError });
}

export function scalingActivityInProgress(message: string): ScalingActivityInProgressFault {
  return new ScalingActivityInProgressFault({ message, $metadata: clientError });
}
