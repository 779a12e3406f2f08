import { IllegalTransitionError } from '../../../shared/domain/deployment';
import * as stepErrors from '../../../shared/domain/step-errors';
import { KilnError } from '../../../shared/runtime/errors';
import { LockHeldError, StaleStatusError, StaleVersionError } from '../../../shared/store';

const { STEP_ERROR_NAMES } = stepErrors;

/** One instance of every error class a step may raise on purpose, as a Lambda would report it. */
const instances: KilnError[] = [
  new stepErrors.TransientAwsError('throttled', 'RequestLimitExceeded'),
  new stepErrors.AwsRequestRefusedError('no such subnet', 'InvalidSubnetID.NotFound'),
  new stepErrors.BaseImageNotFoundError('no base image'),
  new stepErrors.ImageNotReadyError('pending'),
  new stepErrors.InstanceNotReadyError('pending'),
  new stepErrors.BakeFailedError('install failed'),
  new stepErrors.BakeTimedOutError('past the deadline'),
  new stepErrors.RefreshInProgressError('another refresh', 'r-1', { id: 'lt-1', version: '3' }),
  new stepErrors.EnvironmentSetupError('no such group'),
  new LockHeldError('held', 'environment:web/prod', 'd-2', 0, 'd-2'),
  new StaleVersionError('stale', 'deployment:d-1', 1, 2),
  new StaleStatusError('moved', 'deployment:d-1', 'queued', 'baking'),
  new IllegalTransitionError('d-1', 'succeeded', 'queued'),
];

/** Classes step-errors.ts exports: each must be on the list. */
const exportedClasses = Object.entries(stepErrors).filter(
  ([, value]) => typeof value === 'function' && value.prototype instanceof KilnError,
);

describe('step error names', () => {
  it('lists exactly the errors steps raise on purpose, each once', () => {
    expect([...STEP_ERROR_NAMES].sort()).toEqual(instances.map((error) => error.name).sort());
    expect(new Set(STEP_ERROR_NAMES).size).toBe(STEP_ERROR_NAMES.length);
  });

  it('names each error after its class, as ASL ErrorEquals matches it', () => {
    for (const error of instances) {
      expect(error.name).toBe(error.constructor.name);
      expect(error).toBeInstanceOf(KilnError);
    }
  });

  it('lists every error class declared beside the list', () => {
    expect(exportedClasses.length).toBeGreaterThan(0);
    for (const [exportName] of exportedClasses) {
      expect(STEP_ERROR_NAMES).toContain(exportName);
    }
  });

  it('keeps names ASL can match: ending in Error, no States. prefix', () => {
    for (const name of STEP_ERROR_NAMES) {
      expect(name).toMatch(/^[A-Z][A-Za-z]+Error$/);
    }
  });
});
