/**
 * statemachines/deploy.asl.json (the bake phase, and the rolling rollout after it) on two Step
 * Functions engines: the sandbox's (aws-local-stepfunctions) and moto's (LocalStack's interpreter).
 * Each path answers the steps from one script, keyed by the deploy machine's Task state names
 * (functions of the input for the states inside the copy Map, whose iterations race); both engines
 * must take the same states, hand every step the same state and end with the same status, output,
 * error and cause. How the harness stubs tasks and what it cannot cover:
 * test/conformance/support/asl-engines.ts.
 *
 * The rolling-rollout path is the one the sandbox took in bench/rollout.ts's measurement (the real
 * rollout-steps and on-progress functions, a 100-instance group, checkpoints 33/66/100 %): the test
 * runs that measurement, scripts each rollout step from the states it went through, and runs the
 * same path on both engines.
 *
 * It prints moto's history events per path, and the estimate for AWS (README, Testing and
 * Measurements).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { measureRollout, type RolloutFigures } from '../../bench/rollout';
import {
  comparable,
  configureMoto,
  prepareMachine,
  restoreMotoDefaults,
  runOnBothEngines,
  type AslPath,
  type EngineRun,
  type Json,
  type PreparedMachine,
  type TaskScript,
} from './support/asl-engines';

const DEPLOY = join(__dirname, '../../statemachines/deploy.asl.json');
const SUBSTITUTIONS = {
  BakeStepsFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:kiln-ci-bake-steps',
  RolloutStepsFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:kiln-ci-rollout-steps',
};
const INPUT = {
  deploymentId: '01KILNCONFORMANCE000000000',
  service: 'checkout',
  version: '1.4.2',
  manifestVersion: 3,
  artifact: { kind: 's3', uri: 's3://artifacts/checkout-1.4.2.tgz', digest: 'sha256:0123456789abcdef' },
};
/** What the `begin` step settles (shared/usecases/bake/deps.ts, BakePlan). */
const PLAN = {
  region: 'us-east-1',
  baseAmiId: 'ami-0base',
  recipeHash: 'recipe-0123',
  imageName: 'kiln-checkout-1.4.2-0123456789abcdef',
  deadline: 1_767_229_200_000,
  copyToRegions: ['eu-west-1'],
  smokeCheck: true,
  cache: 'none',
};

/**
 * After the bake, the rollout: these paths name no environment (as the deploy-bake integration
 * test's executions), so rollout-begin finds nothing to roll and the deployment succeeds.
 */
const NOTHING_TO_ROLL: TaskScript = {
  RolloutBegin: [{ return: { mode: 'deploy', environments: [], index: 0, done: true } }],
  RolloutSucceeded: [{ return: { outcome: 'succeeded' } }],
};
/** The bake's end and that empty rollout, as every path that records a release takes them. */
const RELEASED_PATH = ['RecordRelease', 'RolloutBegin', 'NextEnvironment', 'RolloutSucceeded', 'Done'];

/** The bake state a step was handed (`{ step, state }`, as deploy.asl.json passes it). */
function stateOf(input: Json): Record<string, Json> {
  const state = typeof input === 'object' && input && !Array.isArray(input) ? input.state : undefined;
  return typeof state === 'object' && state && !Array.isArray(state) ? state : {};
}

function field(value: Json | undefined, key: string): Json | undefined {
  return typeof value === 'object' && value && !Array.isArray(value) ? value[key] : undefined;
}

/** The copy Map's steps: each Region's copy is pending at its first check, available at its second. */
const COPY_STEPS = {
  CopyImage: (input: Json) => ({ return: { imageId: `ami-copy-${String(stateOf(input).region)}` } }),
  CheckCopy: (input: Json) => {
    const copy = stateOf(input).copy;
    return { return: { imageId: field(copy, 'imageId') ?? null, done: field(copy, 'done') === false } };
  },
};

/** What rollout-steps hands the ASL for one rolling environment (shapes of shared/usecases/rollout/deps.ts). */
const ROLLOUT_INPUT = {
  deploymentId: '01KILNCONFORMANCE000000001',
  service: 'web',
  version: '2.0.0',
  manifestVersion: 1,
  environments: ['production'],
};
const ENV_RUN = {
  name: 'production',
  region: 'us-east-1',
  strategy: 'rolling',
  before: {
    release: '1.0.0',
    group: 'web-production',
    launchTemplate: { id: 'lt-0web', version: 1 },
    capacity: { min: 100, max: 100, desired: 100 },
  },
  target: {
    release: '2.0.0',
    imageId: 'ami-0two',
    launchTemplate: { id: 'lt-0web', version: 2 },
    group: 'web-production',
    capacity: { min: 100, max: 100, desired: 100 },
  },
  targetGroupArns: ['arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-production/0123'],
};
/** What RefreshDone does with each outcome of check-refresh (deploy.asl.json), reversed. */
const REFRESH_OUTCOME_BEFORE: Record<string, string> = {
  WaitRefresh: 'waiting',
  EnvironmentDone: 'succeeded',
  RecordRollback: 'rolled-back',
  RollbackEnvironment: 'failed',
};

