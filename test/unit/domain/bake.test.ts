import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { recipeHash } from '../../../shared/domain/bake';
import { parseManifest, type ServiceManifest } from '../../../shared/domain/manifest/schema';
import { LAMBDA_INVOKE_ERROR_NAMES, STEP_ERROR_NAMES } from '../../../shared/domain/step-errors';
import { parse } from 'yaml';

function bake(change: (bake: Record<string, unknown>) => void = () => undefined): ServiceManifest['bake'] {
  const doc = parse(readFileSync(join(__dirname, '../../../examples/checkout.yml'), 'utf8')) as {
    bake: Record<string, unknown>;
  };
  change(doc.bake);
  return parseManifest(doc).bake;
}

describe('recipeHash', () => {
  it('is the same for the same bake section, whatever order its keys were written in', () => {
    const reordered = bake((b) => {
      const tags = b.tags as Record<string, string>;
      b.tags = Object.fromEntries(Object.entries(tags).reverse());
    });
    expect(recipeHash(reordered)).toBe(recipeHash(bake()));
  });

  it.each([
    ['the install', (b: Record<string, unknown>) => (b.install = { commands: ['echo other'] })],
    ['the base image', (b: Record<string, unknown>) => (b.baseImage = { amiId: 'ami-0123456789abcdef0' })],
    ['the instance type', (b: Record<string, unknown>) => (b.instanceType = 'c7i.xlarge')],
    ['the volume size', (b: Record<string, unknown>) => (b.volumeSizeGiB = 30)],
    ['the smoke check', (b: Record<string, unknown>) => (b.smokeCheck = { commands: ['curl -f localhost'] })],
  ])('changes when %s changes', (_what, change) => {
    expect(recipeHash(bake(change))).not.toBe(recipeHash(bake()));
  });

  it.each([
    ['the subnet', (b: Record<string, unknown>) => (b.subnetId = 'subnet-00000000000000001')],
    ['the timeout', (b: Record<string, unknown>) => (b.timeoutMinutes = 90)],
    ['the copy Regions', (b: Record<string, unknown>) => (b.copyToRegions = ['us-west-2', 'eu-west-1'])],
  ])('stays when %s changes (where and how a bake runs, not what it makes)', (_what, change) => {
    expect(recipeHash(bake(change))).toBe(recipeHash(bake()));
  });
});

describe('statemachines/deploy.asl.json', () => {
  const asl = JSON.parse(
    readFileSync(join(__dirname, '../../../statemachines/deploy.asl.json'), 'utf8'),
  ) as unknown;

  function errorNames(node: unknown): string[] {
    if (Array.isArray(node)) return node.flatMap(errorNames);
    if (node === null || typeof node !== 'object') return [];
    return Object.entries(node).flatMap(([key, value]) =>
      key === 'ErrorEquals' && Array.isArray(value) ? value.map(String) : errorNames(value),
    );
  }

  it("matches only Kiln's listed step errors, Lambda's invoke errors and States.* in Retry and Catch", () => {
    const allowed = new Set<string>([...STEP_ERROR_NAMES, ...LAMBDA_INVOKE_ERROR_NAMES]);
    const names = errorNames(asl);
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((name) => !name.startsWith('States.') && !allowed.has(name))).toEqual([]);
  });
});
