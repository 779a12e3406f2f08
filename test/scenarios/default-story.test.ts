import { runSandbox, type SandboxRunResult, type SandboxRunOptions } from '../../sandbox/run';
import { defaultChecks, type DefaultStoryFacts } from '../../sandbox/stories/default-checks';
import { defaultStory, runDefaultStory } from '../../sandbox/stories/default';
import type { StoryCheck } from '../../sandbox/stories/types';

/**
 * The README's main command, `kiln sandbox`, runs this story: Kiln's whole course on `checkout`.
 * These tests hold it to its promise (every check passes, one seed gives one timeline, a person can
 * follow it) and show that each of its checks can fail: on facts broken one rule at a time, and
 * end to end when the release, the strategy or AWS misbehave.
 */
// Each run bakes two releases and rolls both environments several times (several seconds of wall
// time even at fleet 1, more on a loaded machine).
jest.setTimeout(240_000);

interface Observed {
  result: SandboxRunResult;
  facts: DefaultStoryFacts | undefined;
  lines: string[];
}

/** Runs the default story, keeping what it printed and the facts its checks judged. */
async function observe(
  options: Omit<SandboxRunOptions, 'scenario' | 'stories' | 'print'>,
): Promise<Observed> {
  let facts: DefaultStoryFacts | undefined;
  const lines: string[] = [];
  const result = await runSandbox({
    ...options,
    scenario: 'default',
    print: (line) => lines.push(line),
    stories: {
      default: {
        ...defaultStory,
        run: (region, storyOptions) =>
          runDefaultStory(region, storyOptions, (seen) => {
            facts = seen;
          }),
      },
    },
  });
  return { result, facts, lines };
}

function failed(checks: readonly StoryCheck[]): string[] {
  return checks.filter((c) => !c.ok).map((c) => c.name);
}