/**
 * A script that makes the deploy machine take `states` (a rolling rollout of one environment, as
 * the sandbox ran it): check-refresh answers what made RefreshDone go where the sandbox went, and
 * every refresh wait is woken (whether the sandbox's was woken by an event or ended by its poll
 * timeout, the state after it is CheckRefresh; the harness cannot script a States.Timeout).
 */
function rollingScript(states: readonly string[]): TaskScript {
  const checks: Array<{ return: Json }> = [];
  states.forEach((state, index) => {
    if (state !== 'RefreshDone') return;
    const next = states[index + 1] ?? '';
    const outcome = REFRESH_OUTCOME_BEFORE[next];
    if (outcome === undefined) throw new Error(`RefreshDone went to ${next}, which the script cannot drive`);
    checks.push({ return: { outcome, percentage: outcome === 'succeeded' ? 100 : 50 } });
  });
  const waits = states.filter((state) => state === 'WaitRefresh').length;
  return {
    RolloutBegin: [{ return: { mode: 'deploy', environments: ['production'], index: 0, done: false } }],
    TakeLock: [
      { return: { outcome: 'acquired', holder: ROLLOUT_INPUT.deploymentId, until: 1_767_230_100_000 } },
    ],
    PrepareEnvironment: [{ return: ENV_RUN }],
    StartRefresh: [{ return: { ...ENV_RUN, refreshId: 'refresh-0conformance' } }],
    CheckRefresh: checks,
    WaitRefresh: Array.from({ length: waits }, () => ({
      return: { woken: 'event', detailType: 'EC2 Auto Scaling Instance Refresh Checkpoint Reached' },
    })),
    EnvironmentDone: [{ return: { mode: 'deploy', environments: ['production'], index: 1, done: true } }],
    RolloutSucceeded: [{ return: { outcome: 'succeeded' } }],
  };
}

const PATHS: Record<'fresh' | 'cacheHit' | 'adopt' | 'failure' | 'abort', AslPath> = {
  fresh: {
    name: 'fresh-bake',
    input: INPUT,
    script: {
      Begin: [{ return: PLAN }],
      LaunchBuilder: [{ return: { instanceId: 'i-0builder' } }],
      BuilderReady: [{ throw: 'InstanceNotReadyError' }, { return: { state: 'running' } }],
      SendCommand: (input) => ({
        return: {
          commandId: `cmd-${String(stateOf(input).purpose)}`,
          purpose: stateOf(input).purpose ?? null,
        },
      }),
      // The install is still running at its first check; an event wakes the wait; the smoke check is done at once.
      CheckCommand: [{ return: { done: false } }, { return: { done: true } }, { return: { done: true } }],
      WaitCommand: [{ return: { woken: 'event', detailType: 'EC2 Command Status-change Notification' } }],
      StopBuilder: [{ return: { state: 'stopped' } }],
      CreateImage: [{ return: { imageId: 'ami-0baked' } }],
      // The image is pending at its first check; its AMI State Change event wakes the wait.
      CheckImage: [{ return: { done: false } }, { return: { done: true } }],
      WaitImage: [{ return: { woken: 'event', detailType: 'EC2 AMI State Change', state: 'available' } }],
      TerminateBuilder: [{ return: { terminated: ['i-0builder'] } }],
      ...COPY_STEPS,
      ...NOTHING_TO_ROLL,
      RecordRelease: [
        {
          return: {
            version: '1.4.2',
            amis: { 'us-east-1': 'ami-0baked', 'eu-west-1': 'ami-copy-eu-west-1' },
          },
        },
      ],
    },
  },
  cacheHit: {
    name: 'cache-hit',
    input: INPUT,
    script: {
      Begin: [
        { throw: 'TransientAwsError' },
        {
          return: { ...PLAN, cache: 'release', amis: { 'us-east-1': 'ami-0cached', 'eu-west-1': 'ami-0c' } },
        },
      ],
      ...NOTHING_TO_ROLL,
      RecordRelease: [
        { return: { version: '1.4.2', amis: { 'us-east-1': 'ami-0cached', 'eu-west-1': 'ami-0c' } } },
      ],
    },
  },
  adopt: {
    name: 'adopt-orphan-image',
    input: INPUT,
    script: {
      Begin: [{ return: { ...PLAN, cache: 'image', imageId: 'ami-0orphan' } }],
      CheckImage: [{ return: { done: true } }],
      TerminateBuilder: [{ return: { terminated: [] } }],
      ...COPY_STEPS,
      ...NOTHING_TO_ROLL,
      RecordRelease: [
        {
          return: {
            version: '1.4.2',
            amis: { 'us-east-1': 'ami-0orphan', 'eu-west-1': 'ami-copy-eu-west-1' },
          },
        },
      ],
    },
  },
  failure: {
    name: 'install-fails',
    input: INPUT,
    script: {
      Begin: [{ return: { ...PLAN, smokeCheck: false } }],
      LaunchBuilder: [{ return: { instanceId: 'i-0builder' } }],
      BuilderReady: [{ return: { state: 'running' } }],
      SendCommand: [{ return: { commandId: 'cmd-install', purpose: 'install' } }],
      CheckCommand: [{ throw: 'BakeFailedError' }],
      CleanUp: [
        {
          return: {
            terminated: ['i-0builder'],
            deletedImages: [],
            keptImages: [],
            status: 'failed',
            reason:
              'checking the command: the install command cmd-install on builder i-0builder ended Failed',
          },
        },
      ],
    },
  },
  abort: {
    name: 'aborted-while-imaging',
    input: INPUT,
    script: {
      Begin: [{ return: { ...PLAN, smokeCheck: false } }],
      LaunchBuilder: [{ return: { instanceId: 'i-0builder' } }],
      BuilderReady: [{ return: { state: 'running' } }],
      SendCommand: [{ return: { commandId: 'cmd-install', purpose: 'install' } }],
      CheckCommand: [{ return: { done: true } }],
      StopBuilder: [{ return: { state: 'stopped' } }],
      CreateImage: [{ return: { imageId: 'ami-0baked' } }],
      CheckImage: [{ return: { done: false } }],
      WaitImage: [{ stop: { error: 'Kiln.Aborted', cause: 'aborted by ops@example.com' } }],
    },
  },
};

