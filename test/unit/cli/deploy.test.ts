import { SFNClient, SFNServiceException, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { registerDeploy } from '../../../cli/commands/deploy';
import { registerRollback } from '../../../cli/commands/rollback';
import type { KilnStore } from '../../../shared/store';
import type { GroupDescription } from '../../../shared/usecases/rollout/deps';
import { fakeClock, seededCheckout, STATE_MACHINE_ARN, T0 } from '../../support/deployment-fixtures';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';
import { runDeployCli, type DeployRunOptions } from './deploy-harness';
import { lines } from './services-history-harness';

const sfn = mockClient(SFNClient);

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});
beforeEach(() => {
  sfn.reset();
  sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
    executionArn: `arn:aws:states:us-east-1:123456789012:execution:kiln-test-deploy:${input.name}`,
    startDate: new Date(T0),
  }));
});

async function setup(overrides: Partial<DeployRunOptions> = {}) {
  const clock = fakeClock();
  const { store, tableName } = await seededCheckout(dynamo, clock);
  const env: NodeJS.ProcessEnv = {
    KILN_TABLE: tableName,
    KILN_DEPLOY_STATE_MACHINE_ARN: STATE_MACHINE_ARN,
    USER: 'alice',
  };
  const options: DeployRunOptions = { dynamo, env, clock, ...overrides };
  return {
    store,
    options,
    deploy: (args: string[], more: Partial<DeployRunOptions> = {}) =>
      runDeployCli(registerDeploy, ['deploy', ...args], { ...options, ...more }),
    rollback: (args: string[], more: Partial<DeployRunOptions> = {}) =>
      runDeployCli(registerRollback, ['rollback', ...args], { ...options, ...more }),
  };
}

const started = () => sfn.commandCalls(StartExecutionCommand).length;

async function onlyDeployment(store: KilnStore) {
  const { items } = await store.listDeployments('checkout');
  expect(items).toHaveLength(1);
  const [deployment] = items;
  if (deployment === undefined) throw new Error('no deployment');
  return deployment;
}

/** A group of `n` instances on each launch template version given. */
function group(
  name: string,
  versions: Record<string, number>,
  pending: Record<string, number> = {},
): GroupDescription {
  const instances = Object.entries(versions).flatMap(([version, n]) =>
    Array.from({ length: n }, (_, i) => ({
      instanceId: `i-${version}${String(i).padStart(16, '0')}`,
      lifecycleState: i < (pending[version] ?? 0) ? 'Pending' : 'InService',
      healthStatus: 'Healthy',
      launchTemplateVersion: version,
      protectedFromScaleIn: false,
    })),
  );
  return {
    name,
    arn: `arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:0:autoScalingGroupName/${name}`,
    capacity: { min: 2, max: 8, desired: 4 },
    subnets: [],
    healthCheckType: 'ELB',
    healthCheckGracePeriod: 60,
    targetGroupArns: [],
    tags: {},
    suspendedProcesses: [],
    instances,
  };
}

