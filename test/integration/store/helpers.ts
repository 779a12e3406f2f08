import { KilnStore } from '../../../shared/store';
import type { ReleaseInput } from '../../../shared/store';
import type { LocalDynamo } from '../../support/dynalite';

/** A hand-driven clock: tests move time explicitly. */
export interface TestClock {
  now: () => number;
  advance: (ms: number) => void;
}

export const T0 = Date.parse('2026-03-01T12:00:00.000Z');

export function testClock(start = T0): TestClock {
  let current = start;
  return { now: () => current, advance: (ms) => void (current += ms) };
}

let counter = 0;
/** A name no other test in the file uses, so tests sharing a table never see each other's items. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}

export interface TestManifest {
  name: string;
  team?: string;
}

export function newStore(dynamo: LocalDynamo, clock: TestClock = testClock()): KilnStore<TestManifest> {
  return new KilnStore<TestManifest>({ client: dynamo.client, tableName: dynamo.tableName, now: clock.now });
}

export function releaseFixture(service: string, version: string): ReleaseInput {
  return {
    service,
    version,
    amis: { 'us-east-1': 'ami-0123456789abcdef0', 'eu-west-1': 'ami-0fedcba9876543210' },
    artifact: { uri: `s3://artifacts/${service}/${version}.tar.gz`, digest: 'sha256:' + 'ab'.repeat(32) },
    recipeHash: 'recipe-1',
    baseAmiId: 'ami-00000000000000001',
  };
}
