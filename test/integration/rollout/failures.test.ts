import { CancelInstanceRefreshCommand } from '@aws-sdk/client-auto-scaling';
import { sleep } from '../../../sandbox/stories/fleet';
import { refreshSpans, until } from '../../../sandbox/stories/rollout-kit';
import { T_MINUTE, stage, type Stage } from './harness';

describe('deploy state machine: a rollout that goes wrong puts the previous release back', () => {
  let s: Stage | undefined;
  afterEach(async () => {
    await s?.region.dispose();
    s = undefined;
  });

  it("records AWS's rollback of a refresh whose instances fail their health checks, with AWS's reason", async () => {
    s = await stage({ badVersions: [{ version: '2.0.0', mode: 'failing-health' }] });
    const st = s;
    const outcome = await st.region.engine.run(async () => {
      const arn = await st.deploy({ id: 'd-bad', environments: ['staging'] });
      return {
        execution: await st.end(arn),
        deployment: await st.deployment('d-bad'),
        staging: await st.environment('staging'),
        version: await st.groupVersion('staging'),
      };
    });
    expect(outcome.execution.status).toBe('FAILED');
    expect(outcome.deployment).toMatchObject({
      status: 'rolled-back',
      outcome: 'rolled-back',
      reason: expect.stringMatching(
        /^AWS rolled the instance refresh back: instance refresh \S+ of web-staging ended RollbackSuccessful: .+; launch template version 1 restored/,
      ),
    });
    // Kiln's record names what runs: the previous launch template version, never the bad one.
    expect(outcome.staging).toMatchObject({ currentRelease: 'unrecorded', launchTemplate: { version: 1 } });
    expect(outcome.staging.lock).toBeUndefined();
    expect(outcome.version).toBe('1');
    expect(st.rolloutCalls('StartInstanceRefresh')).toBe(1);
  });

  it("rolls back itself when the refresh ends without AWS's rollback (cancelled mid-way): a refresh to the previous version", async () => {
    s = await stage();
    const st = s;
    const outcome = await st.region.engine.run(async () => {
      const arn = await st.deploy({ id: 'd-cancelled', environments: ['staging'] });
      const refreshId = await until(
        'the refresh',
        async () => (await st.deployment('d-cancelled'))?.rollout?.refreshId,
        { everySeconds: 5 },
      );
      await sleep(70);
      await st.aws.autoScaling.send(
        new CancelInstanceRefreshCommand({ AutoScalingGroupName: 'web-staging' }),
      );
      return {
        refreshId,
        execution: await st.end(arn),
        deployment: await st.deployment('d-cancelled'),
        staging: await st.environment('staging'),
        version: await st.groupVersion('staging'),
      };
    });
    expect(outcome.execution.status).toBe('FAILED');
    expect(outcome.deployment).toMatchObject({
      status: 'rolled-back',
      reason: expect.stringContaining(`instance refresh ${outcome.refreshId} of web-staging ended Cancelled`),
    });
    expect(st.rolloutCalls('StartInstanceRefresh')).toBe(2);
    expect(outcome.staging).toMatchObject({ currentRelease: 'unrecorded', launchTemplate: { version: 1 } });
    expect(outcome.version).toBe('1');
    const spans = refreshSpans(st.region).get('web-staging') ?? [];
    expect(spans).toHaveLength(2);
  });

  it('stops an aborted rollout mid-refresh and rolls the refresh back', async () => {
    s = await stage();
    const st = s;
    const outcome = await st.region.engine.run(async () => {
      const arn = await st.deploy({ id: 'd-aborted', environments: ['staging'] });
      const refreshId = await until(
        'the refresh wait',
        async () => {
          const id = (await st.deployment('d-aborted'))?.rollout?.refreshId;
          const waiting = (await st.store.listTaskTokens({ waitKind: 'refresh' })).items.some(
            (t) => t.key === id,
          );
          return waiting ? id : undefined;
        },
        { everySeconds: 5 },
      );
      // What `kiln abort` does: the request on the deployment, then its waiting task woken.
      const deployment = await st.deployment('d-aborted');
      await st.store.updateDeployment(
        'd-aborted',
        { abort: { actor: 'cli:alice', at: new Date(Date.now()).toISOString(), reason: 'wrong build' } },
        deployment?.version ?? 0,
      );
      await st.wake('refresh', refreshId ?? '', { woken: 'abort' });
      return {
        execution: await st.end(arn),
        deployment: await st.deployment('d-aborted'),
        staging: await st.environment('staging'),
        version: await st.groupVersion('staging'),
      };
    });
    expect(outcome.execution.status).toBe('FAILED');
    expect(outcome.deployment).toMatchObject({
      status: 'rolled-back',
      reason: expect.stringMatching(/^aborted by cli:alice: wrong build; launch template version 1 restored/),
    });
    expect(st.rolloutCalls('RollbackInstanceRefresh')).toBe(1);
    expect(outcome.staging).toMatchObject({ currentRelease: 'unrecorded', launchTemplate: { version: 1 } });
    expect(outcome.version).toBe('1');
  });

  void T_MINUTE;
});
