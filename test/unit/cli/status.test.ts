import { registerStatus } from '../../../cli/commands/status';
import type { StoreCommandIo } from '../../../cli/store-options';
import type { Command } from 'commander';
import { fakeClock, runningDeployment, seededCheckout, T0 } from '../../support/deployment-fixtures';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';
import { lines, runCli } from './services-history-harness';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});

const ID = '01JZ0000000000000000000001';

/** checkout with staging on 1.1.0, and a deployment of 1.2.0 holding staging's lock, mid-refresh. */
async function setup() {
  const clock = fakeClock();
  const { store, tableName } = await seededCheckout(dynamo, clock);
  await store.createDeployment(runningDeployment(ID, { releaseVersion: '1.2.0', environments: ['staging'] }));
  await store.moveDeployment(ID, { from: 'queued', to: 'rolling-out' });
  await store.acquireLock('checkout', 'staging', { holder: ID, deploymentId: ID, leaseMs: 900_000 });
  const current = await store.getDeployment(ID);
  await store.updateDeployment(
    ID,
    {
      rollout: {
        environment: 'staging',
        index: 0,
        strategy: 'rolling',
        phase: 'refreshing',
        detail: 'instance refresh 50%',
        at: new Date(T0).toISOString(),
      },
    },
    current?.version ?? 0,
  );
  const register = (program: Command, io: StoreCommandIo) => registerStatus(program, io, clock.now);
  return {
    store,
    clock,
    status: (args: string[]) =>
      runCli(register, ['status', ...args], { dynamo, env: { KILN_TABLE: tableName } }),
  };
}

describe('kiln status', () => {
  it('shows each environment in promotion order and the running deployment with its phase', async () => {
    const { status } = await setup();

    const result = await status(['checkout']);

    expect(lines(result.stdout).map((line) => line.split(/\s{2,}/))).toEqual([
      ['checkout (manifest version 1)'],
      ['ENVIRONMENT', 'CURRENT', 'PREVIOUS', 'LAUNCH TEMPLATE', 'CAPACITY', 'GROUP', 'LOCK'],
      [
        'staging',
        '1.1.0',
        '1.0.0',
        'lt-0123456789abcdef0 v3',
        '2/4/8',
        'checkout-staging',
        `${ID} until 2026-06-01T09:15:00.000Z`,
      ],
      ['production', '-', '-', '-', '-', 'checkout-production', '-'],
      ['running:'],
      ['DEPLOYMENT', 'VERSION', 'STATUS', 'ENVIRONMENT', 'PHASE', 'WAITING FOR'],
      [ID, '1.2.0', 'rolling-out', 'staging', 'refreshing', 'instance refresh 50%'],
    ]);
    expect(result.exitCode).toBeUndefined();
  });

  it('marks a lock whose lease has run out as expired', async () => {
    const { status, clock } = await setup();
    clock.advance(900_001);

    const result = await status(['checkout']);

    expect(result.stdout).toContain(`${ID} until 2026-06-01T09:15:00.000Z (expired)`);
  });

  it('prints every service as JSON with --json', async () => {
    const { status } = await setup();

    const result = await status(['--json']);

    expect(JSON.parse(result.stdout)).toEqual({
      services: [
        {
          service: 'checkout',
          manifestVersion: 1,
          environments: [
            {
              name: 'staging',
              region: 'us-east-1',
              strategy: 'rolling',
              currentRelease: '1.1.0',
              previousRelease: '1.0.0',
              launchTemplate: { id: 'lt-0123456789abcdef0', version: 3 },
              capacity: { min: 2, max: 8, desired: 4 },
              activeGroup: 'checkout-staging',
              history: ['1.1.0', '1.0.0'],
              lock: { holder: ID, deploymentId: ID, expiresAt: '2026-06-01T09:15:00.000Z', expired: false },
            },
            {
              name: 'production',
              region: 'us-west-2',
              strategy: 'rolling',
              currentRelease: null,
              previousRelease: null,
              launchTemplate: null,
              capacity: null,
              activeGroup: 'checkout-production',
              history: [],
              lock: null,
            },
          ],
          running: [
            {
              id: ID,
              releaseVersion: '1.2.0',
              mode: 'deploy',
              status: 'rolling-out',
              environments: ['staging'],
              trigger: 'artifact',
              actor: 'ci:github',
              createdAt: '2026-06-01T09:00:00.000Z',
              rollout: expect.objectContaining({ phase: 'refreshing', detail: 'instance refresh 50%' }),
              waitingApproval: false,
              abort: null,
            },
          ],
        },
      ],
    });
  });

  it('shows an approval waiting with the command that answers it', async () => {
    const { store, status } = await setup();
    await store.moveDeployment(ID, { from: 'rolling-out', to: 'waiting-approval' });

    const result = await status(['checkout']);

    expect(lines(result.stdout).at(-1)).toMatch(
      /waiting-approval .* instance refresh 50%; approval: kiln approve 01JZ0+1$/,
    );
  });

  it('says so when nothing is running', async () => {
    const { store, status } = await setup();
    await store.moveDeployment(ID, { from: 'rolling-out', to: 'succeeded' });

    const result = await status(['checkout']);

    expect(lines(result.stdout).at(-1)).toBe('no running deployments');
  });

  it('refuses an unknown service naming the argument, exit 1', async () => {
    const { status } = await setup();

    const result = await status(['ledger']);

    expect(result.stderr).toBe(
      'error: SERVICE: no service named "ledger": `kiln services list` shows the services Kiln knows\n',
    );
    expect(result.exitCode).toBe(1);
  });
});
