import { sleep } from '../../../sandbox/stories/fleet';
import { overlappingRefreshes, until } from '../../../sandbox/stories/rollout-kit';
import { stage, type Stage } from './harness';

describe('deploy state machine: one rollout per environment at a time', () => {
  let s: Stage | undefined;
  afterEach(async () => {
    await s?.region.dispose();
    s = undefined;
  });

  const holder = async (st: Stage, env: string) => (await st.environment(env)).lock?.holder;

  it('makes a second deployment wait for the lock and wakes it when the first releases it', async () => {
    s = await stage({ releases: ['2.0.0', '3.0.0'] });
    const st = s;
    const outcome = await st.region.engine.run(async () => {
      const first = await st.deploy({ id: 'd-first', version: '2.0.0', environments: ['staging'] });
      await until(
        'd-first holds staging',
        async () => ((await holder(st, 'staging')) === 'd-first' ? true : undefined),
        { everySeconds: 5 },
      );
      await sleep(30);
      const second = await st.deploy({ id: 'd-second', version: '3.0.0', environments: ['staging'] });
      await until(
        'd-second waits',
        async () => ((await st.deployment('d-second'))?.rollout?.phase === 'waiting-lock' ? true : undefined),
        { everySeconds: 5 },
      );
      const whileWaiting = await st.deployment('d-second');
      const firstEnd = await st.end(first);
      const firstEndedAt = Date.now();
      const secondEnd = await st.end(second);
      return {
        whileWaiting,
        firstEnd,
        firstEndedAt,
        secondEnd,
        second: await st.deployment('d-second'),
        staging: await st.environment('staging'),
      };
    });
    expect(outcome.whileWaiting).toMatchObject({
      status: 'queued',
      rollout: { detail: expect.stringContaining('lock held by d-first') },
    });
    expect(outcome.firstEnd.status).toBe('SUCCEEDED');
    expect(outcome.secondEnd.status).toBe('SUCCEEDED');
    expect(outcome.second?.status).toBe('succeeded');
    expect(outcome.staging).toMatchObject({
      currentRelease: '3.0.0',
      previousRelease: '2.0.0',
      launchTemplate: { version: 3 },
    });
    expect(overlappingRefreshes(st.region)).toEqual([]);
    // Woken by the release, not by its 5-minute poll: its refresh started soon after the first ended.
    const starts = st.region.engine.timeline.entries.filter(
      (e) =>
        e.kind === 'api' && e.operation === 'StartInstanceRefresh' && e.caller === 'fn:rolloutSteps' && e.ok,
    );
    expect(starts).toHaveLength(2);
  });

  it('supersedes an older waiting deployment when a newer one arrives: the newest rolls, the middle one never touches the group', async () => {
    s = await stage({ releases: ['2.0.0', '3.0.0', '4.0.0'] });
    const st = s;
    const outcome = await st.region.engine.run(async () => {
      const a = await st.deploy({ id: 'd-a', version: '2.0.0', environments: ['staging'] });
      await until(
        'd-a holds staging',
        async () => ((await holder(st, 'staging')) === 'd-a' ? true : undefined),
        { everySeconds: 5 },
      );
      const b = await st.deploy({ id: 'd-b', version: '3.0.0', environments: ['staging'] });
      await sleep(20);
      const c = await st.deploy({ id: 'd-c', version: '4.0.0', environments: ['staging'] });
      return {
        a: await st.end(a),
        b: await st.end(b),
        c: await st.end(c),
        deployments: await Promise.all(['d-a', 'd-b', 'd-c'].map((id) => st.deployment(id))),
        staging: await st.environment('staging'),
      };
    });
    expect([outcome.a.status, outcome.b.status, outcome.c.status]).toEqual([
      'SUCCEEDED',
      'SUCCEEDED',
      'SUCCEEDED',
    ]);
    expect(outcome.deployments.map((d) => d?.status)).toEqual(['succeeded', 'superseded', 'succeeded']);
    expect(outcome.deployments[1]?.reason).toBe(
      'superseded by deployment d-c (web@4.0.0), newer and waiting for staging',
    );
    expect(outcome.staging).toMatchObject({ currentRelease: '4.0.0', previousRelease: '2.0.0' });
    expect(st.rolloutCalls('StartInstanceRefresh')).toBe(2);
    expect(overlappingRefreshes(st.region)).toEqual([]);
  });

  describe('an execution killed while it holds the lock', () => {
    it('has its lock freed by the sweep (its ABORTED status event), and the next rollout proceeds', async () => {
      s = await stage({ releases: ['2.0.0', '3.0.0'] });
      const st = s;
      const outcome = await st.region.engine.run(async () => {
        const killed = await st.deploy({ id: 'd-killed', version: '2.0.0', environments: ['staging'] });
        await until(
          'd-killed holds staging',
          async () => ((await holder(st, 'staging')) === 'd-killed' ? true : undefined),
          { everySeconds: 5 },
        );
        const next = await st.deploy({ id: 'd-next', version: '3.0.0', environments: ['staging'] });
        await sleep(10);
        await st.stop(killed);
        const stoppedAt = Date.now();
        const end = await st.end(next);
        return {
          stoppedAt,
          end,
          killed: await st.deployment('d-killed'),
          next: await st.deployment('d-next'),
          staging: await st.environment('staging'),
        };
      });
      expect(outcome.killed).toMatchObject({
        status: 'failed',
        reason: expect.stringMatching(
          /^the deploy execution ended ABORTED during the rollout .*; the lock of staging released$/,
        ),
      });
      expect(outcome.end.status).toBe('SUCCEEDED');
      expect(outcome.next?.status).toBe('succeeded');
      expect(outcome.staging.currentRelease).toBe('3.0.0');
    });

    it('is healed by the reconciler when the status event is lost: the dead run failed and its lock released before its lease runs out', async () => {
      s = await stage({
        releases: ['2.0.0', '3.0.0'],
        faults: [{ kind: 'event-loss', source: 'aws.states' }],
      });
      const st = s;
      const outcome = await st.region.engine.run(async () => {
        const killed = await st.deploy({ id: 'd-killed', version: '2.0.0', environments: ['staging'] });
        await until(
          'd-killed holds staging',
          async () => ((await holder(st, 'staging')) === 'd-killed' ? true : undefined),
          { everySeconds: 5 },
        );
        const lease = (await st.environment('staging')).lock?.expiresAt ?? 0;
        const next = await st.deploy({ id: 'd-next', version: '3.0.0', environments: ['staging'] });
        await sleep(10);
        await st.stop(killed);
        const end = await st.end(next);
        const refreshes = st.region.engine.timeline.entries.filter(
          (e) =>
            e.kind === 'api' &&
            e.operation === 'StartInstanceRefresh' &&
            e.caller === 'fn:rolloutSteps' &&
            e.ok,
        );
        const audit = await st.store.listAudit({ target: 'deployment:d-killed' });
        return {
          lease,
          secondRefreshAt: refreshes[1]?.t ?? 0,
          end,
          killed: await st.deployment('d-killed'),
          failedBy: audit.items.filter((e) => e.action === 'deployment.move').map((e) => e.actor),
          staging: await st.environment('staging'),
        };
      });
      expect(outcome.end.status).toBe('SUCCEEDED');
      expect(outcome.staging.currentRelease).toBe('3.0.0');
      expect(outcome.killed).toMatchObject({
        status: 'failed',
        reason: expect.stringMatching(/ended ABORTED during the rollout .*; the lock of staging released$/),
      });
      expect(outcome.failedBy).toContain('reconciler');
      // Sooner than the killed holder's lease would have let it (timeline t is seconds since the epoch).
      expect(outcome.secondRefreshAt * 1000 + Date.UTC(2026, 0, 1)).toBeLessThan(outcome.lease);
    });
  });
});