describe('deploy.asl.json on two Step Functions engines (sandbox and moto)', () => {
  let machine: PreparedMachine;
  const counts: string[] = [];

  beforeAll(async () => {
    await configureMoto();
    machine = prepareMachine('kiln-deploy', readFileSync(DEPLOY, 'utf8'), SUBSTITUTIONS);
  });
  afterAll(async () => {
    await restoreMotoDefaults();
    // Issue 9's figure: history events per bake on moto's engine, and the estimate for AWS.
    if (counts.length) console.log(`deploy.asl.json, moto history events per path:\n${counts.join('\n')}`);
  });

  async function both(path: AslPath): Promise<{ local: EngineRun; moto: EngineRun }> {
    const runs = await runOnBothEngines(machine, path);
    counts.push(
      `  ${path.name}: ${runs.moto.historyEvents} events (AWS estimate ${runs.moto.awsEstimate}), ` +
        `${runs.moto.states.length} states entered (${JSON.stringify(runs.moto.historyByType)})`,
    );
    expect(comparable(machine, runs.local)).toEqual(comparable(machine, runs.moto));
    return runs;
  }

  describe('a fresh bake copied to one Region', () => {
    it('takes the same states and records the same release on both engines', async () => {
      const { local, moto } = await both(PATHS.fresh);
      expect(moto.status).toBe('SUCCEEDED');
      expect(comparable(machine, moto).path).toEqual([
        'Start',
        'Begin',
        'BakeCache',
        'LaunchBuilder',
        'BuilderReady',
        'StartInstall',
        'SendCommand',
        'CheckCommand',
        'CommandDone',
        'WaitCommand',
        'CheckCommand',
        'CommandDone',
        'AfterCommand',
        'StartSmokeCheck',
        'SendCommand',
        'CheckCommand',
        'CommandDone',
        'AfterCommand',
        'StopBuilder',
        'CreateImage',
        'CheckImage',
        'ImageDone',
        'WaitImage',
        'CheckImage',
        'ImageDone',
        'TerminateBuilder',
        'CopyToRegions',
        ...RELEASED_PATH,
      ]);
      // BuilderReady's InstanceNotReadyError was retried, and the copy was checked twice, on both.
      expect(local.taskInputs.BuilderReady).toHaveLength(2);
      expect(moto.taskInputs.CheckCopy).toHaveLength(2);
      expect(moto.output).toMatchObject({
        image: { imageId: 'ami-0baked' },
        copies: [{ region: 'eu-west-1', copy: { imageId: 'ami-copy-eu-west-1', done: true } }],
        release: { version: '1.4.2' },
      });
    }, 120_000);
  });

  describe('a cache hit (the release is recorded already)', () => {
    it('launches no builder and records the cached release on both engines', async () => {
      const { moto } = await both(PATHS.cacheHit);
      expect(moto.status).toBe('SUCCEEDED');
      expect(comparable(machine, moto).path).toEqual(['Start', 'Begin', 'BakeCache', ...RELEASED_PATH]);
      expect(moto.taskInputs.Begin).toHaveLength(2);
      expect(Object.keys(moto.taskInputs).sort()).toEqual([
        'Begin',
        'RecordRelease',
        'RolloutBegin',
        'RolloutSucceeded',
      ]);
    }, 120_000);
  });

  describe('a rolling rollout of 100 instances with three checkpoints, as the sandbox ran it', () => {
    it('takes the very states the sandbox run took on both engines, far below the history limit', async () => {
      // The bench's measurement: the real functions in the sandbox (bench/rollout.ts).
      const sandbox: RolloutFigures = await measureRollout({ seed: 7, fleet: 100, design: 'callback' });
      expect(sandbox).toMatchObject({ status: 'SUCCEEDED', deploymentStatus: 'succeeded', retries: 0 });
      const path: AslPath = {
        name: 'rolling-rollout-100',
        input: ROLLOUT_INPUT,
        script: rollingScript(sandbox.states),
      };

      const { moto } = await both(path);

      expect(moto.status).toBe('SUCCEEDED');
      expect(moto.states).toEqual(sandbox.states);
      expect(moto.states.filter((state) => state === 'CheckRefresh').length).toBeGreaterThan(1);
      // Issue 10's figure: the sandbox's transitions beside moto's history events for that path.
      counts.push(
        `  rolling-rollout-100: the sandbox run (real functions) entered ${sandbox.stateEntries} states ` +
          `(${sandbox.retries} retries); moto's history for the same path: ${moto.historyEvents} events ` +
          `(AWS estimate ${moto.awsEstimate}) of the 25,000-event limit`,
      );
      expect(moto.historyEvents).toBeLessThan(25_000 / 10);
    }, 240_000);
  });

  describe('an orphan image of the same lineage', () => {
    it('adopts it without a builder and copies it on both engines', async () => {
      const { moto } = await both(PATHS.adopt);
      expect(moto.status).toBe('SUCCEEDED');
      expect(comparable(machine, moto).path).toEqual([
        'Start',
        'Begin',
        'BakeCache',
        'AdoptImage',
        'CheckImage',
        'ImageDone',
        'TerminateBuilder',
        'CopyToRegions',
        ...RELEASED_PATH,
      ]);
      expect(moto.taskInputs.LaunchBuilder).toBeUndefined();
      expect(moto.output).toMatchObject({ image: { imageId: 'ami-0orphan' } });
    }, 120_000);
  });

  describe('a failed install', () => {
    it('cleans up and fails with the clean-up reason as its cause on both engines', async () => {
      const { local, moto } = await both(PATHS.failure);
      expect(moto.status).toBe('FAILED');
      expect(moto.error).toBe('BakeFailed');
      expect(comparable(machine, moto).path).toEqual([
        'Start',
        'Begin',
        'BakeCache',
        'LaunchBuilder',
        'BuilderReady',
        'StartInstall',
        'SendCommand',
        'CheckCommand',
        'CleanUp',
        'BakeFailed',
      ]);
      // The Fail state's CausePath reads the clean-up's reason (no task error reaches the cause here).
      expect(moto.cause).toBe(
        'checking the command: the install command cmd-install on builder i-0builder ended Failed',
      );
      expect(local.cause).toBe(moto.cause);
      expect(field(field(stateOf(moto.taskInputs.CleanUp?.[0] ?? null), 'error'), 'Error')).toBe(
        'BakeFailedError',
      );
    }, 120_000);
  });

  describe('an abort (StopExecution) while the image is pending', () => {
    it('stops in the wait without entering CleanUp on both engines (the sweep cleans up)', async () => {
      const { local, moto } = await both(PATHS.abort);
      expect(moto.status).toBe('ABORTED');
      // The sandbox keeps StopExecution's error, as AWS does; moto drops it (the harness's notes).
      expect(local.error).toBe('Kiln.Aborted');
      expect(comparable(machine, moto).path.slice(-4)).toEqual([
        'CreateImage',
        'CheckImage',
        'ImageDone',
        'WaitImage',
      ]);
      expect(moto.states).not.toContain('CleanUp');
    }, 120_000);
  });
});
