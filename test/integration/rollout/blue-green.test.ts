import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SANDBOX_EPOCH } from '../../../sandbox/core/context';
import { enteredState, targetsAt } from '../../../sandbox/stories/blue-green-kit';
import { sleep } from '../../../sandbox/stories/fleet';
import { until } from '../../../sandbox/stories/rollout-kit';
import { SfnTasks } from '../../../shared/aws/sfn';
import { tokenKeys } from '../../../shared/usecases/rollout/deps';
import type { Strategy } from '../../../shared/domain/manifest/schema';
import { stage, type Stage } from './harness';

/** Blue/green with a 60 s gate within 15 minutes and a 5-minute watch after the switch. */
const BLUE_GREEN: Strategy = {
  type: 'blue-green',
  healthGate: { healthyForSeconds: 60, timeoutSeconds: 900 },
  bakeTimeSeconds: 300,
  keepOldGroups: 1,
};

async function group(st: Stage, name: string) {
  const { AutoScalingGroups = [] } = await st.aws.autoScaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
  );
  return AutoScalingGroups[0];
}

async function servingGroups(st: Stage, targetGroupArn: string): Promise<string[]> {
  const { TargetHealthDescriptions = [] } = await st.aws.elbv2.send(
    new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }),
  );
  const ids = new Set(
    TargetHealthDescriptions.filter((t) => t.TargetHealth?.State === 'healthy').map((t) => t.Target?.Id),
  );
  const { AutoScalingGroups = [] } = await st.aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({}));
  return AutoScalingGroups.filter((g) => (g.Instances ?? []).some((i) => ids.has(i.InstanceId)))
    .map((g) => g.AutoScalingGroupName ?? '')
    .sort();
}

