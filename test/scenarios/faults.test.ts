import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerSandbox } from '../../cli/commands/sandbox';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { runSandbox } from '../../sandbox/run';
import { step, StoryDeadlineError } from '../../sandbox/stories/steps';
import type { Story } from '../../sandbox/stories/types';
import { INSTANCE_REFRESH_SETTINGS } from '../../sandbox/stories/instance-refresh';

/**
 * Issue 6: a faulted run ends in its checks. With faults injected, `kiln sandbox` exits 0 (every
 * check passed) or 1 (a check failed, naming the fault that caused it), prints its checks and
 * writes its timeline; exit 2 is left for Kiln's own bugs. `scripts/fault-sweep.mjs` runs the whole
 * 15 seeds × 5 faults × 2 scenarios; these are a few of the runs that used to crash.
 */

// Whole stories run here, as in the other scenario files (the per-minute reconciler adds about a
// third to a story's calls, past the default 30 s on a loaded machine).
jest.setTimeout(180_000);

/** Runs `kiln sandbox …` in-process with captured output, the way the CLI does. */
async function runSandboxCommand(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command('kiln').exitOverride();
  registerSandbox(program, { stdout: (text) => out.push(text), stderr: (text) => err.push(text) });
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    await program.parseAsync(['sandbox', ...args], { from: 'user' });
    return { stdout: out.join(''), stderr: err.join(''), exitCode: process.exitCode ?? 0 };
  } finally {
    process.exitCode = saved;
  }
}

describe('kiln sandbox under injected faults', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-faults-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe.each([
    ['default', 'api-5xx@0.2', 3],
    ['default', 'throttle@0.2', 5],
    ['instance-refresh', 'api-5xx@0.2', 1],
    ['instance-refresh', 'throttle@0.2', 3],
  ])('scenario %s with --fault %s, seed %d', (scenario, fault, seed) => {
    it('retries the story’s own calls past the fault and ends in its checks with the timeline written', async () => {
      const timeline = join(dir, 'timeline.jsonl');
      // A small fleet: the rule is about the story's own calls, whose number hardly grows with it.
      const run = await runSandboxCommand([
        '--scenario',
        scenario,
        '--fleet',
        '2',
        '--seed',
        String(seed),
        '--quiet',
        '--fault',
        fault,
        '--timeline',
        timeline,
      ]);
      expect(run.stdout).toContain('\nchecks:\n');
      expect(run.stdout).not.toContain('FAIL');
      expect(run.exitCode).toBe(0);
      expect(readFileSync(timeline, 'utf8')).toMatch(/"caller":"story:[a-z-]+","ok":false,"error":"/);
    });
  });

  it('fails the artifact check, naming event-loss, when EventBridge loses the artifact event', async () => {
    const timeline = join(dir, 'timeline.jsonl');
    const run = await runSandboxCommand([
      '--fleet',
      '1',
      '--seed',
      '9',
      '--quiet',
      '--fault',
      'event-loss@0.3',
      '--timeline',
      timeline,
    ]);
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(
      /FAIL each artifact recorded once by on-artifact: 1\.1\.0: 0 record\(s\): .*\(injected event-loss@0\.3\)/,
    );
    // With no artifact there is nothing to bake or roll out: those checks fail too, and say why.
    expect(run.stdout).toMatch(
      /FAIL each release baked once by Kiln: .*1\.1\.0: no release: no deployment was started \(injected event-loss@0\.3\)/,
    );
    expect(run.stderr).toMatch(/did not run as expected: .*artifact recorded once by on-artifact/);
    expect(run.stderr).toMatch(/faults that struck: event-loss@0\.3 ×\d+/);
    expect(existsSync(timeline)).toBe(true);
  });

  it('fails the artifact check, naming handler-crash, when on-artifact crashes on every attempt', async () => {
    const run = await runSandboxCommand(['--fleet', '1', '--quiet', '--fault', 'handler-crash']);
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain(
      'FAIL each artifact recorded once by on-artifact: 1.1.0: 0 record(s): onArtifact failed all 3 attempt(s) ' +
        '(Runtime.ExitError) (injected handler-crash)',
    );
  });

  it('fails the step whose call outlasts the retries as a check naming the call and the fault', async () => {
    const timeline = join(dir, 'timeline.jsonl');
    const run = await runSandboxCommand([
      '--fleet',
      '1',
      '--quiet',
      '--fault',
      'api-5xx:Auto Scaling:CreateAutoScalingGroup',
      '--timeline',
      timeline,
    ]);
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain(
      'FAIL setup: CreateAutoScalingGroup failed after 10 attempts: ServiceUnavailable ' +
        '(injected api-5xx:Auto Scaling:CreateAutoScalingGroup)',
    );
    expect(run.stderr).toMatch(/did not run as expected: setup/);
    expect(readFileSync(timeline, 'utf8')).toContain('story step setup failed: CreateAutoScalingGroup');
  });
});

