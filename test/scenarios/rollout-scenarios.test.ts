import { runSandbox } from '../../sandbox/run';

/**
 * The rollout stories (`kiln sandbox --scenario rolling | bad-release | rollback-after-complete |
 * concurrent-artifacts`): each passes against Kiln as it is, and its checks read Kiln's records
 * and the timeline, so they fail when the rollout misbehaves (the last case).
 */
jest.setTimeout(180_000);

const run = (
  scenario: string,
  badVersions: Array<{ version: string; mode: 'errors' | 'failing-health' }> = [],
) => runSandbox({ seed: 7, fleet: 1, scenario, region: { badVersions } });

describe('rollout scenarios', () => {
  it.each(['rolling', 'bad-release', 'rollback-after-complete', 'concurrent-artifacts'])(
    '%s passes every check',
    async (scenario) => {
      const result = await run(scenario);
      expect(result.checks.filter((check) => !check.ok)).toEqual([]);
      expect(result.checks.length).toBeGreaterThanOrEqual(4);
    },
  );

  it('fails rolling when the release it promotes serves 5xx (rolled back in staging, production never reached)', async () => {
    const result = await run('rolling', [{ version: '2.0.0', mode: 'errors' }]);
    expect(result.ok).toBe(false);
    const failed = result.checks.filter((check) => !check.ok).map((check) => check.name);
    expect(failed).toEqual(expect.arrayContaining(['rollout']));
  });
});
