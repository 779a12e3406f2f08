import { KilnError } from '../../runtime/errors';

/**
 * A request to start, approve or abort a deployment that cannot be carried out as asked: the
 * service, release, environment or deployment is not there, or not in a state that allows it.
 * Nothing changed. `field` names the part of the request at fault, so a caller can name its own
 * argument (the CLI's `--env`, `--to`, `DEPLOYMENT`; chat's words later).
 */
export class DeploymentRequestError extends KilnError {
  constructor(
    message: string,
    readonly field: 'service' | 'version' | 'environments' | 'deploymentId',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
