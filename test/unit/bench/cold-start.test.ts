import { join } from 'node:path';
import { readDeployedSettings } from '../../../bench/deployed-functions';
import { firstInvocations } from '../../../bench/first-invocations';
import { ArtifactEventSchema } from '../../../shared/events/artifact-facts';
import * as z from '../../../shared/domain/zod';

const ROOT = join(__dirname, '..', '..', '..');

describe('the cold-start bench', () => {
  it('has a first invocation for exactly the functions serverless.yml deploys, so each is held to the budget', () => {
    const deployed = readDeployedSettings(ROOT).functions.map((fn) => fn.key);

    expect(Object.keys(firstInvocations).sort()).toEqual([...deployed].sort());
  });

  it('bundles each function with the settings npm run package uses, from serverless.yml', () => {
    const { esbuild, functions } = readDeployedSettings(ROOT);

    expect(esbuild).toMatchObject({ bundle: true, minify: true, platform: 'node', format: 'cjs' });
    expect(esbuild).not.toHaveProperty('packager');
    expect(functions).toContainEqual(
      expect.objectContaining({
        key: 'onArtifact',
        entry: 'functions/on-artifact.ts',
        exportName: 'handler',
      }),
    );
  });

  describe("on-artifact's first invocation", () => {
    it('gets a new, valid artifact event in every run (a first delivery, never a duplicate)', () => {
      const { event } = firstInvocations.onArtifact ?? { event: () => undefined };
      const facts = [0, 1, 2].map((run) => z.parse(ArtifactEventSchema, event(run)));

      expect(new Set(facts.map((f) => (f.kind === 's3' ? `${f.key} ${f.etag}` : ''))).size).toBe(3);
    });
  });
});
