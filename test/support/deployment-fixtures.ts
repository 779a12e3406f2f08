/**
 * A store holding checkout (examples/checkout.yml: staging in us-east-1, production in us-west-2,
 * which needs an approval) and its releases, for the deployment use cases and the commands that
 * call them. Each call makes a fresh table.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateManifestSource } from '../../shared/domain/manifest/yaml';
import type { ServiceManifest } from '../../shared/domain/manifest/schema';
import type { IdSource } from '../../shared/runtime/ids';
import { KilnStore, type DeploymentInput } from '../../shared/store';
import type { EnvironmentRecord } from '../../shared/store/schemas';
import type { LocalDynamo } from './dynalite';

export const T0 = Date.parse('2026-06-01T09:00:00.000Z');
export const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:kiln-test-deploy';

export function checkoutManifest(): ServiceManifest {
  const path = join(__dirname, '..', '..', 'examples', 'checkout.yml');
  const { manifest, diagnostics } = validateManifestSource(readFileSync(path, 'utf8'), path);
  if (manifest === undefined || diagnostics.length > 0) throw new Error('examples/checkout.yml is invalid');
  return manifest;
}

/** Ids 0001, 0002, …: one draw each, so deployment ids are predictable. */
export function countingIds(): IdSource {
  let n = 0;
  return { next: () => `id-${String(++n).padStart(4, '0')}` };
}

export interface Clock {
  now: () => number;
  advance: (ms: number) => void;
}

export function fakeClock(start = T0): Clock {
  let now = start;
  return { now: () => now, advance: (ms) => (now += ms) };
}

const AMI = { 'us-east-1': 'ami-0aaaaaaaaaaaaaaa1', 'us-west-2': 'ami-0bbbbbbbbbbbbbbb2' };

export function record(release: string, version: number, at: number, desired = 4): EnvironmentRecord {
  return {
    release,
    group: 'checkout-staging',
    launchTemplate: { id: 'lt-0123456789abcdef0', version },
    capacity: { min: 2, max: 8, desired },
    since: new Date(at).toISOString(),
  };
}

/**
 * checkout's manifest, releases 1.0.0, 1.1.0 and 1.2.0 (1.2.0 only in us-east-1), and staging's
 * state: 1.1.0 current, 1.0.0 before it.
 */
export async function seededCheckout(dynamo: LocalDynamo, clock: Clock = fakeClock()) {
  const tableName = await dynamo.createTable();
  const store = new KilnStore<ServiceManifest>({ client: dynamo.client, tableName, now: clock.now });
  await store.putServiceManifest(checkoutManifest(), { actor: 'cli:platform' });
  for (const version of ['1.0.0', '1.1.0', '1.2.0']) {
    await store.putRelease(
      {
        service: 'checkout',
        version,
        amis: version === '1.2.0' ? { 'us-east-1': AMI['us-east-1'] } : AMI,
        artifact: {
          uri: `s3://acme-artifacts-123456789012/checkout/releases/checkout-${version}.tar.gz`,
          digest: `sha256:${'a'.repeat(63)}${version.at(-1)}`,
        },
        recipeHash: 'recipe-1',
        baseAmiId: 'ami-0ccccccccccccccc3',
      },
      { actor: 'kiln:bake' },
    );
  }
  await store.updateEnvironmentState(
    'checkout',
    'staging',
    {
      currentRelease: '1.1.0',
      previousRelease: '1.0.0',
      launchTemplate: { id: 'lt-0123456789abcdef0', version: 3 },
      capacity: { min: 2, max: 8, desired: 4 },
      activeGroup: 'checkout-staging',
      history: [record('1.1.0', 3, T0 - 3_600_000), record('1.0.0', 2, T0 - 86_400_000, 3)],
    },
    0,
  );
  return { store, tableName, clock };
}

/** A deployment record as a running rollout would have it, without an execution. */
export function runningDeployment(id: string, overrides: Partial<DeploymentInput> = {}): DeploymentInput {
  return {
    id,
    service: 'checkout',
    releaseVersion: '1.1.0',
    environments: ['staging', 'production'],
    trigger: 'artifact',
    actor: 'ci:github',
    ...overrides,
  };
}
