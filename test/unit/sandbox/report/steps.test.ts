import { deploymentsOf, lifecycleActivity, momentsOf } from '../../../../sandbox/report/steps';
import { deploymentRecord, EXECUTION, LIFECYCLE, log, state, transitions } from './fixtures';

describe('deploymentsOf', () => {
  it("turns a deploy execution's states into steps in plain words, its waits marked as waits", () => {
    const [deployment] = deploymentsOf(deploymentRecord());
    expect(deployment?.steps.map((s) => [s.label, s.kind, s.start, s.end])).toEqual([
      ['bake the image', 'work', 60, 400],
      ['rolling replace', 'work', 400, 600],
      ['bake time', 'wait', 600, 1200],
      ['rolling replace', 'work', 1200, 1400],
    ]);
    expect(deployment).toMatchObject({
      name: 'web-1_1_0-abc',
      status: 'SUCCEEDED',
      lastState: 'Done',
      end: 1400,
    });
  });

  it('names the environment of each step from the refresh it started; a bake time belongs to the environment rolled before it', () => {
    const [deployment] = deploymentsOf(deploymentRecord());
    expect(deployment?.steps.map((s) => s.environment)).toEqual([
      undefined,
      'staging',
      'staging',
      'production',
    ]);
  });

  it('gives an approval wait to the environment it guards, the one after it', () => {
    const gated = deploymentRecord();
    const asApproval: Record<string, string> = { BakeGate: 'WaitApproval', CheckGate: 'Approved' };
    const record = {
      ...gated,
      entries: gated.entries.map((e) =>
        e.kind === 'state' && asApproval[e.to] !== undefined ? { ...e, to: asApproval[e.to] ?? e.to } : e,
      ),
    };
    const steps = deploymentsOf(record)[0]?.steps ?? [];
    expect(steps.map((s) => [s.label, s.kind, s.environment])).toEqual([
      ['bake the image', 'work', undefined],
      ['rolling replace', 'work', 'staging'],
      ['wait for approval', 'wait', 'production'],
      ['rolling replace', 'work', 'production'],
    ]);
  });

  it('names the release the deployment launched from the instances its rollout started', () => {
    expect(deploymentsOf(deploymentRecord())[0]?.release).toBe('1.1.0');
  });

  it('keeps a lock that was waited for, until the run ended, and drops one taken at once', () => {
    const second = EXECUTION.replace('web-1_1_0-abc', 'web-1_2_0-def');
    const waited = deploymentRecord([
      state(1500, second, null, 'RUNNING'),
      ...transitions(
        1500,
        'Start',
        'RolloutBegin',
        'NextEnvironment',
        'TakeLock',
        'LockTaken',
        'WaitLock',
      ).map((e) => ({ ...e, resource: `${second}#state` })),
      log(1800, 'story: gave up waiting'),
    ]);
    expect(deploymentsOf(deploymentRecord())[0]?.steps.some((s) => s.key === 'lock')).toBe(false);
    expect(deploymentsOf(waited)[1]?.steps.map((s) => [s.key, s.kind, s.start, s.end])).toEqual([
      ['lock', 'wait', 1500, 1800],
    ]);
    expect(deploymentsOf(waited)[1]?.status).toBe('RUNNING');
  });

  it('shows a state it does not know under its own name, so a new step never disappears', () => {
    const record = deploymentRecord(transitions(1300, 'CheckRefresh', 'PageTheOnCall'));
    const steps = deploymentsOf(record)[0]?.steps ?? [];
    expect(steps.map((s) => s.label)).toContain('PageTheOnCall');
  });

  it('leaves lifecycle hook executions out of the deployments and counts them as hook activity', () => {
    const record = deploymentRecord([
      state(700, LIFECYCLE, null, 'RUNNING'),
      state(1000, LIFECYCLE, 'RUNNING', 'SUCCEEDED'),
    ]);
    expect(deploymentsOf(record)).toHaveLength(1);
    expect(lifecycleActivity(record)).toEqual([
      { t: 700, running: 1 },
      { t: 1000, running: 0 },
    ]);
  });
});

describe('momentsOf', () => {
  it("puts the story's lines, alarm changes and the deployment's steps in time order", () => {
    const record = deploymentRecord([
      state(900, 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-staging-5xx', 'OK', 'ALARM'),
    ]);
    const moments = momentsOf(record, deploymentsOf(record));
    expect(moments.map((m) => m.t)).toEqual([...moments.map((m) => m.t)].sort((a, b) => a - b));
    expect(moments.map((m) => [m.kind, m.text])).toEqual(
      expect.arrayContaining([
        ['story', 'ci: uploaded s3://artifacts/web-1.1.0.tar.gz'],
        ['deployment', 'deployment web-1_1_0-abc: bake time (staging)'],
        ['alarm', 'alarm staging: web-staging-5xx: OK → ALARM'],
        ['deployment', 'deployment web-1_1_0-abc ended succeeded (Done)'],
      ]),
    );
  });

  it("shows Kiln's answers in Slack, saying who could see them", () => {
    const record = deploymentRecord([
      log(650, 'slack response (ephemeral): Kiln will approve deployment d-1. Confirm?'),
      log(651, 'slack response (in_channel): <@U1> approved deployment d-1 into production.'),
    ]);
    expect(
      momentsOf(record, [])
        .filter((m) => m.kind === 'slack')
        .map((m) => m.text),
    ).toEqual([
      'Kiln answered (only the one who asked): Kiln will approve deployment d-1. Confirm?',
      'Kiln answered (everyone in the channel): <@U1> approved deployment d-1 into production.',
    ]);
  });

  it("leaves out the simulator's own chatter (function retries, refresh batches)", () => {
    const record = deploymentRecord([
      {
        t: 70,
        kind: 'log',
        message: 'lambda kiln-sandbox-bake-steps (sync, attempt 1) failed: InstanceNotReadyError',
      },
      { t: 410, kind: 'log', message: 'instance-refresh r-1: batch of 1 (1 launched first)' },
    ]);
    expect(momentsOf(record, []).map((m) => m.text)).toEqual([
      'ci: uploaded s3://artifacts/web-1.1.0.tar.gz',
    ]);
  });
});
