import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerPreview, type PreviewCommandIo } from '../../../cli/commands/preview';
import { isolateProcessExitCode } from '../../support/exit-code';

/**
 * `kiln preview`'s refusals: bad input is one line naming the option or the manifest field, exit
 * 1, and no rehearsal (the rehearsal itself is test/scenarios/preview.test.ts).
 */
const ROOT = join(__dirname, '..', '..', '..');

async function runPreview(args: string[], files: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: PreviewCommandIo = {
    readFile: async (path) => files[path] ?? readFileSync(join(ROOT, path), 'utf8'),
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
  };
  const program = new Command('kiln').exitOverride().configureOutput({ writeErr: (text) => err.push(text) });
  registerPreview(program, io);
  let usage: CommanderError | undefined;
  try {
    await program.parseAsync(['preview', ...args], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    usage = error;
  }
  return { stdout: out.join(''), stderr: err.join(''), exitCode: usage?.exitCode ?? process.exitCode };
}

describe('kiln preview', () => {
  isolateProcessExitCode();

  describe('refuses bad input before rehearsing anything', () => {
    it('refuses an environment the manifest does not have, naming --env and the ones it has', async () => {
      const run = await runPreview(['-f', 'examples/ledger.yml', '--env', 'qa']);
      expect(run).toEqual({
        stdout: '',
        stderr:
          'error: --env: examples/ledger.yml has no environment "qa" (it has: dev, staging, production)\n',
        exitCode: 1,
      });
    });

    it('refuses an invalid manifest, naming each field with its line', async () => {
      const text = readFileSync(join(ROOT, 'examples/checkout.yml'), 'utf8').replace(
        'minHealthyPercentage: 90',
        'minHealthyPercentage: 190',
      );
      const run = await runPreview(['-f', 'bad.yml', '--env', 'production'], { 'bad.yml': text });
      expect(run.exitCode).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(
        /^error: invalid manifest: bad\.yml:\d+:\d+ environments\[1\]\.strategy\.minHealthyPercentage: /,
      );
    });

    it('refuses a file it cannot read, naming -f', async () => {
      const run = await runPreview(['-f', 'no/such/manifest.yml', '--env', 'production']);
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toMatch(/^error: -f no\/such\/manifest\.yml: cannot read file: /);
    });

    it.each(['0', '201', 'six', '2.5'])('refuses --fleet %s, naming the option', async (fleet) => {
      const run = await runPreview(['-f', 'examples/checkout.yml', '--env', 'staging', '--fleet', fleet]);
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toContain('--fleet must be a whole number from 1 to 200.');
      expect(run.stdout).toBe('');
    });

    it('requires -f and --env', async () => {
      const run = await runPreview(['--env', 'staging']);
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toContain("required option '-f, --file <manifest>' not specified");
    });

    describe('--settings', () => {
      let dir: string;
      beforeEach(() => {
        dir = mkdtempSync(join(tmpdir(), 'kiln-preview-'));
      });
      afterEach(() => rmSync(dir, { recursive: true, force: true }));

      it('refuses a strategy section: the strategy is the manifest’s', async () => {
        const file = join(dir, 'settings.yml');
        writeFileSync(file, 'strategy:\n  type: rolling\n');
        const run = await runPreview(['-f', 'examples/checkout.yml', '--env', 'staging', '--settings', file]);
        expect(run.exitCode).toBe(1);
        expect(run.stderr).toBe(
          `error: --settings ${file}: strategy: preview takes the strategy from the manifest; give only targetGroup\n`,
        );
      });

      it('refuses a bad target group field, naming it', async () => {
        const file = join(dir, 'settings.yml');
        writeFileSync(file, 'targetGroup:\n  healthyThresholdCount: 1\n');
        const run = await runPreview(['-f', 'examples/checkout.yml', '--env', 'staging', '--settings', file]);
        expect(run.exitCode).toBe(1);
        expect(run.stderr).toMatch(
          /^error: --settings .*: invalid story settings: targetGroup\.healthyThresholdCount: /,
        );
      });
    });
  });
});
