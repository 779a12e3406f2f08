import {
  attachGreen,
  checkBlueGreenRollback,
  checkGreen,
  createGreen,
  retireBlue,
  rollbackBlueGreen,
} from '../../../shared/usecases/rollout/blue-green';
import type { RolloutState } from '../../../shared/usecases/rollout/deps';
import { createRegion, type Region } from '../../../sandbox/region';
import {
  blueGreenWorld,
  describeGroup,
  firstDrain,
  targetsAt,
  throughSwitch,
  untilDecided,
  type BlueGreenWorld,
} from '../../../sandbox/stories/blue-green-kit';
import { sleep } from '../../../sandbox/stories/fleet';
import { TargetGroupSettingsSchema } from '../../../sandbox/stories/settings';

/**
 * The blue/green rollback through the real adapters in a whole region: blue is brought back
 * healthy before green leaves the target group (no unhealthy cut-over), and a rollback before the
 * switch discards green without touching blue. The happy path is the `blue-green` story
 * (test/scenarios/blue-green.test.ts).
 */
describe('blue/green rollback in a whole region', () => {
  let region: Region;

  beforeEach(async () => {
    region = await createRegion({ seed: 31 });
  });
  afterEach(() => region.dispose());

  const world = (): Promise<BlueGreenWorld> =>
    blueGreenWorld(region, {
      deploymentId: 'D-SANDBOX-BG-ROLLBACK',
      size: 3,
      strategy: { healthGate: { healthyForSeconds: 30, timeoutSeconds: 900 }, bakeTimeSeconds: 60 },
      targetGroup: TargetGroupSettingsSchema.parse({ deregistrationDelaySeconds: 20 }),
    });

  async function switched(w: BlueGreenWorld): Promise<RolloutState> {
    const through = await throughSwitch(w);
    if ('failed' in through)
      throw new Error(`did not switch: ${through.failed.reason ?? through.failed.outcome}`);
    return through.state;
  }

  it('after the switch and retire, scales blue back, and only once every blue target is healthy does green leave', async () => {
    const run = await region.engine.run(async () => {
      const w = await world();
      const state = await switched(w);
      await sleep(60);
      await retireBlue(state, w.deps);
      await sleep(120);
      const back = { ...state, env: await rollbackBlueGreen(state, 'alarm web-5xx', w.deps) };
      const done = await untilDecided('rollback', () => checkBlueGreenRollback(back, w.deps), 30);
      const blue = await describeGroup(w.operator, 'web');
      const green = await describeGroup(w.operator, state.env!.target.group);
      return { w, back, done, blue, green, greenName: state.env!.target.group };
    });
    expect(run.back.env?.rollback?.kind).toBe('restore-blue');
    expect(run.done).toEqual({ outcome: 'done' });
    const blueIds = (run.blue?.Instances ?? []).map((instance) => instance.InstanceId ?? '');
    expect([run.blue?.MinSize, run.blue?.MaxSize, run.blue?.DesiredCapacity]).toEqual([3, 6, 3]);
    expect(run.blue?.TargetGroupARNs).toEqual([run.w.fleet.targetGroupArn]);
    expect(run.blue?.SuspendedProcesses).toEqual([]);
    expect(run.green === undefined || run.green.Status === 'Delete in progress').toBe(true);

    const entries = region.engine.timeline.entries;
    const tg = run.w.fleet.targetGroupArn;
    const greenIds = [
      ...new Set(
        entries
          .flatMap((entry) =>
            entry.kind === 'state' && entry.resource.startsWith(`${tg}/`) ? [entry.resource] : [],
          )
          .map((resource) => resource.slice(tg.length + 1))
          .filter((id) => !blueIds.includes(id) && !run.w.blueIds.includes(id)),
      ),
    ];
    const greenLeaves = firstDrain(entries, tg, greenIds);
    expect(greenLeaves).toBeDefined();
    const atThatTime = targetsAt(entries, tg, greenLeaves!.t);
    expect(blueIds.map((id) => atThatTime.get(id))).toEqual(blueIds.map(() => 'healthy'));
  });

  it('before the switch, discards green and leaves blue serving untouched', async () => {
    const run = await region.engine.run(async () => {
      const w = await world();
      let state: RolloutState = { ...w.state, env: await createGreen(w.state, w.deps) };
      await untilDecided('green', () => checkGreen(state, w.deps), 20);
      state = { ...state, env: await attachGreen(state, w.deps) };
      const back = { ...state, env: await rollbackBlueGreen(state, 'aborted by alice', w.deps) };
      const done = await untilDecided('rollback', () => checkBlueGreenRollback(back, w.deps), 30);
      await sleep(300);
      return {
        w,
        back,
        done,
        blue: await describeGroup(w.operator, 'web'),
        green: await describeGroup(w.operator, state.env!.target.group),
      };
    });
    expect(run.back.env?.rollback?.kind).toBe('discard-green');
    expect(run.done).toEqual({ outcome: 'done' });
    expect(run.green).toBeUndefined();
    expect((run.blue?.Instances ?? []).map((instance) => instance.InstanceId)).toEqual(run.w.blueIds);
    expect(run.blue?.SuspendedProcesses).toEqual([]);
    expect(
      firstDrain(region.engine.timeline.entries, run.w.fleet.targetGroupArn, run.w.blueIds),
    ).toBeUndefined();
  });
});
