import { runSandbox, type SandboxRunResult } from '../../sandbox/run';

/**
 * The README's main command, `kiln sandbox`, runs this story. These tests hold it to its promise:
 * every check passes, and one seed gives one timeline, byte for byte.
 */
// Each run bakes and rolls two environments (about 10 s of wall time alone; more on a loaded machine).
jest.setTimeout(180_000);

describe('the default sandbox story', () => {
  let first: SandboxRunResult;

  beforeAll(async () => {
    first = await runSandbox({ seed: 7, fleet: 3, scenario: 'default' });
  });

  it('passes every check', () => {
    expect(first.checks.filter((c) => !c.ok)).toEqual([]);
    expect(first.checks.length).toBeGreaterThanOrEqual(6);
  });

  it('routes the S3 artifact event to on-artifact through the serverless.yml pattern', () => {
    const lines = first.timeline
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const artifactEvents = lines.filter((e) => e.kind === 'event' && e.detailType === 'Object Created');
    expect(artifactEvents).toEqual([
      expect.objectContaining({ source: 'aws.s3', deliveredTo: ['onArtifact'] }),
    ]);
  });

  it('writes a timeline of JSON lines with t and kind on every entry', () => {
    const lines = first.timeline.split('\n').filter(Boolean);
    expect(lines.length).toBe(first.timelineEntries);
    for (const line of lines) {
      const entry = JSON.parse(line) as { t: unknown; kind: unknown };
      expect(typeof entry.t).toBe('number');
      expect(['api', 'event', 'state', 'log']).toContain(entry.kind);
    }
  });

  it('gives the same timeline, byte for byte, for the same seed', async () => {
    const again = await runSandbox({ seed: 7, fleet: 3, scenario: 'default' });
    expect(again.timeline).toBe(first.timeline);
  });

  it('gives a different timeline for a different seed', async () => {
    const other = await runSandbox({ seed: 8, fleet: 3, scenario: 'default' });
    expect(other.checks.every((c) => c.ok)).toBe(true);
    expect(other.timeline).not.toBe(first.timeline);
  });

  it('records the artifact once when EventBridge delivers its event twice', async () => {
    const result = await runSandbox({
      seed: 7,
      fleet: 2,
      scenario: 'default',
      region: { faults: [{ kind: 'event-duplicate' }] },
    });
    expect(result.checks.every((c) => c.ok)).toBe(true);
    const s3Events = result.timeline
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { kind: string; detailType?: string; deliveredTo?: string[] })
      .filter((e) => e.kind === 'event' && e.detailType === 'Object Created');
    expect(s3Events.flatMap((e) => e.deliveredTo)).toEqual(['onArtifact', 'onArtifact']);
  });

  it('fails, with the checks that did not hold, when the new release serves errors', async () => {
    const result = await runSandbox({
      seed: 7,
      fleet: 2,
      scenario: 'default',
      region: { badVersions: [{ version: '1.1.0', mode: 'errors' }] },
    });
    expect(result.ok).toBe(false);
    const check = (name: string) => result.checks.find((c) => c.name === name);
    // The 5xx alarm stops it: on-alarm asks the deployment to stop as soon as the alarm goes off
    // (issue 11), and the refresh's own AlarmSpecification would have AWS roll it back too.
    expect(check('deployment of checkout@1.1.0 succeeded')?.detail).toMatch(
      /rolled-back: (aborted by alarm:checkout-staging-5xx: .*went into ALARM during the rollout of checkout\/staging|AWS rolled the instance refresh back: .*CloudWatch alarm.*checkout-staging-5xx)/,
    );
    // Kiln's record names what runs again (the previous version), and AWS agrees.
    expect(check('staging runs only the recorded launch template version')).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/^group on v1;/),
    });
    expect(check('Kiln records production on checkout@1.1.0')?.ok).toBe(false);
  });

  it('rejects an unknown scenario by name', async () => {
    await expect(runSandbox({ seed: 1, fleet: 1, scenario: 'nope' })).rejects.toThrow(
      /unknown scenario "nope"/,
    );
  });
});
