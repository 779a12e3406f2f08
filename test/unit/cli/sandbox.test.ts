import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerSandbox } from '../../../cli/commands/sandbox';
import { isolateProcessExitCode } from '../../support/exit-code';

/** Runs `kiln sandbox …` in-process with captured output. */
async function runSandboxCommand(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command('kiln').exitOverride().configureOutput({
    writeOut: (text) => out.push(text),
    writeErr: (text) => err.push(text),
  });
  registerSandbox(program, { stdout: (text) => out.push(text), stderr: (text) => err.push(text) });
  program.commands.forEach((command) => command.exitOverride());
  await program.parseAsync(['sandbox', ...args], { from: 'user' });
  return { stdout: out.join(''), stderr: err.join(''), exitCode: process.exitCode };
}

// The default story bakes two releases and rolls both environments several times: several
// seconds of wall time even at fleet 1, more than jest's default 30 s on a loaded machine.
jest.setTimeout(180_000);

describe('kiln sandbox', () => {
  isolateProcessExitCode();

  it('runs the default story, prints progress and every check, and leaves the exit code at 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-sandbox-'));
    try {
      const result = await runSandboxCommand([
        '--fleet',
        '1',
        '--seed',
        '3',
        '--timeline',
        join(dir, 't.jsonl'),
      ]);
      expect(result.exitCode).toBeUndefined();
      expect(result.stdout).toContain('scenario default');
      expect(result.stdout).toMatch(/\[\d\d:\d\d:\d\d\] kiln {3}staging: refreshing — instance refresh /);
      expect(result.stdout).toMatch(/ok {3}production ends on 1\.1\.0: /);
      expect(result.stdout).not.toContain('FAIL');
      expect(readFileSync(join(dir, 't.jsonl'), 'utf8').split('\n')[0]).toMatch(/^\{"t":0,"kind":/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 1 naming the checks that failed when the story does not run as expected', async () => {
    // Two instances: one alone finishes its refresh before the staging alarm's second bad minute.
    const result = await runSandboxCommand(['--fleet', '2', '--quiet', '--bad-version', '1.1.0']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/the story did not run as expected: .*production waited for approval/);
  });

  it('exits 1 naming the failed refresh and why when the new release never passes its health checks', async () => {
    const result = await runSandboxCommand([
      '--scenario',
      'instance-refresh',
      '--quiet',
      '--bad-version',
      '1.1.0:failing-health',
    ]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(
      /FAIL refresh succeeded: Failed \(refresh [0-9a-f-]+\): Instance refresh failed: new instances did not pass their health checks/,
    );
    expect(result.stderr).toMatch(/the story did not run as expected: refresh succeeded/);
  });

  describe('--report', () => {
    it('writes the page of a run whose checks failed, naming the failed check and drawing its environment', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kiln-report-'));
      try {
        const file = join(dir, 'run.html');
        const result = await runSandboxCommand([
          '--scenario',
          'instance-refresh',
          '--fleet',
          '2',
          '--quiet',
          '--bad-version',
          '1.1.0:failing-health',
          '--report',
          file,
        ]);
        expect(result.exitCode).toBe(1);
        expect(result.stdout).toContain(`report: ${file}`);
        const html = readFileSync(file, 'utf8');
        expect(html).toMatch(/^<!DOCTYPE html>/);
        expect(html).toContain('<tr class="fail"><td>FAIL</td><td>refresh succeeded</td>');
        expect(html).toContain('data-environment="web"');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('refuses a report path in a directory that does not exist, exits 1 and runs nothing', async () => {
      const result = await runSandboxCommand(['--report', '/nonexistent/dir/run.html']);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(/--report \/nonexistent\/dir\/run\.html: cannot write there/);
      expect(result.stdout).not.toContain('scenario default');
    });
  });

  it('reports an unreadable or invalid --faults file by name and runs nothing', async () => {
    const missing = await runSandboxCommand(['--faults', '/nonexistent/plan.yml']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/--faults \/nonexistent\/plan\.yml: cannot read the file/);
    expect(missing.stdout).toBe('');

    const dir = mkdtempSync(join(tmpdir(), 'kiln-faults-'));
    try {
      const plan = join(dir, 'plan.yml');
      writeFileSync(plan, '- kind: event-loss\n  probability: 2\n');
      process.exitCode = undefined;
      const invalid = await runSandboxCommand(['--faults', plan]);
      expect(invalid.exitCode).toBe(1);
      expect(invalid.stderr).toMatch(/plan\.yml: invalid fault plan: faults\[0\]\.probability/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('--settings', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'kiln-settings-'));
    });
    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('runs the story with the strategy and target group of the file, and names it in the headline', async () => {
      const file = join(dir, 'half.yml');
      writeFileSync(
        file,
        [
          'strategy:',
          '  type: rolling',
          '  minHealthyPercentage: 50',
          '  instanceWarmupSeconds: 10',
          'targetGroup:',
          '  healthCheckIntervalSeconds: 6',
          '  deregistrationDelaySeconds: 0',
          '',
        ].join('\n'),
      );
      const result = await runSandboxCommand([
        '--scenario',
        'instance-refresh',
        '--fleet',
        '4',
        '--settings',
        file,
      ]);
      expect(result.exitCode).toBeUndefined();
      expect(result.stdout).toContain(`fleet 4, settings ${file}`);
      expect(result.stdout).toContain('(MinHealthy 50 %, MaxHealthy 100 %, warmup 10 s)');
      expect(result.stdout).toContain('ok   batch sizes follow the documented rules: got [2,2]');
    });

    it('reports an invalid file naming each bad field, exits 1 and runs nothing', async () => {
      const file = join(dir, 'bad.yml');
      writeFileSync(
        file,
        'strategy:\n  type: rolling\n  minHealthyPercentage: 120\ntargetGroup:\n  deregistrationDelaySeconds: -1\n',
      );
      const result = await runSandboxCommand(['--scenario', 'instance-refresh', '--settings', file]);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toBe(
        `error: --settings ${file}: invalid story settings: strategy.minHealthyPercentage: must be between 0 and 100; targetGroup.deregistrationDelaySeconds: must be between 0 and 3600\n`,
      );
      expect(result.stdout).toBe('');
    });

    it('reports an unreadable file by name and runs nothing', async () => {
      const result = await runSandboxCommand(['--settings', join(dir, 'missing.yml')]);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(`--settings ${join(dir, 'missing.yml')}: cannot read the file`);
      expect(result.stdout).toBe('');
    });
  });

  it.each([
    [['--fleet', '0'], /--fleet must be a whole number from 1 to 2000/],
    [['--fleet', '2001'], /--fleet must be a whole number from 1 to 2000/],
    [['--seed', '-1'], /--seed must be a whole number/],
    [
      ['--scenario', 'nope'],
      /--scenario must be one of: default, instance-refresh, bake, bake-cache, bake-failure, bake-timeout, rolling, bad-release, rollback-after-complete, concurrent-artifacts, blue-green, scale-during-switch, bad-release-blue-green, alarm-rollback, drain, drain-storm, chatops, lost-events/,
    ],
    [['--fault', 'meteor'], /--fault meteor: kind/],
    [['--bad-version', '1.1.0:slow'], /mode must be errors or failing-health/],
  ])('rejects %j with an error naming the option, before running anything', async (args, message) => {
    const run = runSandboxCommand(args);
    await expect(run).rejects.toBeInstanceOf(CommanderError);
    await expect(run).rejects.toThrow(message);
  });
});