function jsonLines(timeline: string): Array<Record<string, unknown>> {
  return timeline
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('the default sandbox story', () => {
  let run: Observed;

  beforeAll(async () => {
    run = await observe({ seed: 7, fleet: 2 });
  });

  describe('told end to end', () => {
    it('passes every check', () => {
      expect(failed(run.result.checks)).toEqual([]);
      expect(run.result.checks.length).toBeGreaterThanOrEqual(14);
    });

    it('routes both artifacts’ S3 events to on-artifact through the serverless.yml pattern', () => {
      const events = jsonLines(run.result.timeline).filter(
        (e) => e.kind === 'event' && e.detailType === 'Object Created',
      );
      expect(events).toEqual([
        expect.objectContaining({ source: 'aws.s3', deliveredTo: ['onArtifact'] }),
        expect.objectContaining({ source: 'aws.s3', deliveredTo: ['onArtifact'] }),
      ]);
    });

    it('tells the phases, the waits and why, and each environment’s instances by release', () => {
      const text = run.lines.join('\n');
      expect(text).toMatch(/wait {3}staging: refreshing — .*Waiting for 120 seconds at checkpoint 50%/);
      expect(text).toMatch(/wait {3}staging: baking — staging runs 1\.1\.0; baking 5 min before production/);
      expect(text).toMatch(/wait {3}production: health-gate — \d+ of 4 green targets healthy/);
      expect(text).toMatch(/fleet {2}production: 1\.1\.0 ×4, 1\.0\.0 ×4 \(healthy \d\/8/);
      expect(text).toMatch(/slack {2}U0SANDBOXLEAD presses Approve on Kiln's message → .*promotes checkout/);
      expect(text).toMatch(/slack {2}U0SANDBOXDEV presses Confirm → .*started rollback/);
      expect(text).toMatch(/slack {2}U0SANDBOXDEV: \/kiln rollback checkout staging → .*1\.2\.0 → 1\.1\.0/);
      expect(text).toMatch(/rollback of production to 1\.1\.0 by alarm:checkout-production-5xx/);
    });

    it('ends with a summary: each act with its time, and the releases of each environment in order', () => {
      const summary = run.lines.slice(run.lines.findIndex((l) => l.endsWith('summary (virtual time)')));
      const text = summary.join('\n');
      expect(text).toMatch(/1\.1\.0: pushed, baked once +\d\d:\d\d:\d\d +\d+m\d\ds +release recorded/);
      expect(text).toMatch(/1\.2\.0: production blue\/green .* succeeded/);
      expect(text).toMatch(/rollback to 1\.1\.0 \(staging, by slack:T0SANDBOX\/U0SANDBOXDEV\) .* succeeded/);
      expect(text).toMatch(/scale-in 4 → 2, drained by Kiln .* 2 hooks completed/);
      expect(text).toMatch(/staging +1\.0\.0 \(before Kiln\) → 1\.1\.0 → 1\.2\.0 → 1\.1\.0/);
      expect(text).toMatch(/production +1\.0\.0 \(before Kiln\) → 1\.1\.0 → 1\.2\.0 → 1\.1\.0/);
    });

    it('declares both environments; production’s record gains the green groups Kiln made', () => {
      const environments = run.result.record.environments.map((e) => [e.environment, e.groups]);
      expect(environments).toEqual([
        ['staging', ['checkout-staging']],
        [
          'production',
          ['checkout-production', 'checkout-production-kiln-1.1.0', 'checkout-production-kiln-1.2.0'],
        ],
      ]);
    });

    it('gives the same timeline, byte for byte, for the same seed', async () => {
      const again = await runSandbox({ seed: 7, fleet: 2, scenario: 'default' });
      expect(again.timeline).toBe(run.result.timeline);
    });
  });

  describe('each check fails on facts that break its rule (and only that check)', () => {
    const cases: Array<[string, RegExp, (facts: DefaultStoryFacts) => void]> = [
      [
        'an artifact recorded twice',
        /^each artifact recorded once/,
        (f) => {
          (f.releases['1.2.0'] ?? { artifacts: 0 }).artifacts = 2;
        },
      ],
      [
        'a builder left running',
        /^each release baked once by Kiln/,
        (f) => {
          f.builders.running = ['i-0123456789abcdef0'];
        },
      ],
      [
        'a second builder for one artifact',
        /^each release baked once by Kiln/,
        (f) => {
          f.builders.launched = 3;
        },
      ],
      [
        'a refresh that never paused at its checkpoint',
        /^staging rolled 1\.1\.0 with an instance refresh that paused/,
        (f) => {
          f.staging.reached = 0;
        },
      ],
      [
        'an approval by someone other than the lead',
        /^production waited for approval/,
        (f) => {
          f.approval.approvedBy = ['cli:story'];
        },
      ],
      [
        'production starting before the Confirm',
        /^production waited for approval/,
        (f) => {
          f.approval.productionStartedAt = (f.approval.press?.confirmedAt ?? 0) - 1;
        },
      ],
      [
        'blue leaving while a green target was still initial',
        /^production rolled 1\.1\.0 blue\/green/,
        (f) => {
          const [first] = Object.keys(f.blueGreen.greenAtDrain);
          if (first !== undefined) f.blueGreen.greenAtDrain[first] = 'initial';
        },
      ],
      [
        'two rollbacks from one flapping alarm',
        /^1\.2\.0 turned bad/,
        (f) => {
          const [first] = f.alarm.rollbacks;
          if (first !== undefined) f.alarm.rollbacks.push({ ...first, id: 'second' });
        },
      ],
      [
        'an alarm past the watch window',
        /^1\.2\.0 turned bad/,
        (f) => {
          f.alarm.alarmAt = (f.alarm.badSince ?? 0) + 3600;
        },
      ],
      [
        'a chat rollback by a user the access lists do not name',
        /^a signed \/kiln rollback checkout staging/,
        (f) => {
          if (f.chat.deployment) f.chat.deployment.actor = 'slack:T0SANDBOX/U0SANDBOXVIEW';
        },
      ],
      [
        'a hook completed before its target left draining',
        /no action completed before its targets left draining$/,
        (f) => {
          const [record] = f.drain?.records ?? [];
          if (record !== undefined) record.proceedAt = (record.unusedAt ?? 0) - 1;
        },
      ],
      [
        'a hook left to its timeout instead of completed by Kiln',
        /Kiln completed every action CONTINUE/,
        (f) => {
          const [record] = f.drain?.records ?? [];
          if (record !== undefined) delete record.audit;
        },
      ],
      [
        'a production target unhealthy at the end',
        /^production ends on 1\.1\.0/,
        (f) => {
          const production = f.end.find((e) => e.name === 'production');
          if (production) production.healthy -= 1;
        },
      ],
      [
        'staging’s lock still held at the end',
        /^staging ends on 1\.1\.0/,
        (f) => {
          const staging = f.end.find((e) => e.name === 'staging');
          if (staging) staging.lock = 'deployment-x';
        },
      ],
      [
        'an alarm still in ALARM at the end',
        /both alarms are OK again$/,
        (f) => {
          f.alarms['checkout-staging-5xx'] = 'ALARM';
        },
      ],
    ];

    it.each(cases)('fails on %s', (_what, check, breakIt) => {
      const facts = structuredClone(run.facts);
      expect(facts).toBeDefined();
      if (facts === undefined) return;
      breakIt(facts);
      const names = failed(defaultChecks(facts));
      expect(names).toHaveLength(1);
      expect(names[0]).toMatch(check);
    });
  });

  describe('run with something broken', () => {
    it('fails the approval, blue/green and later checks when 1.1.0 serves errors: staging’s alarm rolls it back', async () => {
      const { result } = await observe({
        seed: 7,
        fleet: 1,
        region: { badVersions: [{ version: '1.1.0', mode: 'errors' }] },
      });
      expect(result.ok).toBe(false);
      const names = failed(result.checks);
      expect(names).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^production waited for approval/),
          expect.stringMatching(/^production rolled 1\.1\.0 blue\/green/),
          expect.stringMatching(/^1\.2\.0 turned bad/),
        ]),
      );
      // Staging is back on what it ran, as Kiln records and AWS agrees; production never moved.
      expect(result.checks.find((c) => /^staging ends on/.test(c.name))?.detail).toMatch(
        /^recorded unrecorded \(launch template v1\); checkout-staging on v1, 1\/1 InService/,
      );
    });

    it('fails the checkpoint check when the strategy has no checkpoints', async () => {
      const { result } = await observe({
        seed: 7,
        fleet: 2,
        settings: { strategy: { type: 'rolling', minHealthyPercentage: 100, maxHealthyPercentage: 150 } },
      });
      expect(failed(result.checks)).toEqual([
        expect.stringMatching(
          /^staging rolled 1\.1\.0 with an instance refresh that paused at its checkpoints \(none %\)/,
        ),
      ]);
    });

    it('fails the bake check, naming the fault, when CreateImage fails, and its summary says where the course stopped', async () => {
      const { result, lines } = await observe({
        seed: 7,
        fleet: 1,
        region: { faults: [{ kind: 'create-image-failure' }] },
      });
      const bake = result.checks.find((c) => c.name.startsWith('each release baked once by Kiln'));
      expect(bake).toMatchObject({
        ok: false,
        detail: expect.stringMatching(/^1\.1\.0: no release: deployment .* failed/),
      });
      const row = (act: string) => lines.find((l) => l.includes(`1.1.0: ${act}`)) ?? '';
      expect(row('pushed, baked once')).toMatch(/failed: bake failed/);
      expect(row('staging rolls')).toMatch(/not reached$/);
      expect(row('time in staging')).toMatch(/not reached$/);
      expect(row('production blue/green')).toMatch(/not reached$/);
    });

    it('ends in its checks, never a crash, when a fifth of AWS calls fail', async () => {
      const { result } = await observe({
        seed: 3,
        fleet: 1,
        region: { faults: [{ kind: 'api-5xx', probability: 0.2 }] },
      });
      expect(result.checks.length).toBeGreaterThan(0);
      expect(result.faultsStruck.map((f) => f.rule)).toEqual(['api-5xx@0.2']);
    });
  });
});
