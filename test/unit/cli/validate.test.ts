import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerValidate, type ValidateIo, type ValidateJsonResult } from '../../../cli/commands/validate';
import { isolateProcessExitCode } from '../../support/exit-code';

const ROOT = join(__dirname, '..', '..', '..');
const CHECKOUT = 'examples/checkout.yml';
const LEDGER = 'examples/ledger.yml';
const THREE_MISTAKES = 'test/fixtures/manifests/three-mistakes.yml';

/** Runs `kiln validate …` in-process with captured output and files read relative to the repo. */
async function runValidate(args: string[], files: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: ValidateIo = {
    readFile: async (path) => files[path] ?? readFileSync(join(ROOT, path), 'utf8'),
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
  };
  const program = new Command('kiln').exitOverride();
  registerValidate(program, io);
  await program.parseAsync(['validate', ...args], { from: 'user' });
  return { stdout: out.join(''), stderr: err.join(''), exitCode: process.exitCode };
}

const lines = (text: string) => text.split('\n').filter((line) => line !== '');

describe('kiln validate', () => {
  isolateProcessExitCode();

  describe('with valid files', () => {
    it('prints FILE: ok for each file and leaves the exit code alone', async () => {
      const result = await runValidate([CHECKOUT, LEDGER]);
      expect(result).toEqual({ stdout: `${CHECKOUT}: ok\n${LEDGER}: ok\n`, stderr: '', exitCode: undefined });
    });
  });

  describe('with an invalid file', () => {
    it('prints each of the three mistakes as FILE:LINE:COL message on stderr and exits 1', async () => {
      const text = readFileSync(join(ROOT, THREE_MISTAKES), 'utf8');
      const marked = text
        .split('\n')
        .flatMap((line, index) => (/ # mistake: /.test(line) ? [index + 1] : []));

      const result = await runValidate([THREE_MISTAKES]);

      const reported = lines(result.stderr);
      expect(reported).toHaveLength(3);
      for (const line of reported)
        expect(line).toMatch(/^test\/fixtures\/manifests\/three-mistakes\.yml:\d+:\d+ \S+: .+$/);
      expect(reported.map((line) => Number(line.split(':')[1]))).toEqual(marked);
      expect(reported[0]).toBe(`${THREE_MISTAKES}:24:18 bake.volumeSizeGiB: must be between 8 and 16384`);
      expect(result.stdout).toBe('');
      expect(result.exitCode).toBe(1);
    });

    it('still reports the valid files next to the invalid one', async () => {
      const result = await runValidate([CHECKOUT, THREE_MISTAKES]);
      expect(result.stdout).toBe(`${CHECKOUT}: ok\n`);
      expect(lines(result.stderr)).toHaveLength(3);
      expect(result.exitCode).toBe(1);
    });

    it('reports a YAML syntax error with its position', async () => {
      const result = await runValidate(['broken.yml'], {
        'broken.yml': 'apiVersion: kiln.dev/v1\nname: [web\n',
      });
      expect(lines(result.stderr)[0]).toMatch(/^broken\.yml:\d+:\d+ \S/);
      expect(result.exitCode).toBe(1);
    });
  });

  describe('with hostile files', () => {
    const BOMB = 'test/fixtures/manifests/alias-bomb.yml';
    const bombLine = () =>
      readFileSync(join(ROOT, BOMB), 'utf8')
        .split('\n')
        .findIndex((line) => line.startsWith('e: &e')) + 1;

    it('reports an alias bomb at FILE:LINE:COL, exits 1 and still checks the other files', async () => {
      const result = await runValidate([BOMB, CHECKOUT]);

      expect(result.stdout).toBe(`${CHECKOUT}: ok\n`);
      expect(lines(result.stderr)).toEqual([
        `${BOMB}:${bombLine()}:8 e[0]: alias *d stands for 7,381 values, which takes the manifest past the 10,000 values aliases may add (a YAML alias bomb?)`,
      ]);
      expect(result.exitCode).toBe(1);
    });

    it('refuses a file over 1 MiB by its size, exits 1 and still checks the other files', async () => {
      const result = await runValidate(['huge.yml', LEDGER], {
        'huge.yml': `#${'x'.repeat(2 * 1024 * 1024)}\n`,
      });

      expect(result.stdout).toBe(`${LEDGER}: ok\n`);
      expect(result.stderr).toBe(
        'huge.yml: file is 2,097,154 bytes (2.0 MiB); manifests are limited to 1 MiB (1,048,576 bytes)\n',
      );
      expect(result.exitCode).toBe(1);
    });

    it('reports deep nesting in words', async () => {
      const result = await runValidate(['deep.yml'], {
        'deep.yml': `a: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`,
      });

      expect(result.stderr).toBe('deep.yml:1:35 maps and lists are nested more than 32 levels deep\n');
      expect(result.exitCode).toBe(1);
    });

    it('prints valid JSON for every file with --json, the refused ones included', async () => {
      const result = await runValidate(['--json', BOMB, 'huge.yml', CHECKOUT], {
        'huge.yml': `#${'x'.repeat(2 * 1024 * 1024)}\n`,
      });
      const parsed = JSON.parse(result.stdout) as ValidateJsonResult[];

      expect(parsed).toEqual([
        {
          file: BOMB,
          valid: false,
          errors: [
            {
              line: bombLine(),
              column: 8,
              field: 'e[0]',
              message: expect.stringMatching(/^alias \*d stands for 7,381 values/),
            },
          ],
        },
        {
          file: 'huge.yml',
          valid: false,
          errors: [
            {
              line: null,
              column: null,
              field: null,
              message: 'file is 2,097,154 bytes (2.0 MiB); manifests are limited to 1 MiB (1,048,576 bytes)',
            },
          ],
        },
        { file: CHECKOUT, valid: true, errors: [] },
      ]);
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(1);
    });
  });

  describe('with an unreadable file', () => {
    it('says it cannot read the file and exits 1', async () => {
      const result = await runValidate(['missing.yml']);
      expect(result.stderr).toMatch(/^missing\.yml: cannot read file: ENOENT/);
      expect(result.exitCode).toBe(1);
    });
  });

  describe('--json', () => {
    it('prints one result per file with line, column, field and message, and exits 1 when any is invalid', async () => {
      const result = await runValidate(['--json', CHECKOUT, THREE_MISTAKES, 'missing.yml']);
      const parsed = JSON.parse(result.stdout) as ValidateJsonResult[];

      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(1);
      expect(parsed).toEqual([
        { file: CHECKOUT, valid: true, errors: [] },
        {
          file: THREE_MISTAKES,
          valid: false,
          errors: [
            { line: 24, column: 18, field: 'bake.volumeSizeGiB', message: 'must be between 8 and 16384' },
            {
              line: 33,
              column: 7,
              field: 'environments[0].strategy.instanceWarmupSecond',
              message: 'unknown key (did you mean "instanceWarmupSeconds"?)',
            },
            {
              line: 34,
              column: 22,
              field: 'environments[0].bakeTimeMinutes',
              message: 'must be 0 in the first environment: there is no earlier environment to bake in',
            },
          ],
        },
        {
          file: 'missing.yml',
          valid: false,
          errors: [
            {
              line: null,
              column: null,
              field: null,
              message: expect.stringMatching(/^cannot read file: ENOENT/),
            },
          ],
        },
      ]);
    });

    it('exits 0 when every file is valid', async () => {
      const result = await runValidate(['--json', LEDGER]);
      expect(JSON.parse(result.stdout)).toEqual([{ file: LEDGER, valid: true, errors: [] }]);
      expect(result.exitCode).toBeUndefined();
    });
  });

  describe('arguments', () => {
    it('requires at least one file', async () => {
      await expect(runValidate([])).rejects.toMatchObject({ code: 'commander.missingArgument' });
    });
  });

  describe('default wiring', () => {
    it('refuses a file on disk over 1 MiB by its size', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kiln-validate-'));
      const big = join(dir, 'big.yml');
      writeFileSync(big, `#${'x'.repeat(20 * 1024 * 1024)}\n`);
      const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
      try {
        const program = new Command('kiln').exitOverride();
        registerValidate(program);
        await program.parseAsync(['validate', big], { from: 'user' });
        expect(err).toHaveBeenCalledWith(
          `${big}: file is 20,971,522 bytes (20.0 MiB); manifests are limited to 1 MiB (1,048,576 bytes)\n`,
        );
        expect(process.exitCode).toBe(1);
      } finally {
        err.mockRestore();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('writes to the process streams when no io is given', async () => {
      const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
      const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
      try {
        const program = new Command('kiln').exitOverride();
        registerValidate(program);
        await program.parseAsync(['validate', join(ROOT, LEDGER), join(ROOT, 'missing.yml')], {
          from: 'user',
        });
        expect(out).toHaveBeenCalledWith(`${join(ROOT, LEDGER)}: ok\n`);
        expect(err).toHaveBeenCalledWith(expect.stringMatching(/missing\.yml: cannot read file: ENOENT/));
        expect(process.exitCode).toBe(1);
      } finally {
        out.mockRestore();
        err.mockRestore();
      }
    });
  });
});
