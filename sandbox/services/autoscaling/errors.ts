/**
 * The Auto Scaling errors the simulator throws, built from the SDK's own exception classes so callers
 * see exactly what the real client would raise (name, $fault, HTTP status), and `required`.
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
import { badRequest, clientError, requiredWith } from '../shared';

/** AWS's generic `ValidationError` (not modeled by the SDK, so it arrives as the service exception). */
export function validationError(message: string): AutoScalingServiceException {
  return clientError(AutoScalingServiceException, 'ValidationError', message);
}

/** The Query protocol's message for a missing required member, naming the field. */
export function missingField(field: string): AutoScalingServiceException {
  return validationError(
    `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
  );
}

/** A required member's value; an absent one (undefined or null) is the Query protocol's error. */
export const required = requiredWith(missingField);

export function groupNotFound(name: string): AutoScalingServiceException {
  return validationError(`AutoScalingGroup name not found - AutoScalingGroup '${name}' not found`);
}

export function alreadyExists(name: string): AlreadyExistsFault {
  return new AlreadyExistsFault({
    message: `AutoScalingGroup by this name already exists - A group with the name ${name} already exists`,
    ...badRequest(),
  });
}

export function refreshInProgress(): InstanceRefreshInProgressFault {
  return new InstanceRefreshInProgressFault({
    message: 'An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.',
    ...badRequest(),
  });
}

export function noActiveRefresh(groupName: string): ActiveInstanceRefreshNotFoundFault {
  return new ActiveInstanceRefreshNotFoundFault({
    message: `No in progress or pending Instance Refresh found for Auto Scaling group ${groupName}`,
    ...badRequest(),
  });
}

export function irreversible(message: string): IrreversibleInstanceRefreshFault {
  return new IrreversibleInstanceRefreshFault({ message, ...badRequest() });
}

export function resourceInUse(message: string): ResourceInUseFault {
  return new ResourceInUseFault({ message, ...badRequest() });
}

export function scalingActivityInProgress(message: string): ScalingActivityInProgressFault {
  return new ScalingActivityInProgressFault({ message, ...badRequest() });
}