describe('kiln deploy', () => {
  describe('starting', () => {
    it('records the deployment for the local user and starts it, printing its id', async () => {
      const { store, deploy } = await setup();

      const result = await deploy([
        'checkout',
        '1.1.0',
        '--env',
        'production',
        '--env',
        'staging',
        '--reason',
        'hotfix',
      ]);

      const deployment = await onlyDeployment(store);
      expect(result.stdout).toBe(
        `deployment ${deployment.id} started: checkout 1.1.0 → staging, production\nfollow it with \`kiln status checkout\`\n`,
      );
      expect(result.exitCode).toBeUndefined();
      expect(deployment).toMatchObject({
        actor: 'cli:alice',
        trigger: 'cli',
        reason: 'hotfix',
        environments: ['staging', 'production'],
        mode: 'deploy',
      });
      expect(started()).toBe(1);
    });

    it('records --actor instead of the local user', async () => {
      const { store, deploy } = await setup();

      await deploy(['checkout', '1.1.0', '--env', 'staging', '--actor', 'release-bot']);

      expect((await onlyDeployment(store)).actor).toBe('release-bot');
    });

    it('takes the state machine from --state-machine-arn, in its own region', async () => {
      const { deploy, options } = await setup();
      const other = 'arn:aws:states:eu-west-1:123456789012:stateMachine:kiln-eu-deploy';

      await deploy(['checkout', '1.1.0', '--env', 'staging', '--state-machine-arn', other], {
        env: { ...options.env, KILN_DEPLOY_STATE_MACHINE_ARN: undefined },
      });

      const [call] = sfn.commandCalls(StartExecutionCommand);
      expect(call?.args[0].input.stateMachineArn).toBe(other);
      expect(await call?.thisValue.config.region()).toBe('eu-west-1');
    });
  });

  describe('bad arguments', () => {
    it.each([
      [
        ['checkout', '1.1.0', '--env', 'qa'],
        'error: --env: checkout has no environment "qa" (its environments: staging, production)\n',
      ],
      [
        ['checkout', '1.1.0'],
        'error: --env: name at least one environment of checkout (staging, production)\n',
      ],
      [
        ['checkout', '9.9.9', '--env', 'staging'],
        'error: VERSION: checkout has no release 9.9.9: Kiln deploys releases it has baked (newest: 1.2.0, 1.1.0, 1.0.0)\n',
      ],
      [
        ['ledger', '1.1.0', '--env', 'staging'],
        'error: SERVICE: no service named "ledger": `kiln services list` shows the services Kiln knows\n',
      ],
      [['check#out', '1.1.0', '--env', 'staging'], 'error: invalid service: service: must not contain "#"\n'],
      [['checkout', '1.1.0', '--env', 'staging', '--reason', ' '], 'error: --reason must not be empty\n'],
      [['checkout', '1.1.0', '--env', 'staging', '--actor', ''], 'error: --actor must not be empty\n'],
      [
        ['checkout', '1.1.0', '--env', 'staging', '--state-machine-arn', 'kiln-deploy'],
        'error: --state-machine-arn must be a state machine ARN such as arn:aws:states:REGION:ACCOUNT:stateMachine:NAME, got "kiln-deploy"\n',
      ],
    ])('refuses %j with one line naming the argument, exit 1, and changes nothing', async (args, message) => {
      const { store, deploy } = await setup();

      const result = await deploy(args);

      expect(result.stderr).toBe(message);
      expect(result.exitCode).toBe(1);
      expect((await store.listDeployments('checkout')).items).toEqual([]);
      expect(started()).toBe(0);
    });

    it('refuses to run without a state machine, naming the option and the variable, before any AWS client', async () => {
      const { deploy, options } = await setup();

      const result = await deploy(['checkout', '1.1.0', '--env', 'staging'], {
        env: { ...options.env, KILN_DEPLOY_STATE_MACHINE_ARN: undefined },
      });

      expect(result.stderr).toBe(
        'error: no deploy state machine: pass --state-machine-arn or KILN_DEPLOY_STATE_MACHINE_ARN (the stack output KilnDeployStateMachineArn)\n',
      );
      expect(result.exitCode).toBe(1);
      expect(result.sfnClients).toBe(0);
    });
  });

  describe('when Step Functions has no such state machine', () => {
    it('says so in one line naming the setting, exit 2, and records the deployment as failed', async () => {
      const { store, deploy } = await setup();
      sfn.on(StartExecutionCommand).rejects(
        new SFNServiceException({
          name: 'StateMachineDoesNotExist',
          $fault: 'client',
          message: 'State Machine Does Not Exist',
          $metadata: { httpStatusCode: 400 },
        }),
      );

      const result = await deploy(['checkout', '1.1.0', '--env', 'staging']);

      expect(result.stderr).toBe(
        `kiln: Step Functions state machine "${STATE_MACHINE_ARN}" not found in us-east-1: check --state-machine-arn or KILN_DEPLOY_STATE_MACHINE_ARN (the stack output KilnDeployStateMachineArn), and the region\n`,
      );
      expect(result.exitCode).toBe(2);
      expect((await onlyDeployment(store)).status).toBe('failed');
    });
  });

  describe('--wait', () => {
    /**
     * Plays the state machine's part between polls: each sleep moves the deployment one step
     * along `script` (a step gets the store and the deployment id).
     */
    function playing(store: KilnStore, script: Array<(id: string) => Promise<unknown>>) {
      let next = 0;
      return async () => {
        const step = script[next++];
        if (step === undefined) return;
        const [deployment] = (await store.listDeployments('checkout')).items;
        if (deployment !== undefined) await step(deployment.id);
      };
    }

    const rollout = (phase: string, detail?: string) => ({
      environment: 'staging',
      index: 0,
      strategy: 'rolling' as const,
      phase,
      ...(detail === undefined ? {} : { detail }),
      at: new Date(T0).toISOString(),
    });

    async function progress(store: KilnStore, id: string, phase: string, detail?: string) {
      const current = await store.getDeployment(id);
      await store.updateDeployment(id, { rollout: rollout(phase, detail) }, current?.version ?? 0);
    }

    it('prints one line per change with the phase, what it waits for and the instances per version, and exits 0 on success', async () => {
      const { store, deploy } = await setup();
      let versions: Record<string, number> = { '3': 4 };
      const onSleep = playing(store, [
        async (id) => {
          await store.moveDeployment(id, { from: 'queued', to: 'rolling-out' });
          await progress(store, id, 'refreshing', 'instance refresh 0% (checkpoint 1 of 3)');
        },
        async () => undefined, // nothing changed: no new line
        async (id) => {
          versions = { '3': 2, '4': 2 };
          await progress(store, id, 'refreshing', 'instance refresh 50% (checkpoint 2 of 3)');
        },
        async (id) =>
          store.moveDeployment(id, { from: 'rolling-out', to: 'succeeded', outcome: 'succeeded' }),
      ]);

      const result = await deploy(['checkout', '1.1.0', '--env', 'staging', '--wait'], {
        onSleep,
        groups: (region, name) =>
          region === 'us-east-1' && name === 'checkout-staging'
            ? group(name, versions, { '4': 1 })
            : undefined,
      });

      const id = (await onlyDeployment(store)).id;
      expect(lines(result.stdout)).toEqual([
        `deployment ${id} started: checkout 1.1.0 → staging`,
        '[09:00:00] queued · waiting for its execution to begin',
        '[09:00:05] rolling-out · staging (1/1) refreshing: instance refresh 0% (checkpoint 1 of 3) · instances v3 4',
        '[09:00:15] rolling-out · staging (1/1) refreshing: instance refresh 50% (checkpoint 2 of 3) · instances v3 2, v4 2 (1 Pending)',
        `deployment ${id} (checkout 1.1.0) succeeded: staging`,
      ]);
      expect(result.exitCode).toBeUndefined();
    });

    it('exits 1 with the reason in one line when the deployment is rolled back', async () => {
      const { store, deploy } = await setup();
      const onSleep = playing(store, [
        async (id) => store.moveDeployment(id, { from: 'queued', to: 'rolling-out' }),
        async (id) =>
          store.moveDeployment(id, {
            from: 'rolling-out',
            to: 'rolling-back',
            reason: 'alarm checkout-staging-5xx-rate went into ALARM',
          }),
        async (id) =>
          store.moveDeployment(id, {
            from: 'rolling-back',
            to: 'rolled-back',
            outcome: 'rolled-back',
            reason: 'staging: alarm checkout-staging-5xx-rate went into ALARM; 1.0.0 restored',
          }),
      ]);

      const result = await deploy(['checkout', '1.1.0', '--env', 'staging', '--wait'], { onSleep });

      const id = (await onlyDeployment(store)).id;
      expect(lines(result.stdout).at(-1)).toBe(
        `deployment ${id} (checkout 1.1.0) rolled-back: staging: alarm checkout-staging-5xx-rate went into ALARM; 1.0.0 restored`,
      );
      expect(result.exitCode).toBe(1);
    });

    it('redraws one line on a terminal', async () => {
      const { store, deploy } = await setup();
      const onSleep = playing(store, [
        async (id) => store.moveDeployment(id, { from: 'queued', to: 'rolling-out' }),
        async (id) =>
          store.moveDeployment(id, { from: 'rolling-out', to: 'failed', reason: 'launch template gone' }),
      ]);

      const result = await deploy(['checkout', '1.1.0', '--env', 'staging', '--wait'], {
        onSleep,
        isTTY: true,
      });

      const [, progressPart] = result.stdout.split('\n');
      const redraw = '\r\x1b[2K';
      expect(progressPart?.split(redraw)).toEqual([
        '',
        '[09:00:00] queued · waiting for its execution to begin',
        '[09:00:05] rolling-out · instances unknown (no group checkout-staging in us-east-1)',
      ]);
      expect(result.stdout).toMatch(/\(checkout 1\.1\.0\) failed: launch template gone\n$/);
      expect(result.exitCode).toBe(1);
    });
  });
});

