import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerServices } from '../../../cli/commands/services';
import { processIo } from '../../../cli/store-options';
import { storedAttributeSize } from '../../../shared/domain/manifest/limits';
import { validateManifestSource } from '../../../shared/domain/manifest/yaml';
import { KilnStore } from '../../../shared/store';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';
import { lines, ROOT, runCli } from './services-history-harness';

const CHECKOUT = 'examples/checkout.yml';
const LEDGER = 'examples/ledger.yml';
const THREE_MISTAKES = 'test/fixtures/manifests/three-mistakes.yml';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});

/** A fresh table per test, so service names from the examples can be reused. */
async function freshTable(): Promise<{ tableName: string; env: NodeJS.ProcessEnv; store: KilnStore }> {
  const tableName = await dynamo.createTable();
  return {
    tableName,
    env: { KILN_TABLE: tableName, USER: 'alice' },
    store: new KilnStore({ client: dynamo.client, tableName }),
  };
}

describe('kiln services', () => {
  describe('apply', () => {
    it('stores a valid manifest and prints its new manifest version', async () => {
      const { env, store } = await freshTable();

      const result = await runCli(registerServices, ['services', 'apply', '-f', CHECKOUT], { dynamo, env });

      expect(result).toEqual({
        stdout: 'service checkout: manifest version 1\n',
        stderr: '',
        exitCode: undefined,
      });
      expect(await store.getService('checkout')).toMatchObject({ version: 1, updatedBy: 'cli:alice' });
    });

    it('bumps the version on a second apply and records --actor in the audit log', async () => {
      const { env, store } = await freshTable();
      await runCli(registerServices, ['services', 'apply', '-f', CHECKOUT], { dynamo, env });

      const result = await runCli(
        registerServices,
        ['services', 'apply', '--file', CHECKOUT, '--actor', 'ci:release'],
        {
          dynamo,
          env,
        },
      );

      expect(result.stdout).toBe('service checkout: manifest version 2\n');
      expect((await store.listAudit({ service: 'checkout' })).items[0]).toMatchObject({
        action: 'service.apply',
        actor: 'ci:release',
      });
    });

    it('prints each problem as FILE:LINE:COL message, stores nothing and exits 1 on an invalid manifest', async () => {
      const { env, store } = await freshTable();

      const result = await runCli(registerServices, ['services', 'apply', '-f', THREE_MISTAKES], {
        dynamo,
        env,
      });

      expect(lines(result.stderr)).toHaveLength(3);
      for (const line of lines(result.stderr))
        expect(line).toMatch(/^test\/fixtures\/manifests\/three-mistakes\.yml:\d+:\d+ \S+: .+$/);
      expect(result.stdout).toBe('');
      expect(result.exitCode).toBe(1);
      expect((await store.listServices()).items).toEqual([]);
    });

    it('reports a YAML syntax error with its position', async () => {
      const { env } = await freshTable();

      const result = await runCli(registerServices, ['services', 'apply', '-f', 'broken.yml'], {
        dynamo,
        env,
        files: { 'broken.yml': 'apiVersion: kiln.dev/v1\nname: [web\n' },
      });

      expect(lines(result.stderr)[0]).toMatch(/^broken\.yml:\d+:\d+ \S/);
      expect(result.exitCode).toBe(1);
    });

    describe('with hostile or oversized manifests', () => {
      /** The checkout example with install commands that bring its stored size to exactly `bytes`. */
      function checkoutStoredAt(bytes: number): string {
        const text = readFileSync(join(ROOT, CHECKOUT), 'utf8').replace(
          / {4}commands:\n(?: {6}- .*\n)+/,
          '    commands:\n      - y\n',
        );
        const { manifest } = validateManifestSource(text, CHECKOUT);
        if (manifest === undefined) throw new Error('the checkout example must stay valid');
        // Each command takes 1 byte as a list element plus its length; the one command `y` takes 2.
        let remaining = bytes - (storedAttributeSize('manifest', manifest) - 2);
        const commands: string[] = [];
        while (remaining > 4097) {
          commands.push(`      - ${'x'.repeat(4096)}\n`);
          remaining -= 4097;
        }
        commands.push(`      - ${'y'.repeat(remaining - 1)}\n`);
        return text.replace('      - y\n', commands.join(''));
      }

      it('refuses an alias bomb at its position, stores nothing and exits 1', async () => {
        const { env, store } = await freshTable();
        const bomb = 'test/fixtures/manifests/alias-bomb.yml';

        const result = await runCli(registerServices, ['services', 'apply', '-f', bomb], { dynamo, env });

        expect(result.stderr).toMatch(
          /^test\/fixtures\/manifests\/alias-bomb\.yml:\d+:8 e\[0\]: alias \*d stands for/,
        );
        expect(result.exitCode).toBe(1);
        expect((await store.listServices()).items).toEqual([]);
      });

      it('refuses a file over 1 MiB by its size and stores nothing', async () => {
        const { env, store } = await freshTable();

        const result = await runCli(registerServices, ['services', 'apply', '-f', 'huge.yml'], {
          dynamo,
          env,
          files: { 'huge.yml': `${readFileSync(join(ROOT, CHECKOUT), 'utf8')}#${'x'.repeat(1024 * 1024)}\n` },
        });

        expect(result.stderr).toMatch(
          /^huge\.yml: file is [\d,]+ bytes \(1\.0 MiB\); manifests are limited to 1 MiB/,
        );
        expect(result.exitCode).toBe(1);
        expect((await store.listServices()).items).toEqual([]);
      });

      it('refuses a manifest one byte too big for the store, naming the limit, and stores nothing', async () => {
        const { env, store } = await freshTable();

        const result = await runCli(registerServices, ['services', 'apply', '-f', 'big.yml'], {
          dynamo,
          env,
          files: { 'big.yml': checkoutStoredAt(405_505) },
        });

        expect(result.stderr).toMatch(
          /^big\.yml:5:1 \(manifest\): takes 405,505 bytes in Kiln's store, which holds at most 405,504 bytes per manifest/,
        );
        expect(result.exitCode).toBe(1);
        expect((await store.listServices()).items).toEqual([]);
      });

      it('stores a manifest at the limit: the limit leaves room for the rest of the item', async () => {
        const { env, store } = await freshTable();

        const result = await runCli(registerServices, ['services', 'apply', '-f', 'big.yml'], {
          dynamo,
          env,
          files: { 'big.yml': checkoutStoredAt(405_504) },
        });

        expect(result).toEqual({
          stdout: 'service checkout: manifest version 1\n',
          stderr: '',
          exitCode: undefined,
        });
        expect(await store.getService('checkout', { version: 1 })).toMatchObject({ version: 1 });
      });
    });

    it('reports an unreadable file and exits 1', async () => {
      const { env } = await freshTable();

      const result = await runCli(registerServices, ['services', 'apply', '-f', 'missing/nope.yml'], {
        dynamo,
        env,
      });

      expect(result.stderr).toMatch(/^missing\/nope\.yml: cannot read file: /);
      expect(result.exitCode).toBe(1);
    });

    it('takes the table from --table over KILN_TABLE', async () => {
      const { store, tableName } = await freshTable();
      const { env: otherEnv } = await freshTable();

      const result = await runCli(
        registerServices,
        ['services', 'apply', '-f', LEDGER, '--table', tableName],
        {
          dynamo,
          env: otherEnv,
        },
      );

      expect(result.exitCode).toBeUndefined();
      expect(await store.getService('ledger')).toMatchObject({ version: 1 });
    });

    it('fails with an error naming --table and KILN_TABLE when neither is given', async () => {
      const result = await runCli(registerServices, ['services', 'apply', '-f', CHECKOUT], {
        dynamo,
        env: {},
      });

      expect(result.stderr).toBe('error: no DynamoDB table: pass --table NAME or set KILN_TABLE\n');
      expect(result.exitCode).toBe(1);
    });

    it('reports a table that does not exist in one line naming --table and KILN_TABLE, and exits 2', async () => {
      const result = await runCli(registerServices, ['services', 'apply', '-f', CHECKOUT], {
        dynamo,
        env: { KILN_TABLE: 'no-such-table' },
      });

      expect(lines(result.stderr)).toEqual([
        'kiln: DynamoDB table "no-such-table" not found in us-east-1: check --table or KILN_TABLE (the stack output KilnTableName), and the region',
      ]);
      expect(result.exitCode).toBe(2);
    });

    it('requires -f', async () => {
      const { env } = await freshTable();

      const result = await runCli(registerServices, ['services', 'apply'], { dynamo, env });

      expect(result.stderr).toMatch(/required option '-f, --file <path>' not specified/);
      expect(result.exitCode).toBe(1);
    });
  });

  describe('list', () => {
    it('prints a table of services with version, environments and who applied them', async () => {
      const { env } = await freshTable();
      await runCli(registerServices, ['services', 'apply', '-f', LEDGER], { dynamo, env });
      await runCli(registerServices, ['services', 'apply', '-f', CHECKOUT], { dynamo, env });
      await runCli(registerServices, ['services', 'apply', '-f', CHECKOUT], { dynamo, env });

      const result = await runCli(registerServices, ['services', 'list'], { dynamo, env });

      const [header, ...rows] = lines(result.stdout);
      expect(header?.split(/\s{2,}/)).toEqual(['NAME', 'VERSION', 'ENVIRONMENTS', 'UPDATED', 'BY']);
      expect(rows.map((row) => row.split(/\s{2,}/).filter((_, i) => i !== 3))).toEqual([
        ['checkout', '2', 'staging,production', 'cli:alice'],
        ['ledger', '1', 'dev,staging,production', 'cli:alice'],
      ]);
    });

    it('prints JSON with --json', async () => {
      const { env } = await freshTable();
      await runCli(registerServices, ['services', 'apply', '-f', CHECKOUT], { dynamo, env });

      const result = await runCli(registerServices, ['services', 'list', '--json'], { dynamo, env });

      expect(JSON.parse(result.stdout)).toEqual([
        {
          name: 'checkout',
          version: 1,
          environments: ['staging', 'production'],
          updatedAt: expect.any(String),
          updatedBy: 'cli:alice',
        },
      ]);
    });

    it('says how to add a service when there are none', async () => {
      const { env } = await freshTable();

      const result = await runCli(registerServices, ['services', 'list'], { dynamo, env });

      expect(result.stdout).toMatch(/^no services/);
    });
  });

  describe('client configuration', () => {
    it('reaches the endpoint in AWS_ENDPOINT_URL_DYNAMODB with the default client, with no code', async () => {
      const { env } = await freshTable();
      const saved = process.env.AWS_ENDPOINT_URL_DYNAMODB;
      process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
      try {
        const out: string[] = [];
        const program = new Command('kiln').exitOverride();
        registerServices(program, {
          ...processIo,
          env,
          stdout: (t) => out.push(t),
          stderr: (t) => out.push(t),
        });

        await program.parseAsync(['services', 'list', '--json'], { from: 'user' });

        expect(JSON.parse(out.join(''))).toEqual([]);
      } finally {
        if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
        else process.env.AWS_ENDPOINT_URL_DYNAMODB = saved;
      }
    });
  });
});

// Keep the example files honest: the tests above assume these names.
describe('example manifests used here', () => {
  it('are named checkout and ledger', () => {
    expect(readFileSync(join(ROOT, CHECKOUT), 'utf8')).toMatch(/^name: checkout$/m);
    expect(readFileSync(join(ROOT, LEDGER), 'utf8')).toMatch(/^name: ledger$/m);
  });
});
