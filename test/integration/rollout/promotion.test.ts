import { SANDBOX_EPOCH } from '../../../sandbox/core/context';
import { until } from '../../../sandbox/stories/rollout-kit';
import { stage, type Stage } from './harness';

/** Staging then production, with a 10-minute bake and an approval before production. */
const GATED = { production: { bakeTimeMinutes: 10, approval: true, approvalTimeoutMinutes: 30 } };

describe('deploy state machine: promotion between environments', () => {
  let s: Stage | undefined;
  afterEach(async () => {
    await s?.region.dispose();
    s = undefined;
  });

  async function toApproval(st: Stage, id: string): Promise<{ arn: string; waitedFrom: number }> {
    const arn = await st.deploy({ id });
    await until('the approval wait', async () =>
      (await st.deployment(id))?.status === 'waiting-approval' ? true : undefined,
    );
    return { arn, waitedFrom: Date.now() };
  }

  it('promotes to production once approved: both environments on the release, the deployment succeeded', async () => {
    s = await stage({ gates: GATED });
    const st = s;
    const outcome = await st.region.engine.run(async () => {
      const { arn } = await toApproval(st, 'd-approved');
      const bakedFor = Date.now();
      const staging = await st.environment('staging');
      const approved = await st.approve('d-approved', true);
      const execution = await st.end(arn);
      return {
        approved,
        bakedFor,
        stagingLockDuringGate: staging.lock?.holder,
        execution,
        deployment: await st.deployment('d-approved'),
        staging: await st.environment('staging'),
        production: await st.environment('production'),
      };
    });
    expect(outcome.approved).toBe(true);
    expect(outcome.stagingLockDuringGate).toBe('d-approved');
    expect(outcome.execution.status).toBe('SUCCEEDED');
    expect(outcome.deployment?.status).toBe('succeeded');
    expect(outcome.staging).toMatchObject({ currentRelease: '2.0.0', launchTemplate: { version: 2 } });
    expect(outcome.production).toMatchObject({ currentRelease: '2.0.0', launchTemplate: { version: 2 } });
    expect(outcome.production.lock).toBeUndefined();
    // The bake before production: at least 10 minutes after staging was done.
    const stagingDone = Date.parse(outcome.staging.history?.[0]?.since ?? '');
    expect(outcome.bakedFor - stagingDone).toBeGreaterThanOrEqual(10 * 60_000);
  });

  it('ends aborted when the approver refuses: staging keeps the release, production untouched, locks free', async () => {
    s = await stage({ gates: GATED });
    const st = s;
    const outcome = await st.region.engine.run(async () => {
      const { arn } = await toApproval(st, 'd-refused');
      await st.approve('d-refused', false);
      return {
        execution: await st.end(arn),
        deployment: await st.deployment('d-refused'),
        staging: await st.environment('staging'),
        production: await st.environment('production'),
        productionVersion: await st.groupVersion('production'),
      };
    });
    expect(outcome.execution.status).toBe('FAILED');
    expect(outcome.deployment).toMatchObject({
      status: 'aborted',
      outcome: 'approval-refused',
      reason: expect.stringContaining('refused by cli:lead: not today'),
    });
    expect(outcome.staging).toMatchObject({ currentRelease: '2.0.0' });
    expect(outcome.staging.lock).toBeUndefined();
    expect(outcome.production.currentRelease).toBeUndefined();
    expect(outcome.productionVersion).toBe('1');
  });

  it('ends aborted when nobody approves within the approval timeout', async () => {
    s = await stage({ gates: GATED });
    const st = s;
    const outcome = await st.region.engine.run(async () => {
      const { arn, waitedFrom } = await toApproval(st, 'd-timeout');
      const execution = await st.end(arn);
      return { execution, waited: Date.now() - waitedFrom, deployment: await st.deployment('d-timeout') };
    });
    expect(outcome.execution.status).toBe('FAILED');
    expect(outcome.deployment).toMatchObject({
      status: 'aborted',
      outcome: 'approval-timed-out',
      reason: expect.stringMatching(/^nobody approved the promotion to production within 30 minutes/),
    });
    expect(outcome.waited).toBeGreaterThanOrEqual(29 * 60_000);
  });

  it('survives a crash of the step handler mid-rollout (the state machine retries it)', async () => {
    // The rollout starts within the first virtual minute and staging's refresh runs for about
    // three: the crashes strike the rollout-steps function from second 90, mid-refresh.
    s = await stage({
      faults: [{ kind: 'handler-crash', key: 'kiln-sandbox-rollout-steps', count: 3, from: 90 }],
    });
    const st = s;
    const outcome = await st.region.engine.run(async () => {
      const startedAt = (Date.now() - SANDBOX_EPOCH) / 1000;
      const arn = await st.deploy({ id: 'd-crash', environments: ['staging'] });
      const execution = await st.end(arn);
      return { startedAt, execution, deployment: await st.deployment('d-crash') };
    });
    expect(outcome.startedAt).toBeLessThan(90);
    expect(s.region.engine.faults.struck()).toEqual([
      expect.objectContaining({ kind: 'handler-crash', strikes: 3 }),
    ]);
    expect(outcome.execution.status).toBe('SUCCEEDED');
    expect(outcome.deployment?.status).toBe('succeeded');
  });
});
