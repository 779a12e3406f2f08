/**
 * statemachines/deploy.asl.json (the bake phase) on two Step Functions engines: the sandbox's
 * (aws-local-stepfunctions) and moto's (LocalStack's interpreter). Each path answers the bake
 * steps from one script, keyed by the deploy machine's Task state names (functions of the input
 * for the states inside the copy Map, whose iterations race); both engines must take the same
 * states, hand every step the same state and end with the same status, output, error and cause.
 * How the harness stubs tasks and what it cannot cover: test/conformance/support/asl-engines.ts.
 *
 * It prints moto's history events per bake, and the estimate for AWS (README, Testing).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
} from './support/asl-engines';

const DEPLOY = join(__dirname, '../../statemachines/deploy.asl.json');
const SUBSTITUTIONS = {
  BakeStepsFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:kiln-ci-bake-steps',
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
    if (counts.length) console.log(`deploy.asl.json, moto history events per bake:\n${counts.join('\n')}`);
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
        'RecordRelease',
        'RolloutPhase',
        'Done',
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
      expect(comparable(machine, moto).path).toEqual([
        'Begin',
        'BakeCache',
        'RecordRelease',
        'RolloutPhase',
        'Done',
      ]);
      expect(moto.taskInputs.Begin).toHaveLength(2);
      expect(Object.keys(moto.taskInputs).sort()).toEqual(['Begin', 'RecordRelease']);
    }, 120_000);
  });

  describe('an orphan image of the same lineage', () => {
    it('adopts it without a builder and copies it on both engines', async () => {
      const { moto } = await both(PATHS.adopt);
      expect(moto.status).toBe('SUCCEEDED');
      expect(comparable(machine, moto).path).toEqual([
        'Begin',
        'BakeCache',
        'AdoptImage',
        'CheckImage',
        'ImageDone',
        'TerminateBuilder',
        'CopyToRegions',
        'RecordRelease',
        'RolloutPhase',
        'Done',
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
