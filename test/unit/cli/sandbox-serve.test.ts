import { Command } from 'commander';
import { registerSandbox } from '../../../cli/commands/sandbox';

describe('kiln sandbox --serve', () => {
  let savedExitCode: typeof process.exitCode;
  let savedSecret: string | undefined;
  beforeEach(() => {
    savedExitCode = process.exitCode;
    process.exitCode = undefined;
    savedSecret = process.env.KILN_SANDBOX_SLACK_SECRET;
    delete process.env.KILN_SANDBOX_SLACK_SECRET;
  });
  afterEach(() => {
    process.exitCode = savedExitCode;
    if (savedSecret === undefined) delete process.env.KILN_SANDBOX_SLACK_SECRET;
    else process.env.KILN_SANDBOX_SLACK_SECRET = savedSecret;
  });

  async function run(args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const program = new Command('kiln').exitOverride().configureOutput({
      writeOut: (text) => out.push(text),
      writeErr: (text) => err.push(text),
    });
    registerSandbox(program, { stdout: (text) => out.push(text), stderr: (text) => err.push(text) });
    program.commands.forEach((command) => command.exitOverride());
    await program.parseAsync(['sandbox', ...args], { from: 'user' });
    return { stdout: out.join(''), stderr: err.join('') };
  }

  it('exits 1 and starts nothing without KILN_SANDBOX_SLACK_SECRET, naming the variable', async () => {
    const result = await run(['--serve', '8787']);
    expect(process.exitCode).toBe(1);
    expect(result.stderr).toBe(
      'error: --serve needs the Slack signing secret in KILN_SANDBOX_SLACK_SECRET (any string; sign requests with it)\n',
    );
    expect(result.stdout).toBe('');
  });

  it('refuses a port that is not a port number', async () => {
    await expect(run(['--serve', '70000'])).rejects.toThrow(/--serve must be a whole number from 0 to 65535/);
  });
});
