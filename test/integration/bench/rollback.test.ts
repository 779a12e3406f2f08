import { measureRollback, measureSwitch } from '../../../bench/rollback';

/**
 * The blue/green half of the rollout bench (`KILN_BENCH_SECTIONS=rollout`) on a small fleet, through
 * the real deploy state machine and functions: the switch it times happened after green was
 * healthy, and each rollback it times was a real one, started the way `kiln abort` starts it once
 * the new release serves. Virtual seconds only; no wall time is asserted.
 */
describe('the blue/green and rollback bench', () => {
  it('times a blue/green rollout from every green target healthy to blue leaving the target group', async () => {
    const figures = await measureSwitch({ seed: 7, fleet: 3 });

    expect(figures).toMatchObject({ status: 'SUCCEEDED', deploymentStatus: 'succeeded' });
    expect(figures.seconds).toBeGreaterThan(0);
  }, 120_000);

  it('times a rolling rollout aborted past its 66 % checkpoint until the previous release alone serves', async () => {
    const figures = await measureRollback({ seed: 7, fleet: 10, strategy: 'rolling' });

    expect(figures).toMatchObject({ strategy: 'rolling', status: 'FAILED', deploymentStatus: 'rolled-back' });
    expect(figures.restoredSeconds).toBeGreaterThan(0);
    expect(figures.recordedSeconds).toBeGreaterThanOrEqual(figures.restoredSeconds);
  }, 120_000);

  it('times a blue/green rollout aborted after the switch until blue alone serves again', async () => {
    const figures = await measureRollback({ seed: 7, fleet: 3, strategy: 'blue-green' });

    expect(figures).toMatchObject({
      strategy: 'blue-green',
      status: 'FAILED',
      deploymentStatus: 'rolled-back',
    });
    expect(figures.restoredSeconds).toBeGreaterThan(0);
    expect(figures.recordedSeconds).toBeGreaterThanOrEqual(figures.restoredSeconds);
  }, 120_000);
});
