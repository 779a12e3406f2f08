import { measureRollback } from '../../../bench/rollback';

/**
 * The rollback half of the blue/green bench on a small fleet: the rollout is aborted the way
 * `kiln abort` does it once the new release serves, and the figures are read from a rollback that
 * really happened. Virtual seconds only; no timing is asserted beyond their order.
 */
describe('the rollback bench', () => {
  it('times a rolling rollout aborted past its 66 % checkpoint until the previous release alone serves', async () => {
    const figures = await measureRollback({ seed: 7, fleet: 10, strategy: 'rolling' });

    expect(figures).toMatchObject({ strategy: 'rolling', status: 'FAILED', deploymentStatus: 'rolled-back' });
    expect(figures.restoredSeconds).toBeGreaterThan(0);
    expect(figures.recordedSeconds).toBeGreaterThanOrEqual(figures.restoredSeconds);
  }, 120_000);
});
