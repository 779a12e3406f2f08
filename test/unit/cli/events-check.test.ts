import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerEvents, type EventsIo } from '../../../cli/commands/events';
import type { EventCheckResult } from '../../../cli/events-check';
import { parseServerlessDocument } from '../../../sandbox/core/routes';
import { functionEventSchemas } from '../../../shared/events/function-schemas';
import { isolateProcessExitCode } from '../../support/exit-code';

const ROOT = join(__dirname, '..', '..', '..');
const AMI = 'test/fixtures/events/ec2/ami-state-change-available.json';
const S3 = 'test/fixtures/events/s3/object-created.json';
const ECR = 'test/fixtures/events/ecr/image-action-push.json';
// No Kiln function listens to instance state changes.
const UNROUTED = 'test/fixtures/events/ec2/instance-state-change-terminated.json';

/** Runs `kiln events check …` in-process with captured output; `files` adds or replaces files. */
async function runCheck(args: string[], files: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: EventsIo = {
    readFile: async (path) => files[path] ?? readFileSync(join(ROOT, path), 'utf8'),
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    defaultServerlessFile: () => join(ROOT, 'serverless.yml'),
  };
  const program = new Command('kiln').exitOverride().configureOutput({ writeErr: (text) => err.push(text) });
  registerEvents(program, io);
  let thrown: CommanderError | undefined;
  try {
    await program.parseAsync(['events', 'check', ...args], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    thrown = error;
  }
  return {
    stdout: out.join(''),
    stderr: err.join(''),
    exitCode: thrown?.exitCode ?? process.exitCode,
  };
}

const fixture = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as Record<string, unknown>;

describe('kiln events check', () => {
  isolateProcessExitCode();

  describe('an event that reaches a function that parses it', () => {
    it('prints FILE: FUNCTION parses it and leaves the exit code at 0', async () => {
      expect(await runCheck([AMI])).toEqual({
        stdout: `${AMI}: onProgress parses it\n`,
        stderr: '',
        exitCode: undefined,
      });
    });

    it("resolves the patterns with the stage's parameters (the artifact buckets)", async () => {
      const result = await runCheck([S3, '--param', 'artifactBuckets=amzn-s3-demo-bucket1']);
      expect(result).toMatchObject({ stdout: `${S3}: onArtifact parses it\n`, exitCode: undefined });
    });
  });

  describe('an event that reaches no function', () => {
    it('says so with its source and detail-type, and exits 1', async () => {
      const result = await runCheck([S3]);
      expect(result.stderr).toBe(
        `${S3}: reaches no Kiln function (source "aws.s3", detail-type "Object Created" match no deployed pattern)\n`,
      );
      expect(result.exitCode).toBe(1);
    });
  });

  describe('an event a function refuses', () => {
    it('names the field at fault and exits 1', async () => {
      const result = await runCheck([ECR]);
      expect(result.stderr).toBe(
        `${ECR}: onArtifact refuses it: detail.image-digest: must be sha256: and 64 lowercase hex digits\n`,
      );
      expect(result.exitCode).toBe(1);
    });

    it('names a missing field of an otherwise matching event', async () => {
      const event = fixture(AMI);
      const { ImageId: _imageId, ...detail } = event.detail as Record<string, unknown>;
      const result = await runCheck(['ami.json'], { 'ami.json': JSON.stringify({ ...event, detail }) });
      expect(result.stderr).toMatch(/^ami\.json: onProgress refuses it: detail\.ImageId: /);
      expect(result.exitCode).toBe(1);
    });
  });

  describe('several files', () => {
    it('checks every file and exits 1 when any one fails', async () => {
      const result = await runCheck([AMI, UNROUTED]);
      expect(result.stdout).toBe(`${AMI}: onProgress parses it\n`);
      expect(result.stderr).toContain(`${UNROUTED}: reaches no Kiln function`);
      expect(result.exitCode).toBe(1);
    });

    it('prints one result per file with --json', async () => {
      const result = await runCheck([AMI, ECR, '--json']);
      const parsed = JSON.parse(result.stdout) as EventCheckResult[];
      expect(parsed).toEqual([
        {
          file: AMI,
          source: 'aws.ec2',
          detailType: 'EC2 AMI State Change',
          problem: null,
          reached: [{ function: 'onProgress', parses: true, issues: [] }],
          ok: true,
        },
        expect.objectContaining({
          file: ECR,
          reached: [
            {
              function: 'onArtifact',
              parses: false,
              issues: [
                { field: 'detail.image-digest', message: 'must be sha256: and 64 lowercase hex digits' },
              ],
            },
          ],
          ok: false,
        }),
      ]);
      expect(result.exitCode).toBe(1);
    });
  });

  describe('bad input', () => {
    it.each([
      ['not JSON', '{"source":', /^bad\.json: is not JSON \(/],
      ['a JSON array', '[]', /^bad\.json: is not a JSON object/],
      ['larger than any event', `"${'x'.repeat(300 * 1024)}"`, /^bad\.json: is larger than 256 KiB/],
    ])('refuses a file that is %s in one line, and exits 1', async (_what, text, line) => {
      const result = await runCheck(['bad.json'], { 'bad.json': text });
      expect(result.stderr.split('\n').filter(Boolean)).toEqual([expect.stringMatching(line)]);
      expect(result.exitCode).toBe(1);
    });

    it('says a file cannot be read, and exits 1', async () => {
      const result = await runCheck(['missing.json']);
      expect(result.stderr).toMatch(/^missing\.json: cannot be read \(ENOENT/);
      expect(result.exitCode).toBe(1);
    });

    it('refuses a --param without NAME=VALUE in one line, and exits 1', async () => {
      const result = await runCheck([AMI, '--param', 'artifactBuckets']);
      expect(result.stderr.split('\n').filter(Boolean)).toEqual([
        `error: option '--param <name=value>' argument 'artifactBuckets' is invalid. --param must be NAME=VALUE (got "artifactBuckets").`,
      ]);
      expect(result.exitCode).toBe(1);
    });

    it('refuses a serverless.yml it cannot read in one line, and exits 1', async () => {
      const result = await runCheck([AMI, '--serverless', join(ROOT, 'nope.yml')]);
      expect(result.stderr).toMatch(/^error: cannot read the patterns in .*nope\.yml: ENOENT/);
      expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      expect(result.exitCode).toBe(1);
    });
  });

  describe('the schemas it parses with', () => {
    it('knows one for every function serverless.yml triggers from EventBridge (a pattern or a schedule)', () => {
      const doc = parseServerlessDocument(readFileSync(join(ROOT, 'serverless.yml'), 'utf8')) as {
        functions: Record<string, { events?: Array<Record<string, unknown>> }>;
      };
      const triggered = Object.entries(doc.functions)
        .filter(([, fn]) => (fn.events ?? []).some((event) => 'eventBridge' in event))
        .map(([name]) => name)
        .sort();
      expect(Object.keys(functionEventSchemas).sort()).toEqual(triggered);
    });
  });
});
