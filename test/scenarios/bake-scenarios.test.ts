import { runSandbox, type SandboxRunResult } from '../../sandbox/run';
import { sandboxFunctions, type SandboxFunctionFactory } from '../../sandbox/functions';
import type { Context } from 'aws-lambda';
import type { LambdaHandler } from '../../sandbox/services/lambda';

/**
 * The four bake scenarios of issue 9 (`kiln sandbox --scenario bake|bake-cache|bake-failure|
 * bake-timeout`): each passes against Kiln as it is, and each has a check that fails when the
 * behaviour it stands for is broken — shown by running it with a sabotaged bake-steps function
 * (the sandbox builds every other function as deployed).
 */

/** Kiln's bake-steps function with one step replaced by `sabotage` (given the real handler). */
function sabotagedBakeSteps(
  step: string,
  sabotage: (event: unknown, context: Context, real: LambdaHandler) => Promise<unknown>,
): Record<string, SandboxFunctionFactory> {
  const factory = sandboxFunctions.bakeSteps;
  if (factory === undefined) throw new Error('no bakeSteps factory');
  return {
    bakeSteps: async (env) => {
      const real = await factory(env);
      return (event, context) =>
        stepOf(event) === step ? sabotage(event, context, real) : real(event, context);
    },
  };
}

function stepOf(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null || !('step' in event)) return undefined;
  return typeof event.step === 'string' ? event.step : undefined;
}

/** A bake cache that never hits: begin's own plan, with `cache` forced to none. */
const noCache = sabotagedBakeSteps('begin', async (event, context, real) => {
  const plan = await real(event, context);
  return typeof plan === 'object' && plan !== null ? { ...plan, cache: 'none' } : plan;
});

async function run(scenario: string, functions?: Record<string, SandboxFunctionFactory>) {
  return runSandbox({ seed: 7, fleet: 1, scenario, ...(functions ? { region: { functions } } : {}) });
}

function failedNames(result: SandboxRunResult): string[] {
  return result.checks.filter((c) => !c.ok).map((c) => c.name);
}

describe('bake scenarios', () => {
  describe('bake', () => {
    it('passes every check: one builder, an AMI in each Region, the release recorded', async () => {
      const result = await run('bake');
      expect(failedNames(result)).toEqual([]);
      expect(result.checks.map((c) => c.name)).toEqual([
        'deployment of ledger@1.4.2 carries the release',
        'one RunInstances, builder terminated',
        "one available AMI in us-east-1 and us-west-2, the release's; no stray snapshot",
        'the AMI carries its lineage (service, version, base AMI, digest, recipe, deployment)',
      ]);
    });

    it('fails its builder check when the bake never terminates the builder', async () => {
      const result = await run(
        'bake',
        sabotagedBakeSteps('terminate-builder', async () => null),
      );
      expect(failedNames(result)).toEqual(['one RunInstances, builder terminated']);
      expect(result.checks[1]?.detail).toMatch(/^1 RunInstances, 0 TerminateInstances: i-\S+ stopped$/);
    });
  });

  describe('bake-cache', () => {
    it('passes every check: two pushes and a duplicate event make one bake; a re-run reuses the release', async () => {
      const result = await run('bake-cache');
      expect(failedNames(result)).toEqual([]);
      expect(result.figures).toEqual({ RunInstances: 1, executions: 2 });
    });

    it('fails the re-run check when the bake cache never hits', async () => {
      const result = await run('bake-cache', noCache);
      expect(failedNames(result)).toContain(
        "the re-run reused the recorded release: no builder, the release's AMIs",
      );
    });
  });

  describe('bake-failure', () => {
    it('passes every check: failed with the reason, builder terminated, nothing left', async () => {
      const result = await run('bake-failure');
      expect(failedNames(result)).toEqual([]);
      expect(result.checks[0]?.detail).toMatch(
        /ended Failed: failed to run commands: exit status 1 \(BakeFailedError\)$/,
      );
    });

    it('fails its checks when the clean-up after a failure does nothing', async () => {
      const result = await run(
        'bake-failure',
        sabotagedBakeSteps('clean-up', async () => ({ reason: 'sabotaged' })),
      );
      expect(failedNames(result)).toEqual(
        expect.arrayContaining([
          'deployment failed, naming the install command',
          'one RunInstances, builder terminated',
        ]),
      );
    });
  });

  describe('bake-timeout', () => {
    it('passes every check: the timeout keeps the image, the re-run adopts it with no second builder', async () => {
      const result = await run('bake-timeout');
      expect(failedNames(result)).toEqual([]);
      expect(result.figures).toEqual({ RunInstances: 1 });
    });

    it('fails the adoption check when the re-run bakes again instead of adopting the image', async () => {
      const result = await run('bake-timeout', noCache);
      expect(failedNames(result)).toContain(
        'the re-run adopted the finished image: no second builder, no name clash',
      );
    });
  });
});
