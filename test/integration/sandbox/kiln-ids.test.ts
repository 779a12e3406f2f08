import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { parse as parseYaml } from 'yaml';
import { parseManifest, type ServiceManifest } from '../../../shared/domain/manifest/schema';
import { deploymentIdTime } from '../../../shared/domain/ids';
import { newDeploymentId } from '../../../shared/runtime/ids';
import { KilnStore } from '../../../shared/store';
import { createEngine } from '../../../sandbox/core/engine';
import { SANDBOX_EPOCH } from '../../../sandbox/core/context';
import { createRegion } from '../../../sandbox/region';
import { sleep } from '../../../sandbox/stories/fleet';

const checkout = (): ServiceManifest =>
  parseManifest(parseYaml(readFileSync(join(__dirname, '../../../examples/checkout.yml'), 'utf8')));

/**
 * One sandbox run: the CLI applies the checkout manifest, CI uploads a build, on-artifact records
 * it and creates its deployment (each audited). Returns the sort keys of every audit entry written, which carry the writers' ids.
 */
async function auditKeysOfOneRun(seed: number): Promise<string[]> {
  const region = await createRegion({ seed });
  try {
    return await region.engine.run(async () => {
      const cli = region.clientsFor('kiln-cli').doc;
      const store = new KilnStore<ServiceManifest>({
        client: cli,
        tableName: region.tableName,
        ids: region.engine.kilnIds,
      });
      await store.putServiceManifest(checkout(), { actor: 'kiln-cli:test' });
      region.artifacts.putObject({
        bucket: 'acme-artifacts-123456789012',
        key: 'checkout/releases/checkout-2.0.0.tar.gz',
        size: 1024,
        etag: 'b1946ac92492d2347c6235b4d2611184',
      });
      for (let waited = 0; waited < 600; waited++) {
        if ((await store.listDeployments('checkout')).items.length > 0) break;
        await sleep(1);
      }
      const { Items = [] } = await cli.send(new ScanCommand({ TableName: region.tableName }));
      return Items.filter((item) => item.kind === 'audit')
        .map((item) => String(item.SK))
        .sort();
    });
  } finally {
    await region.dispose();
  }
}

describe('ids Kiln makes up in the sandbox', () => {
  beforeAll(() => {
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  });

  it('come from the seed: the same seed writes the same audit keys, each writer its own id', async () => {
    const first = await auditKeysOfOneRun(21);
    const second = await auditKeysOfOneRun(21);

    // At least the manifest's (the CLI), the artifact's and the deployment's (on-artifact); by the
    // time the deployment is seen, the deploy execution's bake steps may have written theirs too
    // (a third writer), at the same point in every run of one seed.
    expect(first.length).toBeGreaterThanOrEqual(3);
    expect(second).toEqual(first);
    const writers = new Set(first.map((key) => key.split('#')[1]));
    expect(writers.size).toBeGreaterThanOrEqual(2);
    expect(new Set(first).size).toBe(first.length);
  });

  it('make deployment ids from the virtual clock and the seeded source: the same seed, the same ids', async () => {
    const idsOfOneRun = async (seed: number): Promise<string[]> => {
      const engine = await createEngine({ seed, dynamodb: false });
      try {
        return await engine.run(async () => {
          const first = newDeploymentId(engine.kilnIds);
          await new Promise((resolve) => setTimeout(resolve, 90_000));
          return [first, newDeploymentId(engine.kilnIds), newDeploymentId(engine.kilnIds)];
        });
      } finally {
        await engine.dispose();
      }
    };
    const first = await idsOfOneRun(21);

    expect(await idsOfOneRun(21)).toEqual(first);
    expect(await idsOfOneRun(22)).not.toEqual(first);
    expect(first.map(deploymentIdTime)).toEqual([
      SANDBOX_EPOCH,
      SANDBOX_EPOCH + 90_000,
      SANDBOX_EPOCH + 90_000,
    ]);
    expect(new Set(first).size).toBe(3);
  });
});
