import { registerHistory, formatDuration } from '../../../cli/commands/history';
import { KilnStore } from '../../../shared/store';
import type { DeploymentInput } from '../../../shared/store';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';
import { lines, runCli } from './services-history-harness';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});

function deployment(
  id: string,
  environments: string[],
  trigger: DeploymentInput['trigger'] = 'artifact',
): DeploymentInput {
  return {
    id,
    service: 'checkout',
    releaseVersion: `2.${id.slice(-1)}.0`,
    environments,
    trigger,
    actor: 'ci:github',
  };
}

/**
 * A fresh table holding checkout's history: d1 (staging, took 3m 05s, succeeded), d2 (staging +
 * production, rolled back by an alarm after 45 s), d3 (production, running). One minute apart.
 */
async function seededTable(): Promise<{ env: NodeJS.ProcessEnv }> {
  const tableName = await dynamo.createTable();
  let now = T0;
  const store = new KilnStore({ client: dynamo.client, tableName, now: () => now });
  await store.createDeployment(deployment('d1', ['staging']));
  await store.appendStep('d1', {
    name: 'rollout:staging',
    status: 'succeeded',
    endedAt: new Date(T0 + 185_000).toISOString(),
  });
  await store.moveDeployment('d1', { from: 'queued', to: 'rolling-out' });
  await store.moveDeployment('d1', { from: 'rolling-out', to: 'succeeded' });
  now = T0 + 60_000;
  await store.createDeployment(deployment('d2', ['staging', 'production'], 'cli'));
  now = T0 + 105_000;
  await store.moveDeployment('d2', { from: 'queued', to: 'rolling-out' });
  await store.moveDeployment('d2', { from: 'rolling-out', to: 'rolling-back', reason: 'alarm' });
  await store.moveDeployment('d2', { from: 'rolling-back', to: 'rolled-back', reason: 'alarm' });
  now = T0 + 120_000;
  await store.createDeployment(deployment('d3', ['production'], 'chatops'));
  return { env: { KILN_TABLE: tableName } };
}

describe('kiln history', () => {
  describe('table output', () => {
    it('lists deployments newest first with id, version, environments, trigger, actor, status, start and duration', async () => {
      const { env } = await seededTable();

      const result = await runCli(registerHistory, ['history', 'checkout'], { dynamo, env });

      const [header, ...rows] = lines(result.stdout).map((line) => line.split(/\s{2,}/));
      expect(header).toEqual([
        'ID',
        'VERSION',
        'ENVIRONMENTS',
        'TRIGGER',
        'ACTOR',
        'STATUS',
        'STARTED',
        'DURATION',
      ]);
      expect(rows).toEqual([
        ['d3', '2.3.0', 'production', 'chatops', 'ci:github', 'queued', '2026-03-01T12:02:00.000Z', '0s'],
        [
          'd2',
          '2.2.0',
          'staging,production',
          'cli',
          'ci:github',
          'rolled-back',
          '2026-03-01T12:01:00.000Z',
          '45s',
        ],
        [
          'd1',
          '2.1.0',
          'staging',
          'artifact',
          'ci:github',
          'succeeded',
          '2026-03-01T12:00:00.000Z',
          '3m 05s',
        ],
      ]);
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBeUndefined();
    });

    it('keeps only deployments that include --env', async () => {
      const { env } = await seededTable();

      const result = await runCli(registerHistory, ['history', 'checkout', '--env', 'production'], {
        dynamo,
        env,
      });

      expect(
        lines(result.stdout)
          .slice(1)
          .map((line) => line.split(/\s+/)[0]),
      ).toEqual(['d3', 'd2']);
    });

    it('shows --limit deployments and prints the cursor for the next page on stderr', async () => {
      const { env } = await seededTable();

      const first = await runCli(registerHistory, ['history', 'checkout', '--limit', '2'], { dynamo, env });
      const cursor = /^more: --cursor (\S+)$/.exec(first.stderr.trim())?.[1];
      const second = await runCli(
        registerHistory,
        ['history', 'checkout', '--limit', '2', '--cursor', String(cursor)],
        {
          dynamo,
          env,
        },
      );

      expect(lines(first.stdout)).toHaveLength(3);
      expect(cursor).toEqual(expect.any(String));
      expect(
        lines(second.stdout)
          .slice(1)
          .map((line) => line.split(/\s+/)[0]),
      ).toEqual(['d1']);
      expect(second.stderr).toBe('');
    });

    it('says so when a service has no deployments', async () => {
      const { env } = await seededTable();

      const result = await runCli(registerHistory, ['history', 'ledger', '--env', 'dev'], { dynamo, env });

      expect(result.stdout).toBe('no deployments of ledger in dev\n');
    });
  });

  describe('--json', () => {
    it('prints the deployments and the cursor as JSON', async () => {
      const { env } = await seededTable();

      const result = await runCli(registerHistory, ['history', 'checkout', '--json', '--limit', '1'], {
        dynamo,
        env,
      });

      const parsed: unknown = JSON.parse(result.stdout);
      expect(parsed).toEqual({
        deployments: [
          expect.objectContaining({ id: 'd3', releaseVersion: '2.3.0', status: 'queued', steps: [] }),
        ],
        cursor: expect.any(String),
      });
    });
  });

  describe('bad arguments', () => {
    it.each(['abc', '0', '-3', '2.5', '1001'])('rejects --limit %s naming the option', async (value) => {
      const { env } = await seededTable();

      const result = await runCli(registerHistory, ['history', 'checkout', `--limit=${value}`], {
        dynamo,
        env,
      });

      expect(result.stderr).toMatch(
        /option '--limit <n>' argument '.*' is invalid\. --limit must be a whole number from 1 to 1000/,
      );
      expect(result.exitCode).toBe(1);
      expect(result.stdout).toBe('');
    });

    it('rejects a service name with a # naming the service', async () => {
      const { env } = await seededTable();

      const result = await runCli(registerHistory, ['history', 'check#out'], { dynamo, env });

      expect(result.stderr).toBe('error: invalid service: service: must not contain "#"\n');
      expect(result.exitCode).toBe(1);
    });

    it('rejects a cursor from another listing naming the cursor', async () => {
      const { env } = await seededTable();
      const first = await runCli(registerHistory, ['history', 'checkout', '--limit', '1'], { dynamo, env });
      const cursor = /--cursor (\S+)/.exec(first.stderr)?.[1] ?? '';

      const result = await runCli(registerHistory, ['history', 'ledger', '--cursor', cursor], {
        dynamo,
        env,
      });

      expect(result.stderr).toMatch(/^error: invalid cursor: it belongs to a different listing/);
      expect(result.exitCode).toBe(1);
    });

    it('requires the service argument', async () => {
      const { env } = await seededTable();

      const result = await runCli(registerHistory, ['history'], { dynamo, env });

      expect(result.stderr).toMatch(/missing required argument 'service'/);
      expect(result.exitCode).toBe(1);
    });

    it('names --table and KILN_TABLE when neither is given', async () => {
      const result = await runCli(registerHistory, ['history', 'checkout'], { dynamo, env: {} });

      expect(result.stderr).toBe('error: no DynamoDB table: pass --table NAME or set KILN_TABLE\n');
      expect(result.exitCode).toBe(1);
    });
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [59_999, '59s'],
    [60_000, '1m 00s'],
    [185_000, '3m 05s'],
    [7_620_000, '2h 07m'],
  ])('formats %i ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