describe('deploy state machine: blue/green', () => {
  let s: Stage | undefined;
  afterEach(async () => {
    await s?.region.dispose();
    s = undefined;
  });

  describe('a healthy release', () => {
    it('moves traffic to green, retires blue at zero and records green as the active group', async () => {
      s = await stage({ strategy: BLUE_GREEN });
      const st = s;
      const staging = st.environments[0]!;
      const outcome = await st.region.engine.run(async () => {
        const arn = await st.deploy({ id: 'd-bg', environments: ['staging'] });
        const execution = await st.end(arn);
        return {
          execution,
          deployment: await st.deployment('d-bg'),
          state: await st.environment('staging'),
          blue: await group(st, 'web-staging'),
          green: await group(st, 'web-staging-kiln-2.0.0'),
          serving: await servingGroups(st, staging.targetGroupArn),
        };
      });
      expect(outcome.execution.status).toBe('SUCCEEDED');
      expect(outcome.deployment).toMatchObject({ status: 'succeeded' });
      expect(outcome.state).toMatchObject({
        currentRelease: '2.0.0',
        activeGroup: 'web-staging-kiln-2.0.0',
        launchTemplate: { version: 2 },
      });
      expect(outcome.state.history?.[0]).toMatchObject({ release: '2.0.0', group: 'web-staging-kiln-2.0.0' });
      expect(outcome.state.history?.[1]).toMatchObject({ group: 'web-staging' });
      expect(outcome.state.lock).toBeUndefined();
      expect(outcome.blue).toMatchObject({ DesiredCapacity: 0, MinSize: 0 });
      expect(outcome.green).toMatchObject({ DesiredCapacity: 2 });
      expect(outcome.serving).toEqual(['web-staging-kiln-2.0.0']);
    });
  });

  /** What `kiln abort` does: the request recorded on the deployment (a gate check reads it). */
  async function abort(st: Stage, id: string): Promise<void> {
    const deployment = await st.deployment(id);
    await st.store.updateDeployment(
      id,
      { abort: { actor: 'cli:alice', at: new Date(Date.now()).toISOString(), reason: 'wrong build' } },
      deployment?.version ?? 0,
    );
  }

  describe('a release that does not reach traffic', () => {
    it('discards green when its instances never launch, and ends failed with blue serving untouched', async () => {
      // The rollout starts at second 60; every instance launched from then on fails to boot.
      s = await stage({ strategy: BLUE_GREEN, faults: [{ kind: 'instance-boot-failure', from: 61 }] });
      const st = s;
      const staging = st.environments[0]!;
      const outcome = await st.region.engine.run(async () => {
        const startedAt = (Date.now() - SANDBOX_EPOCH) / 1000;
        const arn = await st.deploy({ id: 'd-noboot', environments: ['staging'] });
        return {
          startedAt,
          execution: await st.end(arn),
          deployment: await st.deployment('d-noboot'),
          state: await st.environment('staging'),
          blue: await group(st, 'web-staging'),
          green: await group(st, 'web-staging-kiln-2.0.0'),
          serving: await servingGroups(st, staging.targetGroupArn),
        };
      });
      expect(outcome.startedAt).toBeLessThan(61);
      expect(outcome.execution.status).toBe('FAILED');
      expect(outcome.deployment).toMatchObject({
        status: 'rolled-back',
        reason: expect.stringMatching(
          /^green group web-staging-kiln-2\.0\.0: 0 of 2 instances in service after 900 s/,
        ),
      });
      expect(outcome.green).toBeUndefined();
      expect(outcome.blue).toMatchObject({ DesiredCapacity: 2, SuspendedProcesses: [] });
      expect(outcome.serving).toEqual(['web-staging']);
      expect(outcome.state).toMatchObject({ activeGroup: 'web-staging', launchTemplate: { version: 1 } });
      expect(outcome.state.lock).toBeUndefined();
      expect(st.rolloutCalls('DetachTrafficSources')).toBe(0);
    });

    it('discards green when its targets never pass the health gate within its timeout', async () => {
      s = await stage({ strategy: BLUE_GREEN, badVersions: [{ version: '2.0.0', mode: 'failing-health' }] });
      const st = s;
      const staging = st.environments[0]!;
      const outcome = await st.region.engine.run(async () => {
        const arn = await st.deploy({ id: 'd-unhealthy', environments: ['staging'] });
        return {
          execution: await st.end(arn),
          deployment: await st.deployment('d-unhealthy'),
          state: await st.environment('staging'),
          blue: await group(st, 'web-staging'),
          green: await group(st, 'web-staging-kiln-2.0.0'),
          serving: await servingGroups(st, staging.targetGroupArn),
        };
      });
      expect(outcome.execution.status).toBe('FAILED');
      expect(outcome.deployment).toMatchObject({ status: 'rolled-back' });
      expect(outcome.deployment?.reason).toMatch(
        /^health gate not passed within 900 s: i-\w+ unhealthy in targetgroup\/web-staging\/\w+, i-\w+ unhealthy in targetgroup\/web-staging\/\w+ \(needed 60 s healthy\)/,
      );
      expect(outcome.green).toBeUndefined();
      expect(outcome.blue).toMatchObject({ DesiredCapacity: 2 });
      expect(outcome.serving).toEqual(['web-staging']);
      expect(outcome.state).toMatchObject({ activeGroup: 'web-staging', launchTemplate: { version: 1 } });
      // Blue never left the target group: no traffic moved to an unhealthy green.
      expect(st.rolloutCalls('DetachTrafficSources')).toBe(1);
    });

    it('stops at an abort during the health gate and discards green', async () => {
      s = await stage({ strategy: BLUE_GREEN });
      const st = s;
      const staging = st.environments[0]!;
      const outcome = await st.region.engine.run(async () => {
        const arn = await st.deploy({ id: 'd-abort', environments: ['staging'] });
        await until(
          'the health gate',
          async () => ((await st.deployment('d-abort'))?.rollout?.phase === 'health-gate' ? true : undefined),
          { everySeconds: 5 },
        );
        await abort(st, 'd-abort');
        return {
          execution: await st.end(arn),
          deployment: await st.deployment('d-abort'),
          state: await st.environment('staging'),
          green: await group(st, 'web-staging-kiln-2.0.0'),
          serving: await servingGroups(st, staging.targetGroupArn),
        };
      });
      expect(outcome.execution.status).toBe('FAILED');
      expect(outcome.deployment).toMatchObject({
        status: 'rolled-back',
        reason: expect.stringMatching(/^aborted by cli:alice: wrong build/),
      });
      expect(outcome.green).toBeUndefined();
      expect(outcome.serving).toEqual(['web-staging']);
      expect(outcome.state).toMatchObject({ activeGroup: 'web-staging', launchTemplate: { version: 1 } });
    });
  });

  describe('a release that fails its users before the switch', () => {
    it('stops at the health gate when the rollout alarm goes off while green serves beside blue, and discards green', async () => {
      s = await stage({ strategy: BLUE_GREEN, badVersions: [{ version: '2.0.0', mode: 'errors' }] });
      const st = s;
      const staging = st.environments[0]!;
      const outcome = await st.region.engine.run(async () => {
        const arn = await st.deploy({ id: 'd-5xx-gate', environments: ['staging'] });
        return {
          execution: await st.end(arn),
          deployment: await st.deployment('d-5xx-gate'),
          state: await st.environment('staging'),
          green: await group(st, 'web-staging-kiln-2.0.0'),
          serving: await servingGroups(st, staging.targetGroupArn),
        };
      });
      expect(outcome.execution.status).toBe('FAILED');
      expect(outcome.deployment).toMatchObject({
        status: 'rolled-back',
        reason: expect.stringMatching(
          /^alarm web-staging-5xx went into ALARM \d+ s after web-staging-kiln-2\.0\.0 took traffic/,
        ),
      });
      // Blue never left the target group: the only detach is green's.
      expect(st.rolloutCalls('DetachTrafficSources')).toBe(1);
      expect(
        st.region.engine.timeline.entries.some((e) => e.kind === 'state' && e.to === 'SwitchTraffic'),
      ).toBe(false);
      expect(outcome.green).toBeUndefined();
      expect(outcome.serving).toEqual(['web-staging']);
      expect(outcome.state).toMatchObject({ activeGroup: 'web-staging', launchTemplate: { version: 1 } });
    });
  });

  describe('a release that fails after the switch', () => {
    it('restores blue when the rollout alarm goes off during the watch: blue healthy and attached before green leaves', async () => {
      // No hold at the gate: traffic moves as soon as green is healthy, before the 5xx alarm has
      // the two bad minutes it needs, so the alarm goes off in the watch.
      s = await stage({
        strategy: { ...BLUE_GREEN, healthGate: { healthyForSeconds: 0, timeoutSeconds: 900 } },
        badVersions: [{ version: '2.0.0', mode: 'errors' }],
      });
      const st = s;
      const staging = st.environments[0]!;
      const outcome = await st.region.engine.run(async () => {
        const arn = await st.deploy({ id: 'd-5xx', environments: ['staging'] });
        return {
          execution: await st.end(arn),
          deployment: await st.deployment('d-5xx'),
          state: await st.environment('staging'),
          blue: await group(st, 'web-staging'),
          green: await group(st, 'web-staging-kiln-2.0.0'),
          serving: await servingGroups(st, staging.targetGroupArn),
        };
      });
      expect(outcome.execution.status).toBe('FAILED');
      expect(outcome.deployment).toMatchObject({ status: 'rolled-back' });
      expect(outcome.deployment?.reason).toMatch(/web-staging-5xx/);
      expect(outcome.green).toBeUndefined();
      expect(outcome.blue).toMatchObject({ DesiredCapacity: 2, MinSize: 2 });
      expect(outcome.serving).toEqual(['web-staging']);
      expect(outcome.state).toMatchObject({ activeGroup: 'web-staging', launchTemplate: { version: 1 } });
      expect(outcome.state.lock).toBeUndefined();
      // Blue went back in (the switch's detach, then the rollback's attach) before green left.
      const moves = st.region.engine.timeline.entries
        .filter(
          (e) =>
            e.kind === 'api' &&
            e.ok &&
            e.caller === 'fn:rolloutSteps' &&
            /^(Attach|Detach)TrafficSources$/.test(e.operation),
        )
        .map((e) => (e.kind === 'api' ? e.operation : ''));
      expect(moves).toEqual([
        'AttachTrafficSources',
        'DetachTrafficSources',
        'AttachTrafficSources',
        'DetachTrafficSources',
      ]);
      // When green left, every instance blue serves with was a healthy target.
      const entries = st.region.engine.timeline.entries;
      const greenLeft = entries.filter(
        (e) =>
          e.kind === 'api' &&
          e.ok &&
          e.caller === 'fn:rolloutSteps' &&
          e.operation === 'DetachTrafficSources',
      )[1];
      const targets = targetsAt(entries, staging.targetGroupArn, greenLeft?.t ?? 0);
      const blueIds = (outcome.blue?.Instances ?? []).map((i) => i.InstanceId ?? '');
      expect(blueIds).toHaveLength(2);
      expect(blueIds.map((id) => targets.get(id))).toEqual(['healthy', 'healthy']);
    });

    it('survives crashes of the step handler at the switch (the state machine retries the last gate check, then switches once)', async () => {
      // Green is ready at second 100 and the gate clears at 190, where the switch follows in the
      // same second: the crashes strike the gate's last check and its retries, and the switch runs
      // only after a check that succeeded. (The sandbox's crash strikes before the handler runs.)
      s = await stage({
        strategy: BLUE_GREEN,
        faults: [{ kind: 'handler-crash', key: 'kiln-sandbox-rollout-steps', count: 3, from: 185 }],
      });
      const st = s;
      const outcome = await st.region.engine.run(async () => {
        const arn = await st.deploy({ id: 'd-crash', environments: ['staging'] });
        return {
          execution: await st.end(arn),
          deployment: await st.deployment('d-crash'),
          state: await st.environment('staging'),
        };
      });
      expect(st.region.engine.faults.struck()).toEqual([
        expect.objectContaining({ kind: 'handler-crash', strikes: 3 }),
      ]);
      const entries = st.region.engine.timeline.entries;
      const crashes = entries.filter((e) => e.kind === 'log' && /^fault handler-crash/.test(e.message));
      const switched = entries.find((e) => e.kind === 'state' && e.to === 'SwitchTraffic');
      expect(crashes).toHaveLength(3);
      expect(switched?.t).toBeGreaterThan(crashes[2]?.t ?? Infinity);
      expect(outcome.execution.status).toBe('SUCCEEDED');
      expect(outcome.deployment?.status).toBe('succeeded');
      expect(outcome.state).toMatchObject({ activeGroup: 'web-staging-kiln-2.0.0' });
      expect(st.rolloutCalls('DetachTrafficSources')).toBe(1);
    });
  });

  describe('the watch after the switch', () => {
    it('ends at its bake time when woken early with nothing to act on: going back to the wait waits only the time left', async () => {
      s = await stage({ strategy: BLUE_GREEN });
      const st = s;
      const outcome = await st.region.engine.run(async () => {
        const arn = await st.deploy({ id: 'd-woken', environments: ['staging'] });
        await until(
          'the watch',
          async () => ((await st.deployment('d-woken'))?.rollout?.phase === 'watching' ? true : undefined),
          { everySeconds: 5 },
        );
        // 100 s into the 300 s watch, something wakes it with no alarm behind it (the reconciler's
        // poll does this to every wait it finds, issue 11).
        await sleep(100);
        const token = await st.store.takeTaskToken('alarm', tokenKeys.watch('d-woken', 'staging'));
        if (token !== undefined) await new SfnTasks(st.aws.sfn).succeed(token.token, { woken: 'poll' });
        return { woken: token !== undefined, execution: await st.end(arn) };
      });
      expect(outcome.woken).toBe(true);
      expect(outcome.execution.status).toBe('SUCCEEDED');
      const entries = st.region.engine.timeline.entries;
      const watchFrom = enteredState(entries, 'WatchSwitch') ?? 0;
      const retiredAt = enteredState(entries, 'RetireBlue') ?? 0;
      // Timeline times are virtual seconds. The bake time, plus the few seconds of the steps
      // between: not a second full watch after the wake (100 + 300).
      expect(retiredAt - watchFrom).toBeGreaterThanOrEqual(300);
      expect(retiredAt - watchFrom).toBeLessThan(330);
    });
  });

  describe("a rollback that waits out the target group's deregistration delay (300 s by default) past a short health gate", () => {
    /** A 120 s gate: shorter than the drain of green's targets once they leave the target group. */
    const SHORT_GATE: Strategy = {
      ...BLUE_GREEN,
      healthGate: { healthyForSeconds: 30, timeoutSeconds: 120 },
    };

    /** Seconds from green's last DetachTrafficSources to the DeleteAutoScalingGroup that removes it. */
    function drainSeconds(st: Stage): number | undefined {
      const calls = st.region.engine.timeline.entries.filter(
        (e) => e.kind === 'api' && e.ok && e.caller === 'fn:rolloutSteps',
      );
      const detached = calls.filter((e) => e.kind === 'api' && e.operation === 'DetachTrafficSources').pop();
      const deleted = calls.find((e) => e.kind === 'api' && e.operation === 'DeleteAutoScalingGroup');
      return detached === undefined || deleted === undefined ? undefined : deleted.t - detached.t;
    }

    it('discards green and releases the lock when the 120 s health gate times out, naming the gate as the cause', async () => {
      s = await stage({ strategy: SHORT_GATE, badVersions: [{ version: '2.0.0', mode: 'failing-health' }] });
      const st = s;
      const staging = st.environments[0]!;
      const outcome = await st.region.engine.run(async () => {
        const arn = await st.deploy({ id: 'd-short-gate', environments: ['staging'] });
        return {
          execution: await st.end(arn),
          deployment: await st.deployment('d-short-gate'),
          state: await st.environment('staging'),
          green: await group(st, 'web-staging-kiln-2.0.0'),
          serving: await servingGroups(st, staging.targetGroupArn),
        };
      });
      expect(outcome.execution.status).toBe('FAILED');
      expect(outcome.deployment?.status).toBe('rolled-back');
      expect(outcome.deployment?.reason).toMatch(
        /^health gate not passed within 120 s: .*; launch template version 1 restored \(stopped at staging/,
      );
      expect(outcome.deployment?.reason).not.toMatch(/rollback not done/);
      expect(outcome.state.lock).toBeUndefined();
      expect(outcome.state).toMatchObject({ activeGroup: 'web-staging', launchTemplate: { version: 1 } });
      expect(outcome.green).toBeUndefined();
      expect(outcome.serving).toEqual(['web-staging']);
      // Green left only after its targets had drained for the whole delay.
      expect(drainSeconds(st)).toBeGreaterThanOrEqual(300);
    });

    it('restores blue and releases the lock when the rollout alarm goes off in the watch, naming the alarm as the cause', async () => {
      s = await stage({
        strategy: { ...SHORT_GATE, healthGate: { healthyForSeconds: 0, timeoutSeconds: 120 } },
        badVersions: [{ version: '2.0.0', mode: 'errors' }],
      });
      const st = s;
      const staging = st.environments[0]!;
      const outcome = await st.region.engine.run(async () => {
        const arn = await st.deploy({ id: 'd-short-watch', environments: ['staging'] });
        return {
          execution: await st.end(arn),
          deployment: await st.deployment('d-short-watch'),
          state: await st.environment('staging'),
          green: await group(st, 'web-staging-kiln-2.0.0'),
          serving: await servingGroups(st, staging.targetGroupArn),
        };
      });
      expect(outcome.execution.status).toBe('FAILED');
      // Traffic had moved: this is the restore-blue path.
      expect(
        st.region.engine.timeline.entries.some((e) => e.kind === 'state' && e.to === 'SwitchTraffic'),
      ).toBe(true);
      expect(outcome.deployment?.status).toBe('rolled-back');
      expect(outcome.deployment?.reason).toMatch(
        /^aborted by alarm:web-staging-5xx: metric alarm web-staging-5xx went into ALARM .*; launch template version 1 restored \(stopped at staging/,
      );
      expect(outcome.state.lock).toBeUndefined();
      expect(outcome.state).toMatchObject({ activeGroup: 'web-staging', launchTemplate: { version: 1 } });
      expect(outcome.green).toBeUndefined();
      expect(outcome.serving).toEqual(['web-staging']);
      expect(drainSeconds(st)).toBeGreaterThanOrEqual(300);
    });

    it('discards green and releases the lock after an abort during the gate, naming the abort as the cause', async () => {
      s = await stage({ strategy: SHORT_GATE });
      const st = s;
      const outcome = await st.region.engine.run(async () => {
        const arn = await st.deploy({ id: 'd-short-abort', environments: ['staging'] });
        await until(
          'the health gate',
          async () =>
            (await st.deployment('d-short-abort'))?.rollout?.phase === 'health-gate' ? true : undefined,
          { everySeconds: 5 },
        );
        await abort(st, 'd-short-abort');
        return {
          execution: await st.end(arn),
          deployment: await st.deployment('d-short-abort'),
          state: await st.environment('staging'),
          green: await group(st, 'web-staging-kiln-2.0.0'),
        };
      });
      expect(outcome.execution.status).toBe('FAILED');
      expect(outcome.deployment).toMatchObject({
        status: 'rolled-back',
        reason: expect.stringMatching(
          /^aborted by cli:alice: wrong build; launch template version 1 restored \(stopped at staging/,
        ),
      });
      expect(outcome.state.lock).toBeUndefined();
      expect(outcome.green).toBeUndefined();
      expect(drainSeconds(st)).toBeGreaterThanOrEqual(300);
    });
  });

  describe('kiln rollback', () => {
    it('restores the kept group of the release it names, scaled back to its recorded capacity', async () => {
      s = await stage({ strategy: BLUE_GREEN, releases: ['2.0.0', '3.0.0'] });
      const st = s;
      const staging = st.environments[0]!;
      const outcome = await st.region.engine.run(async () => {
        await st.end(await st.deploy({ id: 'd-2', version: '2.0.0', environments: ['staging'] }));
        await st.end(await st.deploy({ id: 'd-3', version: '3.0.0', environments: ['staging'] }));
        const kept = await group(st, 'web-staging-kiln-2.0.0');
        const arn = await st.deploy({
          id: 'd-back',
          version: '2.0.0',
          environments: ['staging'],
          mode: 'rollback',
        });
        return {
          kept,
          execution: await st.end(arn),
          deployment: await st.deployment('d-back'),
          state: await st.environment('staging'),
          restored: await group(st, 'web-staging-kiln-2.0.0'),
          three: await group(st, 'web-staging-kiln-3.0.0'),
          serving: await servingGroups(st, staging.targetGroupArn),
        };
      });
      expect(outcome.kept).toMatchObject({ DesiredCapacity: 0 });
      expect(outcome.execution.status).toBe('SUCCEEDED');
      expect(outcome.deployment?.status).toBe('succeeded');
      expect(outcome.restored).toMatchObject({ DesiredCapacity: 2 });
      expect(outcome.three).toMatchObject({ DesiredCapacity: 0 });
      expect(outcome.serving).toEqual(['web-staging-kiln-2.0.0']);
      expect(outcome.state).toMatchObject({
        currentRelease: '2.0.0',
        activeGroup: 'web-staging-kiln-2.0.0',
        launchTemplate: { version: 2 },
      });
    });
  });
});