describe('kiln rollback', () => {
  it('starts a rollback of the environment to its previous release', async () => {
    const { store, rollback } = await setup();

    const result = await rollback(['checkout', 'staging', '--reason', 'errors up']);

    const deployment = await onlyDeployment(store);
    expect(result.stdout).toBe(
      `rollback ${deployment.id} started: checkout staging → 1.0.0\nfollow it with \`kiln status checkout\`\n`,
    );
    expect(deployment).toMatchObject({
      mode: 'rollback',
      releaseVersion: '1.0.0',
      environments: ['staging'],
      reason: 'errors up',
    });
  });

  it.each([
    [
      ['checkout', 'staging', '--to', '1.2.0'],
      'error: --to: checkout/staging has no record of 1.2.0 to restore: its history holds 1.1.0 (current), 1.0.0\n',
    ],
    [
      ['checkout', 'production'],
      'error: ENV: checkout/production has no earlier release to roll back to: its history holds nothing (no rollout has completed there)\n',
    ],
    [
      ['checkout', 'qa'],
      'error: ENV: checkout has no environment "qa" (its environments: staging, production)\n',
    ],
  ])('refuses %j naming the argument, exit 1, and starts nothing', async (args, message) => {
    const { store, rollback } = await setup();

    const result = await rollback(args);

    expect(result.stderr).toBe(message);
    expect(result.exitCode).toBe(1);
    expect((await store.listDeployments('checkout')).items).toEqual([]);
    expect(started()).toBe(0);
  });
});
