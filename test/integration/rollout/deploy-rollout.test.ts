import { stage, type Stage } from './harness';

describe('deploy state machine: rollout phase (rolling)', () => {
  let s: Stage | undefined;
  afterEach(async () => {
    await s?.region.dispose();
    s = undefined;
  });

  it('rolls a healthy release through one environment: refresh succeeded, the environment and the deployment recorded', async () => {
    s = await stage();
    const st = s;
    const outcome = await st.region.engine.run(async () => {
      const arn = await st.deploy({ id: 'd-healthy', environments: ['staging'] });
      const execution = await st.end(arn);
      return {
        execution,
        deployment: await st.deployment('d-healthy'),
        staging: await st.environment('staging'),
        production: await st.environment('production'),
        version: await st.groupVersion('staging'),
      };
    });
    expect(outcome.execution.status).toBe('SUCCEEDED');
    expect(outcome.deployment).toMatchObject({ status: 'succeeded', outcome: 'succeeded' });
    expect(outcome.staging).toMatchObject({
      currentRelease: '2.0.0',
      previousRelease: 'unrecorded',
      launchTemplate: { version: 2 },
      capacity: { desired: 2 },
    });
    expect(outcome.staging.lock).toBeUndefined();
    expect(outcome.version).toBe('2');
    expect(outcome.production.currentRelease).toBeUndefined();
    expect(st.rolloutCalls('StartInstanceRefresh')).toBe(1);
  });
});