/** A one-off story for the run's own rules: what it does is the whole story. */
function storyThat(run: Story['run']): Record<string, Story> {
  return {
    probe: {
      name: 'probe',
      description: 'a probe of how runs end',
      settings: INSTANCE_REFRESH_SETTINGS,
      run,
    },
  };
}

describe('runSandbox under injected faults', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-faults-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends a story whose call fails on an injected fault outside any step in a failed check named story', async () => {
    const result = await runSandbox({
      seed: 1,
      fleet: 1,
      scenario: 'probe',
      stories: storyThat(async (region) => {
        await region.clientsFor('story:probe').ec2.send(new DescribeInstancesCommand({}));
        return { checks: [], figures: {} };
      }),
      region: { faults: [{ kind: 'api-5xx', key: 'EC2:DescribeInstances' }] },
    });

    expect(result.ok).toBe(false);
    expect(result.checks).toEqual([
      {
        name: 'story',
        ok: false,
        detail:
          'DescribeInstances failed after 3 attempts: Unavailable (injected api-5xx:EC2:DescribeInstances)',
      },
    ]);
    expect(result.faultsStruck).toEqual([{ rule: 'api-5xx:EC2:DescribeInstances', strikes: 3 }]);
  });

  it('names the faults that struck when a step’s wait runs out of virtual time', async () => {
    const result = await runSandbox({
      seed: 1,
      fleet: 1,
      scenario: 'probe',
      stories: storyThat(async (region) => {
        region.artifacts.putObject({
          bucket: 'acme-artifacts-123456789012',
          key: 'x/x-1.0.0.tar.gz',
          size: 1,
        });
        await step('artifact', () => Promise.reject(new StoryDeadlineError('no record within 600 s')));
        return { checks: [], figures: {} };
      }),
      region: { faults: [{ kind: 'event-loss' }] },
    });

    expect(result.checks).toEqual([
      { name: 'artifact', ok: false, detail: 'no record within 600 s (faults that struck: event-loss ×1)' },
    ]);
    expect(result.timeline).toContain('story step artifact failed: no record within 600 s');
  });

  it('lets a bug escape as itself (bin/kiln.cjs then exits 2), still writing the timeline', async () => {
    const timelineFile = join(dir, 'timeline.jsonl');
    const run = runSandbox({
      seed: 1,
      fleet: 1,
      scenario: 'probe',
      timelineFile,
      stories: storyThat(async (region) => {
        region.engine.timeline.record({ kind: 'log', message: 'about to trip' });
        throw new TypeError('a bug in the story');
      }),
      region: { faults: [{ kind: 'api-5xx', probability: 0.5 }] },
    });

    await expect(run).rejects.toThrow(TypeError);
    const written = readFileSync(timelineFile, 'utf8');
    expect(written).toContain('about to trip');
    expect(written).toContain('run failed (a bug): TypeError: a bug in the story');
  });

  it('gives the same timeline, byte for byte, for the same seed and fault', async () => {
    const options = {
      seed: 4,
      fleet: 2,
      scenario: 'default',
      region: { faults: [{ kind: 'throttle' as const, probability: 0.3 }] },
    };
    const first = await runSandbox(options);
    const again = await runSandbox(options);
    expect(first.timeline).toContain('"error":"');
    expect(again.timeline).toBe(first.timeline);
  });
});
